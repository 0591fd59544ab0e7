"""Fixtures giving test cases the session's reference upper EMA for a lower (or intermediate) IUT.

The IUT is configured to use the PIXIT ``peer`` address as its upper EMA, so the peer listens there before the IUT
starts and stays for the whole session; each test gets a ``LowerLink`` recording into its own trace. Only one peer
can listen at that address: every conftest that re-exports these fixtures shares the one peer kept in the pytest
config's stash (the last user stops it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from conformance.peer.upper import UpperPeer
from conformance.transport.trace import Trace

from .support import LowerLink

DEFAULT_PEER_PATH = ("emap",)
SHARED_PEER = pytest.StashKey[dict]()


def peer_path(profile) -> tuple[str, ...]:
    """Base path of the peer's URI in PIXIT ``peer`` (default ``/emap``)."""
    uri = profile.pixit.get("peer") or ""
    return tuple(seg for seg in urlsplit(uri).path.split("/") if seg) or DEFAULT_PEER_PATH


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def listening_peer(pytestconfig, profile, timing, peer_endpoint):
    """The reference upper EMA, listening where the IUT expects its upper EMA (before the IUT starts)."""
    shared = pytestconfig.stash.setdefault(SHARED_PEER, {"peer": None, "users": 0})
    if shared["peer"] is None:
        peer = UpperPeer(trace=Trace("between tests"), timing=timing, poll_freq_s=profile.pixit["poll_freq_s"],
                         serve_path=peer_path(profile))
        await peer.serve_at(peer_endpoint)
        shared["peer"] = peer
    shared["users"] += 1
    yield shared["peer"]
    shared["users"] -= 1
    if shared["users"] == 0:
        await shared["peer"].stop()
        shared["peer"] = None


@pytest.fixture(scope="session")
def upper_peer(listening_peer, iut):
    """The listening reference upper EMA once the IUT runs (fixture order: the peer listens first)."""
    return listening_peer


@pytest_asyncio.fixture(loop_scope="session")
async def link(upper_peer, trace, timing, profile, stimulus):
    """The current test's ``LowerLink``: the peer records into the test's trace, with default answers."""
    upper_peer.use_trace(trace)
    current = LowerLink(upper_peer, trace, timing, profile, stimulus)
    yield current
    upper_peer.use_trace(Trace("between tests"))
