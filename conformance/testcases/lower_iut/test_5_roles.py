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

    It never copies the vtnID of its upper EMA into messages to its lower EMAs."""
    await link.registered()
    await link.reregister()
    await link.settled()
    for exchange in iut_requests(trace):
        message = exchange.request_message
        if message is None:
            continue
        body = message.body.get("eiCreatedEvent", message.body.get("eiRequestEvent", message.body))
        if body.get("venID") not in (None, link.ven_id):
            raise fail("EMAP-5-08", f"as lower EMA the IUT sent {message.name} with venID {body.get('venID')!r}; "
                                    f"its upper EMA assigned {link.ven_id!r}")
    child = LowerPeer(trace=trace, timing=timing, iut_uri=iut.base_uri, pull=True, name="child")
    try:
        posted = await child.register()
    finally:
        await child.stop()
    answer = posted.message
    if answer is None or answer.name != "emapCreatedPartyRegistration":
        raise Inconclusive("precondition: the intermediate IUT's upper side did not answer a registration")
    vtn_id = answer.body["vtnID"]
    if vtn_id == link.peer.vtn_id:
        raise fail("EMAP-5-08", f"as upper EMA the IUT uses vtnID {vtn_id!r}, the vtnID of its own upper EMA")
