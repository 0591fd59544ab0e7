"""Fixtures of the transport test cases: the IUT as a CoAP server (``server``) and as a requester (``requester``).

The reference lower EMAs (``lower``, upper IUT) and the session's reference upper EMA (``upper_peer``, ``link``,
lower IUT) are those of the role test cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conformance.peer import IdSource
from conformance.peer.transport_faults import server_tap
from conformance.peer.transport_probe import TransportProbe
from conformance.testcases.lower_iut.conftest import link, listening_peer, upper_peer  # noqa: F401  (shared)
from conformance.testcases.upper_iut.conftest import lower, registered  # noqa: F401
from conformance.verdict import Inconclusive

from .support import ServerIut, cancel_registrations


@dataclass
class Counterparts:
    """The role fixtures a transport test may use: ``lower`` (factory of reference lower EMAs, upper IUT) or
    ``upper_peer`` and ``link`` (the session's reference upper EMA, lower IUT)."""

    iut: object
    lower: object = None
    upper_peer: object = None
    link: object = None


@pytest.fixture
def counterparts(request, profile) -> Counterparts:
    """Resolved here (a plain fixture) in the order the IUT needs: the reference upper EMA listens before a lower
    IUT starts."""
    if profile.role in ("upper", "intermediate"):
        return Counterparts(request.getfixturevalue("iut"), lower=request.getfixturevalue("lower"))
    peer = request.getfixturevalue("upper_peer")
    return Counterparts(request.getfixturevalue("iut"), upper_peer=peer, link=request.getfixturevalue("link"))


@pytest.fixture
async def server(counterparts, trace, timing, seed):
    """The IUT as a CoAP server: the upper base URI of an upper/intermediate IUT, else a push-mode lower IUT's
    base URI."""
    iut = counterparts.iut
    if counterparts.upper_peer is None:
        side, uri, ven_id = "U", iut.base_uri, None
    else:  # registered first: its messages carry the venID the IUT holds
        await counterparts.link.registered()
        side, uri, ven_id = "L", iut.lower_uri, counterparts.upper_peer.ven_id
    if not uri:
        raise Inconclusive(f"the IUT's {'upper' if side == 'U' else 'lower'} base URI is not known (PIXIT iut)")
    probe = TransportProbe(trace, timing, uri, seed=seed)
    await probe.start()
    current = ServerIut(side, uri, probe, IdSource(), ven_id)
    try:
        yield current
    finally:
        if side == "U":
            await cancel_registrations(current, trace)
        await probe.stop()


@pytest.fixture
async def link_or_none(counterparts):
    """The registered link of a lower IUT (to observe effects on it), None for an upper IUT."""
    if counterparts.link is not None:
        await counterparts.link.registered()
    return counterparts.link


@dataclass
class Requester:
    """Makes the IUT send one request carrying a requestID to a reference peer whose server-side tap
    (``tap``) the test may fault; ``path_suffix`` names the resource that request goes to."""

    side: str
    tap: object
    path_suffix: str
    provoke: object  # async () -> None
    peer: object
    prompt: float

    def arm(self, plan) -> None:
        self.tap.faults = plan


@pytest.fixture
async def requester(counterparts, timing):
    """Upper IUT: a push-mode reference lower EMA; registering it makes U push its ``emapRegisterReport``
    (EMAP-6.2.3-11) to EiReport. Lower IUT: the session's reference upper EMA; the create-registration stimulus
    (with the current registrationID) makes L re-register at EiRegisterParty. The fault plan is removed at the end."""
    prompt = timing.t_prompt_s + timing.tolerance_s
    if counterparts.link is None:
        peer = await counterparts.lower(pull=False, register=False, name="Lpush")
        await peer.serve()

        async def provoke() -> None:
            await registered(peer, settle=False)

        current = Requester("U", server_tap(peer), "/EiReport", provoke, peer, prompt)
        try:
            yield current
        finally:
            current.tap.faults = None
        return
    link_now = counterparts.link
    await link_now.registered()

    async def provoke() -> None:
        await link_now.act("create-registration", {"registrationID": link_now.peer.link.registration_id})

    current = Requester("L", server_tap(link_now.peer), "/EiRegisterParty", provoke, link_now.peer, prompt)
    try:
        yield current
    finally:
        current.tap.faults = None
        await link_now.peer.wait_for(lambda: link_now.peer.registered, link_now.exchange_timeout + prompt)
