"""Lower-EMA IUT, clause 5 roles: registration mode, and an intermediate EMA's endpoint and identities."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.peer import LowerPeer
from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .support import fail, iut_requests

INTERMEDIATE = 'role == "intermediate"'


def authority(uri: str) -> tuple[str, int]:
    parts = urlsplit(uri)
    return parts.hostname, parts.port or 5683


@emap_test("TC-L-5-01", requirements=["EMAP-5-07"], applies=f'{INTERMEDIATE} and mode == "push"')
async def test_intermediate_one_endpoint_two_paths(link, trace, iut):
    """The intermediate IUT serves its lower-EMA resources on its upper-EMA endpoint under another base path.

    Its emapTransportAddress has the host and port of its upper base URI and a distinct base path."""
    await link.registered()
    address = link.peer.link.transport_address
    if address is None:
        raise Inconclusive("the IUT registered in pull mode: it serves no lower-EMA resources")
    if authority(address) != authority(iut.base_uri):
        raise fail("EMAP-5-07", f"lower base URI {address} and upper base URI {iut.base_uri} are not on one "
                                "endpoint")
    if urlsplit(address).path.rstrip("/") == urlsplit(iut.base_uri).path.rstrip("/"):
        raise fail("EMAP-5-07", f"lower and upper base URIs share the base path {urlsplit(address).path}")
    sent = await link.deliver(link.distribute(link.event()))
    exchange = next(ex for ex in trace.exchanges() if ex.direction == "to-iut" and ex.request_payload == sent.payload)
    if exchange.code != "2.04":
        raise fail("EMAP-5-07", f"the lower-EMA resource EiEvent under {address} answered {exchange.code}")


@emap_test("TC-L-5-02", requirements=["EMAP-5-08"], applies=INTERMEDIATE)
async def test_intermediate_keeps_own_ids(link, trace, iut, timing):
    """The intermediate IUT uses its assigned venID as lower EMA and its own vtnID as upper EMA.

    It never copies the vtnID of its upper EMA into messages to its lower EMAs: not in a registration answer, not
    in what it sends a lower EMA after its own upper EMA distributed an event."""
    unfinished = None
    try:
        await link.registered()
        await link.reregister()
        await link.settled()
    except Inconclusive as why:  # the wire may already show the fault (e.g. a re-registration refused for it)
        unfinished = why
    assigned = link.ven_id
    for exchange in iut_requests(trace):
        message = exchange.request_message
        if message is None:
            continue
        body = message.body.get("eiCreatedEvent", message.body.get("eiRequestEvent", message.body))
        if assigned and body.get("venID") not in (None, assigned):
            raise fail("EMAP-5-08", f"as lower EMA the IUT sent {message.name} with venID {body.get('venID')!r}; "
                                    f"its upper EMA assigned {assigned!r}")
    if unfinished:
        raise unfinished
    child = LowerPeer(trace=trace, timing=timing, iut_uri=iut.base_uri, pull=True, name="child")
    try:
        answer = (await child.register()).message
        if answer is None or answer.name != "emapCreatedPartyRegistration" or answer.response_code != "200":
            raise Inconclusive("precondition: the intermediate IUT's upper side did not accept a registration")
        if answer.body["vtnID"] == link.peer.vtn_id:
            raise fail("EMAP-5-08", f"as upper EMA the IUT uses vtnID {link.peer.vtn_id!r}, the vtnID of its own "
                                    "upper EMA")
        await link.deliver(link.distribute(link.event()))
        seen: list = []
        relayed = await child.receive("emapDistributeEvent", timeout=link.prompt + child.poll_interval, seen=seen)
    finally:
        await child.stop()
    copied = [m for m in [*seen, relayed] if m is not None and m.body.get("vtnID") == link.peer.vtn_id]
    if copied:
        raise fail("EMAP-5-08", f"the IUT sent its lower EMA {copied[0].name} with vtnID {link.peer.vtn_id!r}, "
                                "the vtnID of its own upper EMA")
