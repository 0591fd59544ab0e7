"""Stimulus actions of the upper EMA (interfaces.md section 3, ICS-12).

Status: "accepted" (the EMA acts), "refused" (the binding forbids the action or its arguments in this state;
the EMA sends nothing), "unsupported" (not an action of an upper EMA), "error" (malformed arguments, an
unknown `eventID`, a `venID` naming no registered lower EMA, or a `venID` that must be given)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from conformance.ema.upper.events import Event, Signal
from conformance.ema.upper.links import Link
from conformance.ema.upper.outbound import Outgoing
from conformance.ema.upper.reporter import METADATA
from conformance.messages import build, timefmt
from conformance.messages.rules import REPORT_KINDS, event_rules

if TYPE_CHECKING:
    from conformance.ema.upper.ema import UpperEma

DEFAULT_START_AFTER_S = 3600.0
DEFAULT_INTERVALS = [(3600.0, 1.0)]
LOWER_ACTIONS = frozenset(
    {"query-registration", "create-registration", "request-event", "create-opt", "cancel-opt", "poll"}
)


class StimulusFailure(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _error(detail: str) -> StimulusFailure:
    return StimulusFailure("error", detail)


def _refused(detail: str) -> StimulusFailure:
    return StimulusFailure("refused", detail)


# Argument readers: a wrong type is an "error" naming the member.


def _get(args: dict, name: str, types, default=None):
    value = args.get(name, default)
    if value is not None and (
        not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types)
    ):
        raise _error(f"{name}: {value!r} has the wrong type")
    return value


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _seconds(value, name: str) -> float:
    """A duration given as seconds (number) or as a Table B-3 duration string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _error(f"{name}: {value!r} is not a duration")
    if isinstance(value, str):
        try:
            return timefmt.parse_duration(value)
        except ValueError as exc:
            raise _error(f"{name}: {exc}") from None
    if value < 0:
        raise _error(f"{name}: negative duration {value!r}")
    return float(value)


def _intervals(value, name: str) -> list[tuple[float, float]]:
    if not isinstance(value, list) or not value:
        raise _error(f"{name}: a non-empty list of {{duration, value}} objects is needed")
    pairs = []
    for k, item in enumerate(value):
        if not isinstance(item, dict) or "duration" not in item or "value" not in item:
            raise _error(f"{name}[{k}]: needs duration and value")
        number = item["value"]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _error(f"{name}[{k}].value: {number!r} is not a number")
        pairs.append((_seconds(item["duration"], f"{name}[{k}].duration"), float(number)))
    return pairs


def _signal(spec: dict, name: str, base: Signal | None = None) -> Signal:
    signal_name = _get(spec, "signalName", str, base.name if base else "SIMPLE")
    signal_type = _get(
        spec, "signalType", str, base.signal_type if base and base.name == signal_name else None
    )
    if signal_type is None:
        if signal_name != "SIMPLE":
            raise _error(f"{name}: signalType is needed with signalName {signal_name!r}")
        signal_type = "level"
    intervals = (
        _intervals(spec["intervals"], f"{name}.intervals")
        if "intervals" in spec
        else (base.intervals if base else DEFAULT_INTERVALS)
    )
    item_base = _get(spec, "itemBase", dict, base.item_base if base and base.name == signal_name else None)
    return Signal(signal_name, signal_type, intervals, item_base)


def _signals(args: dict, current: list[Signal] | None) -> list[Signal] | None:
    """The signals the arguments set (`signals`, or the single-signal members), None when they set none."""
    if "signals" in args:
        specs = args["signals"]
        if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
            raise _error("signals: a non-empty list of signal objects is needed")
        return [_signal(spec, f"signals[{k}]") for k, spec in enumerate(specs)]
    if any(member in args for member in ("signalName", "signalType", "intervals")):
        first = _signal(args, "signal", current[0] if current else None)
        return [first] + (current[1:] if current else [])
    return None if current else [_signal({}, "signal")]


def _link(ema: UpperEma, args: dict) -> Link:
    """Note †: the named registered lower EMA, or the only one registered."""
    ven_id = _get(args, "venID", str)
    links = list(ema.registry)
    if ven_id is None:
        if len(links) != 1:
            raise _error(f"venID is needed: {len(links)} lower EMAs are registered")
        return links[0]
    link = ema.registry.by_ven(ven_id)
    if link is None:
        raise _error(f"venID {ven_id!r} names no registered lower EMA")
    return link


def _queue(ema: UpperEma, link: Link, item: Outgoing) -> tuple[str, str]:
    if not ema.send(link, item):
        raise _error(f"cannot queue {item.name} for {link.ven_id}: outbound queue full")
    return "accepted", f"{item.name} queued for {link.ven_id}"


# Events


def _apply_event_args(ema: UpperEma, event: Event, args: dict, now: datetime) -> None:
    """Set the members the arguments name on ``event`` (create-event and modify-event)."""
    signals = _signals(args, event.signals)
    if signals is not None:
        event.signals = signals
    if "startAfter_s" in args:
        event.dtstart = now + timedelta(seconds=_get(args, "startAfter_s", int | float))
    event.response_required = _get(args, "responseRequired", str, event.response_required)
    if event.response_required not in ("always", "never"):
        raise _error(f"responseRequired: {event.response_required!r} is not always or never")
    event.market_context = _get(args, "marketContext", str, event.market_context)
    event.priority = _get(args, "priority", int, event.priority)
    if event.priority is not None and event.priority < 0:
        raise _error(f"priority: {event.priority} is negative")
    event.opt_change_allowed = _get(args, "optChangeAllowed", bool, event.opt_change_allowed)
    if "optChangeDeadline_s" in args:
        event.opt_change_deadline = now + timedelta(seconds=_get(args, "optChangeDeadline_s", int | float))
    if "rampUp" in args:
        event.ramp_up = _seconds(args["rampUp"], "rampUp")
    if "baseline" in args:
        baseline = _get(args, "baseline", dict)
        event.baseline = _intervals(baseline.get("intervals"), "baseline.intervals")
    if "eiTarget" in args:
        event.target = _get(args, "eiTarget", dict)
        event.recipient = _get(args, "venID", str)
    elif "venID" in args:
        event.recipient = _get(args, "venID", str)
        event.target = {"venID": [event.recipient]}
    if event.recipient is None and event.target and "venID" not in event.target:
        links = list(ema.registry)
        event.recipient = links[0].ven_id if len(links) == 1 else None


def _check_event(event: Event, now: datetime) -> None:
    """Refuse content the binding forbids U to send (Table 6.3-2, EMAP-6.3.1-04/-05/-07, EMAP-A-03)."""
    if event.opt_change_deadline is not None and event.opt_change_allowed is not True:
        raise _refused("optChangeDeadline_s needs optChangeAllowed true (EMAP-A-03)")
    if any(length == 0 for signal in event.signals for length, _ in signal.intervals[:-1]):
        raise _refused("only the last interval may have duration PT0S (open-ended event, EMAP-6.3.1-04)")
    body = {"emapEvent": [event.render("ven", now, opt_change=True)]}
    violations = [v for v in event_rules(body, now) if v.requirement_id != "EMAP-6.3.1-03"]
    if violations:
        first = violations[0]
        raise _refused(f"{first.requirement_id}: {first.text} ({first.pointer})")


def _announce(ema: UpperEma, event: Event, before: set[str]) -> str:
    """EMAP-6.3.2-01: an `emapDistributeEvent` to every registered lower EMA the event addresses (or did)."""
    sent = [
        link.ven_id
        for link in ema.registry
        if (link.ven_id in before or event.addresses(link.ven_id)) and ema.distribute(link)
    ]
    return ", ".join(sent) or "no registered lower EMA"


def create_event(ema: UpperEma, args: dict) -> tuple[str, str]:
    now = timefmt.utc_now()
    event_id = _get(args, "eventID", str)
    if event_id is not None and event_id in ema.events.used_ids:
        raise _refused(f"eventID {event_id!r} is already used (EMAP-6.3.1-01)")
    if "eiTarget" not in args and "venID" not in args:
        _link(ema, args)  # the event targets the only registered lower EMA
        args = {**args, "venID": next(iter(ema.registry)).ven_id}
    event = Event(
        event_id or ema.ids.new("ev", lambda v: v in ema.events.used_ids),
        created=now,
        dtstart=now + timedelta(seconds=DEFAULT_START_AFTER_S),
        signals=[],
    )
    _apply_event_args(ema, event, args, now)
    _check_event(event, now)
    if not ema.events.add(event, now):
        raise _error(f"event store full ({ema.events.limit} current events)")
    return (
        "accepted",
        f"event {event.event_id} created; emapDistributeEvent to {_announce(ema, event, set())}",
    )


def _existing(ema: UpperEma, args: dict) -> Event:
    event_id = _get(args, "eventID", str)
    if event_id is None:
        raise _error("eventID is needed")
    event = ema.events.get(event_id)
    if event is None:
        raise _error(f"eventID {event_id!r} is not an event of this EMA")
    if event.cancelled:
        raise _refused(f"event {event_id!r} is cancelled and cannot change (EMAP-6.3.1-03)")
    return event


def modify_event(ema: UpperEma, args: dict) -> tuple[str, str]:
    now = timefmt.utc_now()
    event = _existing(ema, args)
    before = {link.ven_id for link in ema.registry if event.addresses(link.ven_id)}
    changed = copy.deepcopy(event)
    _apply_event_args(ema, changed, args, now)
    changed.modification_number += 1
    changed.modified = now
    _check_event(changed, now)
    ema.events.events[event.event_id] = changed
    return "accepted", (
        f"event {event.event_id} modified (modificationNumber {changed.modification_number}); "
        f"emapDistributeEvent to {_announce(ema, changed, before)}"
    )


def cancel_event(ema: UpperEma, args: dict) -> tuple[str, str]:
    now = timefmt.utc_now()
    event = _existing(ema, args)
    event.modification_number += 1
    event.modified = event.cancelled_at = now
    return "accepted", (
        f"event {event.event_id} cancelled (modificationNumber {event.modification_number}); "
        f"emapDistributeEvent to {_announce(ema, event, set())}"
    )


# Registration


def cancel_registration(ema: UpperEma, args: dict) -> tuple[str, str]:
    link = _link(ema, args)
    envelope = build.cancel_party_registration(ema.ids.new("cp"), link.registration_id, link.ven_id)
    return _queue(ema, link, Outgoing("emapCancelPartyRegistration", envelope, epoch=link.epoch))


def request_reregistration(ema: UpperEma, args: dict) -> tuple[str, str]:
    link = _link(ema, args)
    envelope = build.request_reregistration(link.ven_id)
    return _queue(ema, link, Outgoing("emapRequestReregistration", envelope, epoch=link.epoch))


# Reports


def register_report(ema: UpperEma, args: dict) -> tuple[str, str]:
    reports = _get(args, "reports", list)
    if reports is not None:
        for name in reports:
            if not isinstance(name, str):
                raise _error(f"reports: {name!r} is not a reportName")
            if name not in REPORT_KINDS and not name.startswith("x-"):
                raise _refused(
                    f"reports: {name!r} is not a metadata reportName of Table 6.4-1 (EMAP-6.4.2-02)"
                )
    links = [_link(ema, args)] if "venID" in args else list(ema.registry)
    offered = tuple(reports) if reports is not None else None
    if "venID" not in args and offered is not None:
        ema.offered = offered
    now = timefmt.utc_now()
    for link in links:
        if offered is not None:
            link.offered = offered
        _queue(ema, link, ema.reporter.register_report(link, now))
    return "accepted", "emapRegisterReport queued for " + (
        ", ".join(link.ven_id for link in links) or "nobody"
    )


def request_report(ema: UpperEma, args: dict) -> tuple[str, str]:
    link = _link(ema, args)
    spec_id = _get(args, "reportSpecifierID", str)
    if spec_id is None:
        raise _error("reportSpecifierID is needed")
    r_ids = _get(args, "rIDs", list)
    if r_ids is not None and not all(isinstance(r, str) for r in r_ids):
        raise _error("rIDs: a list of strings is needed")
    granularity = _seconds(args.get("granularity", 0), "granularity")
    back = _seconds(args.get("reportBackDuration", 0), "reportBackDuration")
    window = _window(args.get("reportInterval"))
    rid = _get(args, "reportRequestID", str)
    if spec_id == METADATA and r_ids:
        raise _refused("a METADATA request names no rIDs (specifierPayload absent, EMAP-6.4.3-02)")
    if spec_id != METADATA:
        metadata = next((m for m in link.l_metadata if m["reportSpecifierID"] == spec_id), None)
        if metadata is None:
            raise _refused(f"reportSpecifierID {spec_id!r} is not in the metadata of {link.ven_id}")
        known = {d["rID"] for d in metadata["emapReportDescription"]}
        if r_ids is not None and not set(r_ids) <= known:
            raise _refused(f"rIDs {sorted(set(r_ids) - known)} are not in metadata report {spec_id!r}")
    if rid is not None and (rid == "0" or rid in link.u_used_request_ids):
        raise _refused(f"reportRequestID {rid!r} is reserved or already used (EMAP-6.4.3-02)")
    return _queue(ema, link, ema.requester.request(link, spec_id, r_ids, granularity, back, window, rid))


def _window(value) -> tuple[datetime, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _error("reportInterval: an object {dtstart, duration} is needed")
    props = value.get("properties", value)
    try:
        return timefmt.parse_datetime(props["dtstart"]), _seconds(
            props["duration"], "reportInterval.duration"
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _error(f"reportInterval: {exc}") from None


def cancel_report(ema: UpperEma, args: dict) -> tuple[str, str]:
    link = _link(ema, args)
    ids = args.get("reportRequestID")
    ids = [ids] if isinstance(ids, str) else ids
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _error("reportRequestID is needed (an ID or a list of IDs)")
    follow = _get(args, "reportToFollow", bool, False)
    inactive = [rid for rid in ids if not ema.requester.active(link, rid)]
    if inactive:
        raise _refused(f"{inactive} are not active report requests of U at {link.ven_id} (EMAP-6.4.5-01)")
    return _queue(ema, link, ema.requester.cancel(link, ids, follow))


ACTIONS = {
    "create-event": create_event,
    "modify-event": modify_event,
    "cancel-event": cancel_event,
    "cancel-registration": cancel_registration,
    "request-reregistration": request_reregistration,
    "register-report": register_report,
    "request-report": request_report,
    "cancel-report": cancel_report,
}


async def run(ema: UpperEma, action: str, args: dict) -> tuple[str, str]:
    """Carry out one action: ``(status, detail)``."""
    handler = ACTIONS.get(action)
    if handler is None:
        why = "an action of the lower EMA" if action in LOWER_ACTIONS else "not a stimulus action"
        return "unsupported", f"{action} is {why}; this is an upper EMA"
    try:
        return handler(ema, args)
    except StimulusFailure as failure:
        return failure.status, f"{action}: {failure}"
