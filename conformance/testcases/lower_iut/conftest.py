"""Fixtures of the lower-IUT test cases: one reference upper EMA for the whole session, switched to each test's trace.

The IUT (a lower EMA, or an intermediate EMA's lower side) is configured to use the PIXIT ``peer`` address as its
upper EMA, so the peer listens there before the IUT starts and stays for the session; each test gets a
``LowerLink`` whose traffic is recorded into that test's trace.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from conformance.peer.upper import UpperPeer
from conformance.transport.trace import Trace

from .support import LowerLink

DEFAULT_PEER_PATH = ("emap",)


def peer_path(profile) -> tuple[str, ...]:
    """Base path of the peer's URI in PIXIT ``peer`` (default ``/emap``)."""
    uri = profile.pixit.get("peer") or ""
    return tuple(seg for seg in urlsplit(uri).path.split("/") if seg) or DEFAULT_PEER_PATH


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def listening_peer(profile, timing, peer_endpoint):
    """The reference upper EMA, listening where the IUT expects its upper EMA (before the IUT starts)."""
    peer = UpperPeer(trace=Trace("between tests"), timing=timing, poll_freq_s=profile.pixit["poll_freq_s"],
                     serve_path=peer_path(profile))
    await peer.serve_at(peer_endpoint)
    yield peer
    await peer.stop()


@pytest.fixture(scope="session")
def upper_peer(listening_peer, iut):
    """The listening reference upper EMA once the IUT runs (fixture order: the peer listens first)."""
    return listening_peer


@pytest_asyncio.fixture(loop_scope="session")
async def link(upper_peer, trace, timing, profile, stimulus):
    """The current test's ``LowerLink`` (traffic recorded into its trace); the IUT is registered unless the test
    asks otherwise with ``link.peer`` directly."""
    upper_peer.use_trace(trace)
    current = LowerLink(upper_peer, trace, timing, profile, stimulus)
    yield current
    upper_peer.use_trace(Trace("between tests"))
