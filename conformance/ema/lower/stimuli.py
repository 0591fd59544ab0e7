"""Stimulus actions of a lower EMA (interfaces.md section 3): argument checks and the procedure each starts.

Status "refused" (exit 4) where the binding forbids the action now (EMAP-6.2.4-06: only query and create while
unregistered; EMAP-A-04; EMAP-6.5.2-02; EMAP-6.4.3-02; EMAP-6.4.2-03), "unsupported" (exit 3) for actions of the
upper role and modes or capabilities this configuration lacks, "error" for malformed arguments.
"""

from __future__ import annotations

from conformance.messages import build, timefmt

from .reporter import REQUIRED, offer_names
from .sender import Outcome

UPPER_ONLY = ("create-event", "modify-event", "cancel-event", "request-reregistration")
UNREGISTERED_OK = ("query-registration", "create-registration")


class BadArguments(ValueError):
    """Malformed stimulus arguments (status "error")."""


class Refused(Exception):
    """The binding forbids the action now (status "refused")."""


class Unsupported(Exception):
    """The action does not apply to this configuration (status "unsupported")."""


def _get(args: dict, name: str, kind, *, required: bool = False, default=None):
    value = args.get(name)
    if value is None:
        if required:
            raise BadArguments(f"{name} is required")
        return default
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise BadArguments(f"{name} must be of type {names}, not {type(value).__name__}")
    return value


def _duration(args: dict, name: str, default: str = "PT0S") -> str:
    value = _get(args, name, (str, int, float), default=default)
    try:
        if isinstance(value, str):
            timefmt.parse_duration(value)
            return value
        return timefmt.format_duration(float(value))
    except ValueError as exc:
        raise BadArguments(f"{name}: {exc}") from None


def _datetime(value, name: str) -> str:
    if not isinstance(value, str):
        raise BadArguments(f"{name} must be an RFC 3339 dateTime string")
    try:
        timefmt.parse_datetime(value)
    except ValueError as exc:
        raise BadArguments(f"{name}: {exc}") from None
    return value


def _window(value, name: str) -> tuple[str, str]:
    if not isinstance(value, dict):
        raise BadArguments(f"{name} must be an object with dtstart and duration")
    value = value.get("properties", value)
    return _datetime(value.get("dtstart"), f"{name}.dtstart"), _duration(value, "duration", "PT0S")


async def run(ema, action: str, args: dict) -> tuple[str, str]:
    """Carry out ``action`` at the lower EMA ``ema``: (status, detail)."""
    handler = ACTIONS.get(action)
    if handler is None:
        why = "is an action of the upper role" if action in UPPER_ONLY else "is not a known action"
        return "unsupported", f"{action} {why}"
    if ema.link is None and action not in UNREGISTERED_OK:
        return "refused", f"{action}: not registered; only query-registration and create-registration are " \
                          f"allowed (EMAP-6.2.4-06)"
    try:
        detail = handler(ema, args)
    except BadArguments as exc:
        return "error", f"{action}: {exc}"
    except Refused as exc:
        return "refused", f"{action}: {exc}"
    except Unsupported as exc:
        return "unsupported", f"{action}: {exc}"
    return "accepted", detail


def _query(ema, args):
    ema.query()
    return "emapQueryRegistration queued"


def _create(ema, args):
    registration_id = _get(args, "registrationID", str)
    pull = _get(args, "pullModel", bool, default=ema.config.mode == "pull")
    opt_change = _get(args, "optChange", bool)
    if not pull and not ema.config.lower_base_uri:
        raise Unsupported("push mode needs the lower role's resources served (start with --mode push)")
    if opt_change and not ema.config.opt_change:
        raise Unsupported("Annex A opt change is not supported by this configuration")
    ema.register(registration_id=registration_id, pull=pull,
                 opt_change=ema.config.opt_change if opt_change is None else opt_change)
    return f"emapCreatePartyRegistration queued ({'pull' if pull else 'push'} mode)"


def _cancel_registration(ema, args):
    ema.cancel_registration()
    return "emapCancelPartyRegistration queued"


def _request_event(ema, args):
    limit = _get(args, "replyLimit", int)
    if limit is not None and limit < 1:
        raise BadArguments("replyLimit must be at least 1")
    ema.request_event(limit)
    return "emapRequestEvent queued"


def _poll(ema, args):
    if not ema.link.pull:
        raise Unsupported("poll applies to a pull-mode registration only")
    ema.poll_soon()
    return "emapPoll scheduled (at the earliest time emapRequestedPollFreq allows)"


def _register_report(ema, args):
    names = _get(args, "reports", list)
    try:
        offered = None if names is None else offer_names(names)
    except ValueError as exc:
        raise BadArguments(str(exc)) from None
    if offered and not set(REQUIRED) <= set(offered):
        raise Refused("a lower EMA's metadata must include TELEMETRY_STATUS and TELEMETRY_USAGE (EMAP-6.4.2-03)")
    ema.register_report(offered)
    return "emapRegisterReport queued"


def _request_report(ema, args):
    specifier = _get(args, "reportSpecifierID", str, required=True)
    rids = _get(args, "rIDs", list, default=[])
    if not all(isinstance(r, str) and r for r in rids):
        raise BadArguments("rIDs must be a list of non-empty strings")
    request_id = _get(args, "reportRequestID", str) or ema.ids("rq")
    why = ema.requester.usable(request_id)
    if why:
        raise Refused(why)
    interval = args.get("reportInterval")
    request = build.report_request(request_id, specifier, rids, granularity=_duration(args, "granularity"),
                                   back_duration=_duration(args, "reportBackDuration"),
                                   interval=None if interval is None else _window(interval, "reportInterval"))
    ema.requester.sent(request)
    envelope = build.create_report(ema.ids("cr"), ema.link.ven_id, [request])

    def done(response, outcome):
        code = response.response_code if outcome is Outcome.OK else "failed"
        ema.requester.answered([request_id], code)

    ema.request("EiReport", envelope, done)
    return f"emapCreateReport queued (reportRequestID {request_id})"


def _cancel_report(ema, args):
    ids = args.get("reportRequestID")
    ids = [ids] if isinstance(ids, str) else ids
    if not ids or not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise BadArguments("reportRequestID (a string or a list of strings) is required")
    to_follow = _get(args, "reportToFollow", bool, default=False)
    unknown = [i for i in ids if i not in ema.requester.requests]
    if unknown:
        raise Refused(f"not an active request of mine: {', '.join(unknown)}")
    envelope = build.cancel_report(ema.ids("xc"), ema.link.ven_id, ids, to_follow)

    def done(response, outcome):
        if outcome is Outcome.OK and response.response_code == "200":
            ema.requester.cancelled(ids, to_follow)

    ema.request("EiReport", envelope, done)
    return "emapCancelReport queued"


def _create_opt(ema, args):
    opt_type = _get(args, "optType", str, required=True)
    if opt_type not in ("optIn", "optOut"):
        raise BadArguments("optType must be optIn or optOut")
    opt_id = _get(args, "optID", str) or ema.ids("opt")
    reason = _get(args, "optReason", str, default="x-schedule")
    event_id = _get(args, "eventID", str)
    availability = _get(args, "availability", list)
    opt_change = _get(args, "optChange", bool)
    resource_ids = _get(args, "resourceIDs", list)
    if event_id is not None and availability is not None:
        raise Refused("an opt has exactly one form: eventID or availability (EMAP-6.5.2-02)")
    if opt_change:
        if not ema.config.opt_change:
            raise Unsupported("Annex A opt change is not supported by this configuration")
        if event_id is None:
            raise Refused("opt change only in event form (EMAP-A-04)")
        if not ema.link.opt_change:
            raise Refused("opt change was not accepted for this registration (EMAP-A-04)")
        why = ema.events.may_change(event_id, timefmt.utc_now())
        if why:
            raise Refused(f"{why} (EMAP-A-04)")
    if event_id is not None:
        record = ema.events.records.get(event_id)
        number = _get(args, "modificationNumber", int,
                      default=record.highest_modification if record is not None else 0)
        target = {"resourceID": list(resource_ids)} if resource_ids else {}
        envelope = build.create_opt(ema.ids("co"), ema.link.ven_id, opt_id, opt_type, reason=reason,
                                    event_id=event_id, modification_number=number, target=target,
                                    opt_change=True if opt_change else None)
    else:
        windows = [_window(item, "availability[]") for item in availability or ()] or [
            (timefmt.format_datetime(timefmt.utc_now()), "PT1H")]
        envelope = build.create_opt(ema.ids("co"), ema.link.ven_id, opt_id, opt_type, reason=reason,
                                    availability=windows, market_context=_get(args, "marketContext", str))

    def done(response, outcome):
        if outcome is Outcome.OK and response.response_code == "200":
            ema.opts[opt_id] = envelope
            body = envelope["emapCreateOpt"]
            if "qualifiedEventID" in body and body["eiTarget"] == {}:  # EMAP-6.3.2-09, EMAP-A-09
                qualified = body["qualifiedEventID"]
                ema.events.opt_accepted(qualified["eventID"], qualified["modificationNumber"], opt_type)

    ema.request("EiOpt", envelope, done)
    return f"emapCreateOpt queued (optID {opt_id})"


def _cancel_opt(ema, args):
    opt_id = _get(args, "optID", str, required=True)
    if opt_id not in ema.opts:
        raise Refused(f"optID {opt_id!r} is not an opt I hold")
    envelope = build.cancel_opt(ema.ids("xo"), ema.link.ven_id, opt_id)

    def done(response, outcome):
        if outcome is Outcome.OK and response.response_code == "200":
            ema.opts.pop(opt_id, None)

    ema.request("EiOpt", envelope, done)
    return "emapCancelOpt queued"


ACTIONS = {
    "query-registration": _query,
    "create-registration": _create,
    "cancel-registration": _cancel_registration,
    "request-event": _request_event,
    "poll": _poll,
    "register-report": _register_report,
    "request-report": _request_report,
    "cancel-report": _cancel_report,
    "create-opt": _create_opt,
    "cancel-opt": _cancel_opt,
}
