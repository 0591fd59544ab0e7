"""Transport, clause 7.1.2: push and pull: the link's mode follows the latest registration, U pushes to the announced
address only in push mode, a push-mode L serves its resources."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.messages import build as B
from conformance.peer.transport_faults import server_tap
from conformance.testcases.marker import emap_test
from conformance.transport.tap import format_address
from conformance.verdict import Inconclusive

from .support import LOWER_PUSH, UPPER, describe, fail, iut_exchanges


def accepted(posted) -> bool:
    message = posted.message
    return posted.code == "2.04" and message is not None and message.response_code == "200"


async def await_push(peer, stimulus, timeout: float):
    """The first request U pushes to ``peer`` (its post-registration emapRegisterReport, else the event a
    create-event stimulus makes), or None."""
    item = await peer.next_request(None, timeout=timeout)
    if item is None:
        outcome = await stimulus.stimulate("create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
        if outcome.status == "accepted":
            item = await peer.next_request(None, timeout=timeout)
    return item


@emap_test("TC-T-7.1.2-01", requirements=["EMAP-7.1.2-01", "EMAP-7.1.2-02", "EMAP-7.1.2-04"], applies=UPPER)
async def test_mode_follows_latest_registration(counterparts, trace, stimulus):
    """The link's mode follows the latest registration: after a push re-registration U POSTs to the announced
    emapTransportAddress (not the source address); after a pull re-registration it sends no CoAP request to L."""
    peer = await counterparts.lower(pull=True, name="Lmode")
    announced = await peer.serve()
    wait = peer.prompt + peer.exchange_timeout
    if not accepted(await peer.register(pull=False, reregister=True)):
        raise Inconclusive("precondition: the push-mode re-registration was not accepted")
    if await await_push(peer, stimulus, wait) is None:
        raise Inconclusive("U sent no request after the push re-registration (no emapRegisterReport, no "
                           "create-event stimulus)")
    served_by = format_address(server_tap(peer).target)  # what the tap at the announced address records
    base = urlsplit(announced).path
    for exchange in iut_exchanges(trace):
        if exchange.request.dst != served_by or not exchange.path.startswith(base + "/"):
            raise fail("EMAP-7.1.2-02", f"U sent a request that did not go to a resource under the announced "
                                        f"{announced}; wire: {describe(exchange)}")
    if not accepted(await peer.register(pull=True, reregister=True)):
        raise Inconclusive("precondition: the pull-mode re-registration was not accepted")
    switched_at = trace.records[-1].seq
    await stimulus.stimulate("create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
    await peer.receive(("emapRegisterReport", "emapDistributeEvent"), timeout=peer.prompt + peer.poll_interval)
    late = [ex for ex in iut_exchanges(trace) if ex.request.seq > switched_at]
    if late:
        raise fail("EMAP-7.1.2-04", f"U sent a CoAP request to L after L re-registered in pull mode; wire: "
                                    f"{describe(late[0])}")
    if not any(ex.request.seq > switched_at for ex in trace.exchanges() if ex.direction == "to-iut"
               and ex.path.endswith("/EmapPoll") and ex.response_message is not None
               and ex.response_message.name != "emapResponse"):
        raise Inconclusive("after the pull re-registration U delivered nothing as a poll reply, so the pull "
                           "mode is not shown (its emapRegisterReport, EMAP-6.2.3-11, is judged by the "
                           "registration tests)")


@emap_test("TC-T-7.1.2-02", requirements=["EMAP-7.1.2-03", "EMAP-7.1.2-01"], applies=LOWER_PUSH)
async def test_push_lower_serves_resources(counterparts, trace):
    """A registered push-mode L answers requests at EiRegisterParty, EiEvent and EiReport under its
    emapTransportAddress."""
    link = counterparts.link
    await link.registered()
    peer = link.peer
    address = peer.link.transport_address
    unknown = B.cancel_report(peer.ids("xr"), peer.ven_id, [peer.ids("none")])
    probes = {
        "EiRegisterParty": unknown,  # accepted nowhere there: 459 is still an answer of that resource
        "EiEvent": link.distribute(link.event()),
        "EiReport": unknown,
    }
    for resource, message in probes.items():
        await peer.send(message, resource=resource, pull=False, timeout=link.exchange_timeout)
        base = urlsplit(address).path
        found = [ex for ex in trace.exchanges() if ex.direction == "to-iut" and ex.path == f"{base}/{resource}"]
        if not found:
            raise RuntimeError(f"the POST to {resource} is missing from the trace")
        exchange = found[-1]
        if exchange.code != "2.04" or exchange.response_message is None:
            raise fail("EMAP-7.1.2-03", f"{resource} under the emapTransportAddress {address} did not answer "
                                        f"with 2.04 and a message; wire: {describe(exchange)}")
