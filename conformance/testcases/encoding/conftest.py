"""Fixtures of the Annex B test cases: the role fixtures (``lower`` for an upper IUT; the session's ``upper_peer``
and ``link`` for a lower IUT) and ``iut_sent``, a session that made the IUT send a variety of messages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conformance.testcases.lower_iut.fixtures import link, listening_peer, upper_peer  # noqa: F401  (shared)
from conformance.testcases.upper_iut.conftest import lower  # noqa: F401

from .drive import lower_session, upper_session


@dataclass(frozen=True)
class Counterpart:
    """The side of the IUT whose messages are judged ("U" or "L") and the reference peer facing it."""

    side: str
    peer: object


@pytest.fixture
def counterpart(request, profile) -> Counterpart:
    """Resolved in the order the IUT needs: the reference upper EMA listens before a lower IUT starts."""
    if profile.role in ("upper", "intermediate"):
        return Counterpart("U", request.getfixturevalue("lower"))
    return Counterpart("L", request.getfixturevalue("link"))


@pytest.fixture
async def iut_sent(counterpart, trace, stimulus) -> str:
    """Drive a varied session (the IUT's sending side of its role) and return that side, "U" or "L"."""
    if counterpart.side == "U":
        await upper_session(counterpart.peer, stimulus)
    else:
        await lower_session(counterpart.peer)
    return counterpart.side
