"""Sessions that make an IUT send a broad variety of messages (the material of the sender-side Annex B tests).

Every step is best effort: a stimulus the IUT refuses or does not support only narrows the variety; what the IUT
did send is judged from the trace.
"""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages.timefmt import format_datetime, utc_now
from conformance.testcases.upper_iut.support import flip_case, lower_status_request, try_act
from conformance.verdict import Inconclusive

#: create-event signals of several kinds (interfaces.md section 3), itemBase included (EMAP-B-12).
SIGNALS = [
    {"signalName": "SIMPLE", "signalType": "level", "intervals": [{"duration": "PT10M", "value": 1},
                                                                  {"duration": "PT20M", "value": 2}]},
    {"signalName": "ELECTRICITY_PRICE", "signalType": "price", "intervals": [{"duration": "PT30M", "value": 0.25}],
     "itemBase": B.item_base("currencyPerKWh", units="EUR")},
    {"signalName": "LOAD_CONTROL", "signalType": "x-loadControlCapacity",
     "intervals": [{"duration": "PT30M", "value": 0.5}]},
    {"signalName": "LOAD_DISPATCH", "signalType": "delta", "intervals": [{"duration": "PT30M", "value": -1.5}],
     "itemBase": B.item_base("powerReal", scale="k")},
]


async def _event(stimulus, ven_id: str, **args) -> bool:
    """create-event with several signal kinds, else a plain one."""
    if await try_act(stimulus, "create-event", {"venID": ven_id, "signals": SIGNALS, "rampUp": "PT5M", **args}):
        return True
    return await try_act(stimulus, "create-event", {"venID": ven_id, **args})


async def upper_session(lower, stimulus) -> None:
    """Registration answers, poll replies, events, metadata, report and opt answers and errors from an upper IUT."""
    peer = await lower(pull=True)
    await peer.query()
    await peer.query(with_ven_id=False)
    if await _event(stimulus, peer.ven_id):
        await peer.receive("emapDistributeEvent", timeout=peer.prompt)
    await _event(stimulus, peer.ven_id, startAfter_s=-60, responseRequired="never")
    await peer.request_event()
    opt_id = peer.ids("opt")
    await peer.create_opt(opt_id, availability=[(utc_now(), "PT1H")])
    await peer.cancel_opt(opt_id)
    await peer.register_report()
    await peer.create_report([B.report_request(peer.ids("rq"), "METADATA")])
    await peer.cancel_report([peer.ids("rq-unknown")])
    await peer.post("EiEvent", B.request_event(peer.ids("re"), flip_case(peer.ven_id)))
    await peer.cancel_opt(peer.ids("opt-unknown"))
    if peer.metadata and await try_act(stimulus, "request-report", lower_status_request(peer)):
        await peer.receive("emapCreateReport", timeout=peer.prompt)
    await peer.update_report([B.data_report(peer.ids("rq"), peer.ids("rs"), "TELEMETRY_STATUS",
                                            [B.data_interval(utc_now(), "PT0S", [B.report_payload(peer.ids("r"))])])])
    await peer.drain()
    pusher = await lower(pull=False, name="push")
    if await _event(stimulus, pusher.ven_id):
        await pusher.receive("emapDistributeEvent", timeout=pusher.prompt)
    if await try_act(stimulus, "request-reregistration", {"venID": pusher.ven_id}):
        await pusher.receive("emapRequestReregistration", timeout=pusher.prompt)
    if await try_act(stimulus, "cancel-registration", {"venID": peer.ven_id}):
        await peer.receive("emapCancelPartyRegistration", timeout=peer.prompt)


def _report(link, name: str) -> tuple[str, str] | None:
    """(reportSpecifierID, first rID) of the IUT's metadata report ``name``, None when not offered."""
    for report in link.peer.lower_metadata:
        if report.get("reportName") == name and report.get("emapReportDescription"):
            return report["reportSpecifierID"], report["emapReportDescription"][0]["rID"]
    return None


async def lower_session(link) -> None:
    """Created events, metadata, report answers and reports, opts, queries and errors from a lower IUT."""
    await link.registered()
    peer, ven_id = link.peer, link.ven_id
    several = [B.signal([("PT10M", 1), ("PT20M", 2)]),
               B.signal([("PT30M", 0.25)], name="ELECTRICITY_PRICE", signal_type="price", signal_id="sig-1",
                        item_base=B.item_base("currencyPerKWh", units="EUR"))]
    await link.deliver(link.distribute(link.event(signals=several, ramp_up="PT5M"),
                                       link.event(response_required="never")))
    await link.deliver(link.distribute(link.event(), vtn_id=flip_case(peer.vtn_id)))
    await link.deliver(B.register_report(peer.ids("rr"), ven_id))
    target = _report(link, "METADATA_TELEMETRY_STATUS") or _report(link, "METADATA_TELEMETRY_USAGE")
    if target is not None:
        await link.deliver(B.create_report(peer.ids("cr"), ven_id, [B.report_request(peer.ids("rq"), target[0],
                                                                                      [target[1]])]))
        await link.next_request("emapUpdateReport", link.prompt)
    await link.deliver(B.cancel_report(peer.ids("xr"), ven_id, [peer.ids("rq")]))
    for action, args, name in (
            ("query-registration", {}, "emapQueryRegistration"),
            ("request-event", {"replyLimit": 2}, "emapRequestEvent"),
            ("register-report", {}, "emapRegisterReport"),
            ("create-opt", {"optID": peer.ids("opt"), "optType": "optOut", "optReason": "x-schedule",
                            "availability": [{"dtstart": format_datetime(utc_now()), "duration": "PT1H"}]},
             "emapCreateOpt")):
        if await _try(link, action, args):
            await link.next_request(name, link.prompt)
    before = peer.registrations
    await link.deliver(B.request_reregistration(ven_id))
    await peer.wait_for(lambda: peer.registrations > before, link.prompt + link.exchange_timeout)
    await link.settled()


async def _try(link, action: str, args: dict) -> bool:
    """A stimulus the IUT does not support only narrows the variety."""
    try:
        return await link.try_act(action, args) == "accepted"
    except Inconclusive:
        return False
