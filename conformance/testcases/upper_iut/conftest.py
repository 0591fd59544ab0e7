"""Fixtures of the upper-IUT test cases: fresh lower EMAs (reference peers) per test."""

from __future__ import annotations

import pytest

from conformance.messages import build as B
from conformance.peer import LowerPeer
from conformance.transport import Trace, TransportError
from conformance.verdict import Inconclusive


async def registered(peer: LowerPeer, *, settle: bool = True, **register_args) -> LowerPeer:
    """Register ``peer`` (precondition of most tests: refused -> Inconclusive) and, with ``settle``, take U's
    post-registration emapRegisterReport (EMAP-6.2.3-11) so the link starts quiet."""
    posted = await peer.register(**register_args)
    message = posted.message
    if posted.code != "2.04" or message is None or message.response_code != "200" or not peer.registered:
        shown = f"{posted.code} {message.name if message else ''} {message.response_code if message else ''}"
        raise Inconclusive(f"precondition: registration of {peer.name} was not accepted ({shown.strip()})")
    if settle:
        if peer.pull:
            await peer.receive("emapRegisterReport", timeout=peer.prompt)
            await peer.drain()
        else:
            item = await peer.next_request("emapRegisterReport", timeout=peer.prompt)
            if item is not None:
                await peer.answered(item)
    return peer


@pytest.fixture
async def lower(iut, trace, timing):
    """Factory of lower EMAs: ``await lower(pull=True, name="L1", register=True, settle=True, **register_args)``.

    Each call makes a new peer with fresh identities (the IUT keeps state across tests); all are stopped at the
    end of the test.
    """
    peers: list[LowerPeer] = []

    async def make(*, pull: bool = True, name: str | None = None, register: bool = True, settle: bool = True,
                   **register_args) -> LowerPeer:
        peer = LowerPeer(trace=trace, timing=timing, iut_uri=iut.base_uri, pull=pull,
                         name=name or f"L{len(peers) + 1}")
        peers.append(peer)
        await peer.start()
        if register:
            await registered(peer, settle=settle, **register_args)
        return peer

    yield make
    for peer in peers:
        await leave(peer)
        await peer.stop()


async def leave(peer: LowerPeer) -> None:
    """Cancel a registration the test left behind, outside the test's trace, so the IUT does not keep pushing
    to a peer that is gone; failures here are not the test's business."""
    if not peer.registered:
        return
    peer.use_trace(Trace(f"{peer.name} teardown"))
    message = B.cancel_party_registration(peer.ids("x"), peer.registration_id, peer.ven_id)
    try:
        await peer.post("EiRegisterParty", message, timeout=peer.prompt, expect_answer=False)
    except TransportError:
        pass
