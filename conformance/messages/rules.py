"""Message-only rules beyond the schema: the sender-binding rules testers check (B.6 rule 6) and the 454/462-coded
rules a receiver checks (Table 6.1-4 steps 5 and 6), plus the event status and order of Tables 6.3-1 and 6.3-3.

Every check takes a validated message body (the envelope's value) and returns a list of `RuleViolation`, whose
`pointer` is a JSON pointer into the envelope and whose `code` is the responseCode a receiver answers for it
(None: the rule binds the sender only, receivers do not reject for it). `check(message)` runs every check that
applies to a message. Rules that need state or the procedure (earlier messages) take it as optional arguments.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from . import timefmt
from .validate import MessageError, ValidMessage, pointer_of

RESPONSE_CODES = frozenset({"200", "450", "451", "452", "453", "454", "459", "460", "461", "462", "463", "469"})


class RuleViolation(NamedTuple):
    """A broken rule: requirement id, JSON pointer of the place, what is wrong, and the receiver's code if any."""

    requirement_id: str
    pointer: str
    text: str
    code: str | None = None


def _at(*path) -> str:
    return pointer_of(path)


def _ei_event(event: dict) -> dict:
    return event.get("eiEvent", event)


def _seconds(duration: str) -> float:
    return timefmt.parse_duration(duration)


# Table 6.3-1 and Table 6.3-3

def event_status(event: dict, now: datetime) -> str:
    """`eventStatus` per Table 6.3-1 at ``now`` of an `EmapEvent` or `EiEvent` (cancelled stays cancelled)."""
    ei_event = _ei_event(event)
    if ei_event["eventDescriptor"].get("eventStatus") == "cancelled":
        return "cancelled"
    properties = ei_event["eiActivePeriod"]["properties"]
    start = timefmt.parse_datetime(properties["dtstart"])
    duration = _seconds(properties["duration"])
    ramp_up = _seconds(properties.get("x-eiRampUp", "PT0S"))
    elapsed = (now - start).total_seconds()
    if elapsed < -ramp_up:
        return "far"
    if elapsed < 0:
        return "near"
    if duration == 0 or elapsed < duration:
        return "active"
    return "completed"


_GROUPS = {"active": 1, "near": 2, "far": 2, "completed": 3, "cancelled": 3}


def event_sort_key(event: dict) -> tuple:
    """Sort key of an `EmapEvent` (or `EiEvent`) per Table 6.3-3, from the `eventStatus` it carries."""
    ei_event = _ei_event(event)
    descriptor = ei_event["eventDescriptor"]
    group = _GROUPS.get(descriptor["eventStatus"], 3)
    start = timefmt.parse_datetime(ei_event["eiActivePeriod"]["properties"]["dtstart"])
    priority = descriptor.get("priority") or 0
    rank = priority if priority > 0 else float("inf")
    if group == 1:
        return (group, rank, start, descriptor["eventID"])
    if group == 2:
        return (group, start, rank, descriptor["eventID"])
    return (group, start, 0, descriptor["eventID"])


# Event (6.3.1, 6.3.2, Annex A)

#: Table 6.3-2 — signalName -> (allowed signalTypes, allowed itemBase types or None for "absent").
SIGNALS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "SIMPLE": (("level",), None),
    "ELECTRICITY_PRICE": (("price", "priceRelative", "priceMultiplier"), ("currencyPerKWh",)),
    "ENERGY_PRICE": (("price", "priceRelative", "priceMultiplier"), ("currencyPerThm",)),
    "DEMAND_CHARGE": (("price", "priceRelative", "priceMultiplier"), ("currencyPerKW",)),
    "BID_PRICE": (("price",), ("currency",)),
    "BID_LOAD": (("setpoint",), ("powerReal",)),
    "BID_ENERGY": (("setpoint",), ("energyReal",)),
    "CHARGE_STATE": (("setpoint", "delta", "multiplier"), ("energyReal",)),
    "LOAD_DISPATCH": (("setpoint", "delta"), ("powerReal",)),
    "LOAD_CONTROL": (("x-loadControlCapacity", "x-loadControlLevelOffset", "x-loadControlPercentOffset",
                      "x-loadControlSetpoint"), None),
}
SIMPLE_LEVELS = (0, 1, 2, 3)


def _interval_rules(intervals: list[dict], total: float, pointer: str, requirement: str,
                    open_ended: bool) -> list[RuleViolation]:
    """uid numbering in array order and durations adding up to ``total`` (EMAP-6.3.1-04, EMAP-6.3.1-07)."""
    found = [RuleViolation(requirement, f"{pointer}/{k}/uid", f"uid is {interval['uid']!r}, expected {str(k)!r}")
             for k, interval in enumerate(intervals) if interval["uid"] != str(k)]
    durations = [_seconds(interval["duration"]) for interval in intervals]
    if open_ended:
        if durations[-1] != 0:
            found.append(RuleViolation(requirement, f"{pointer}/{len(durations) - 1}/duration",
                                       "the last interval of an open-ended event has duration PT0S"))
        found += [RuleViolation(requirement, f"{pointer}/{k}/duration",
                                "only the last interval of an open-ended event has a zero duration")
                  for k, seconds in enumerate(durations[:-1]) if seconds <= 0]
    elif abs(sum(durations) - total) > 1e-6:
        found.append(RuleViolation(requirement, pointer,
                                   f"interval durations add up to {sum(durations):g} s, not {total:g} s"))
    return found


def _payload_at(intervals: list[dict], start: datetime, now: datetime) -> float | None:
    offset = (now - start).total_seconds()
    for interval in intervals:
        length = _seconds(interval["duration"])
        if length == 0 or offset < length:
            return interval["signalPayload"]["payloadFloat"]["value"]
        offset -= length
    return None


def _signal_rules(signal: dict, pointer: str, status: str, start: datetime, total: float,
                  now: datetime | None) -> list[RuleViolation]:
    intervals = signal["intervals"]["interval"]
    found = _interval_rules(intervals, total, f"{pointer}/intervals/interval", "EMAP-6.3.1-04", total == 0)
    name, signal_type = signal["signalName"], signal["signalType"]
    if name in SIGNALS:
        types, item_bases = SIGNALS[name]
        if signal_type not in types:
            found.append(RuleViolation("EMAP-6.3.1-05", f"{pointer}/signalType",
                                       f"signalType {signal_type!r} is not allowed with {name}"))
        item_base = signal.get("itemBase")
        if item_base is not None and (item_bases is None or item_base["type"] not in item_bases):
            allowed = "no itemBase" if item_bases is None else "itemBase " + " or ".join(item_bases)
            found.append(RuleViolation("EMAP-6.3.1-05", f"{pointer}/itemBase", f"{name} takes {allowed}"))
    if name == "SIMPLE":
        found += [RuleViolation("EMAP-6.3.1-05", f"{pointer}/intervals/interval/{k}/signalPayload/payloadFloat/value",
                                "a SIMPLE payload is 0, 1, 2 or 3")
                  for k, interval in enumerate(intervals)
                  if interval["signalPayload"]["payloadFloat"]["value"] not in SIMPLE_LEVELS]
    if "currentValue" in signal:
        current = signal["currentValue"]["payloadFloat"]["value"]
        if status != "active":
            if name != "SIMPLE":
                found.append(RuleViolation("EMAP-6.3.1-06", f"{pointer}/currentValue",
                                           "currentValue of a non-SIMPLE signal while the event is not active"))
            elif current != 0:
                found.append(RuleViolation("EMAP-6.3.1-06", f"{pointer}/currentValue",
                                           "currentValue of SIMPLE is 0 while the event is not active"))
        elif now is not None and _payload_at(intervals, start, now) not in (None, current):
            found.append(RuleViolation("EMAP-6.3.1-06", f"{pointer}/currentValue",
                                       "currentValue differs from the payload of the current interval"))
    target = signal.get("eiTarget", {})
    found += [RuleViolation("EMAP-6.3.4-01", f"{pointer}/eiTarget/{member}",
                            "only endDeviceAsset is used in a signal's eiTarget")
              for member in target if member != "endDeviceAsset"]
    return found


def _status_rules(event: dict, pointer: str, now: datetime | None, tolerance: float) -> list[RuleViolation]:
    status = _ei_event(event)["eventDescriptor"]["eventStatus"]
    if status == "none":
        return [RuleViolation("EMAP-6.3.1-03", pointer, "eventStatus none is never sent")]
    if now is None or status == "cancelled":
        return []
    allowed = {event_status(event, now + timedelta(seconds=delta)) for delta in (-tolerance, 0, tolerance)}
    if status in allowed:
        return []
    return [RuleViolation("EMAP-6.3.1-03", pointer,
                          f"eventStatus {status!r} but Table 6.3-1 gives {event_status(event, now)!r}")]


def _one_event_rules(event: dict, pointer: str, now: datetime | None, tolerance: float,
                     ven_id: str | None) -> list[RuleViolation]:
    ei_event = event["eiEvent"]
    descriptor = ei_event["eventDescriptor"]
    properties = ei_event["eiActivePeriod"]["properties"]
    start, total = timefmt.parse_datetime(properties["dtstart"]), _seconds(properties["duration"])
    found = _status_rules(event, f"{pointer}/eiEvent/eventDescriptor/eventStatus", now, tolerance)
    signals = ei_event["eiEventSignals"]["eiEventSignal"]
    repeated = {signal_id for signal_id, n in Counter(s["signalID"] for s in signals).items() if n > 1}
    for j, signal in enumerate(signals):
        signal_pointer = f"{pointer}/eiEvent/eiEventSignals/eiEventSignal/{j}"
        if signal["signalID"] in repeated:
            found.append(RuleViolation("EMAP-6.3.1-05", f"{signal_pointer}/signalID",
                                       f"signalID {signal['signalID']!r} occurs twice in the event"))
        found += _signal_rules(signal, signal_pointer, descriptor["eventStatus"], start, total, now)
    event_baseline = ei_event["eiEventSignals"].get("eiEventBaseline")
    if event_baseline:
        found += _interval_rules(event_baseline["intervals"]["interval"], _seconds(event_baseline["duration"]),
                                 f"{pointer}/eiEvent/eiEventSignals/eiEventBaseline/intervals/interval",
                                 "EMAP-6.3.1-07", False)
    ven_ids = ei_event["eiTarget"].get("venID")
    if ven_ids is not None and (len(ven_ids) != 1 or (ven_id is not None and ven_ids != [ven_id])):
        found.append(RuleViolation("EMAP-6.3.1-08", f"{pointer}/eiEvent/eiTarget/venID",
                                   "eiTarget.venID contains exactly one value, the lower EMA's venID"))
    deadline = event.get("emapOptChangeDeadline")
    if deadline is not None:
        if event.get("emapOptChangeAllowed") is not True:
            found.append(RuleViolation("EMAP-A-03", f"{pointer}/emapOptChangeDeadline",
                                       "emapOptChangeDeadline only with emapOptChangeAllowed true"))
        if total > 0 and timefmt.parse_datetime(deadline) > start + timedelta(seconds=total):
            found.append(RuleViolation("EMAP-A-03", f"{pointer}/emapOptChangeDeadline",
                                       "emapOptChangeDeadline is later than the end of the event"))
    return found


def event_rules(body: dict, now: datetime | None = None, *, ven_id: str | None = None,
                answers_request: bool | None = None, tolerance: float = 1.0) -> list[RuleViolation]:
    """Sender rules of an `emapDistributeEvent` body (EMAP-6.3.1-03 to -08, EMAP-6.3.2-02 (no eventID twice),
    EMAP-6.3.2-03, EMAP-6.3.2-04, EMAP-A-03). With ``now`` (the generation time, ± ``tolerance`` s) also the
    status of Table 6.3-1 and `currentValue` of active events; with ``ven_id`` the `eiTarget.venID` value."""
    base = "/emapDistributeEvent"
    events = body["emapEvent"]
    found = []
    if answers_request is not None and ("eiResponse" in body) != answers_request:
        found.append(RuleViolation("EMAP-6.3.2-04", f"{base}/eiResponse",
                                   "eiResponse is present exactly when answering emapRequestEvent"))
    counts = Counter(_ei_event(e)["eventDescriptor"]["eventID"] for e in events)
    for i, event in enumerate(events):
        pointer = f"{base}/emapEvent/{i}"
        event_id = event["eiEvent"]["eventDescriptor"]["eventID"]
        if counts[event_id] > 1:
            found.append(RuleViolation("EMAP-6.3.2-02", f"{pointer}/eiEvent/eventDescriptor/eventID",
                                       f"eventID {event_id!r} occurs more than once"))
        if i and event_sort_key(events[i - 1]) > event_sort_key(event):
            found.append(RuleViolation("EMAP-6.3.2-03", pointer,
                                       f"event {event_id!r} is out of the order of Table 6.3-3"))
        found += _one_event_rules(event, pointer, now, tolerance, ven_id)
    return found


def created_event_rules(body: dict, distribute_event: dict | None = None) -> list[RuleViolation]:
    """Sender rules of an `emapCreatedEvent` body (EMAP-6.3.2-06 to -08); with the answered
    `emapDistributeEvent` body also one `eventResponse` per `always` event with the `qualifiedEventID` received."""
    base = "/emapCreatedEvent/eiCreatedEvent"
    created = body["eiCreatedEvent"]
    request_id = created["eiResponse"]["requestID"]
    responses = created.get("eventResponses", {}).get("eventResponse", [])
    found = []
    if created["eiResponse"]["responseCode"] != "200" and responses:
        found.append(RuleViolation("EMAP-6.3.2-06", f"{base}/eventResponses",
                                   "a message rejected as a whole carries no eventResponses"))
    found += [RuleViolation("EMAP-6.3.2-08", f"{base}/eventResponses/eventResponse/{k}/requestID",
                            "eventResponse.requestID is the emapDistributeEvent's requestID")
              for k, response in enumerate(responses) if response["requestID"] != request_id]
    if distribute_event is None or created["eiResponse"]["responseCode"] != "200":
        return found
    expected = {e["eiEvent"]["eventDescriptor"]["eventID"]: e["eiEvent"]["eventDescriptor"]["modificationNumber"]
                for e in distribute_event["emapEvent"] if e["emapResponseRequired"] == "always"}
    answered = Counter(r["qualifiedEventID"]["eventID"] for r in responses)
    for k, response in enumerate(responses):
        qualified = response["qualifiedEventID"]
        pointer = f"{base}/eventResponses/eventResponse/{k}/qualifiedEventID"
        if qualified["eventID"] not in expected:
            found.append(RuleViolation("EMAP-6.3.2-07", pointer,
                                       f"{qualified['eventID']!r} is not an event with emapResponseRequired always"))
        elif qualified["modificationNumber"] != expected[qualified["eventID"]]:
            found.append(RuleViolation("EMAP-6.3.2-08", f"{pointer}/modificationNumber",
                                       "modificationNumber differs from the one received"))
        if answered[qualified["eventID"]] > 1:
            found.append(RuleViolation("EMAP-6.3.2-07", pointer, "more than one eventResponse for the event"))
    found += [RuleViolation("EMAP-6.3.2-07", f"{base}/eventResponses", f"no eventResponse for {event_id!r}")
              for event_id in expected if event_id not in answered]
    return found


# Report (6.4)

#: Table 6.4-1 — metadata reportName -> (reportType, readingType, itemBase types; None = any, () = absent).
REPORT_KINDS: dict[str, tuple[str | None, str | None, tuple[str, ...] | None]] = {
    "METADATA_TELEMETRY_STATUS": ("x-resourceStatus", "x-notApplicable", ()),
    "METADATA_TELEMETRY_USAGE": ("usage", "Direct Read", ("powerReal", "energyReal")),
    "METADATA_HISTORY_USAGE": ("usage", "Direct Read", ("powerReal", "energyReal")),
    "METADATA_HISTORY_GREENBUTTON": (None, None, ()),
}


def _description_rules(description: dict, report_name: str, pointer: str) -> list[RuleViolation]:
    found = []
    if report_name in REPORT_KINDS:
        report_type, reading_type, item_bases = REPORT_KINDS[report_name]
        for member, expected in (("reportType", report_type), ("readingType", reading_type)):
            if expected is not None and description[member] != expected:
                found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/{member}",
                                           f"{report_name} descriptions have {member} {expected!r}", "454"))
        item_base = description.get("itemBase")
        if item_bases == () and item_base is not None:
            found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/itemBase", f"{report_name} takes no itemBase",
                                       "454"))
        elif item_bases and (item_base is None or item_base["type"] not in item_bases):
            found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/itemBase",
                                       f"{report_name} takes itemBase " + " or ".join(item_bases), "454"))
    sampling = description.get("emapSamplingRate")
    if sampling is None and report_name.startswith("METADATA_TELEMETRY_"):
        found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/emapSamplingRate",
                                   f"{report_name} descriptions carry emapSamplingRate", "454"))
    if sampling is not None and _seconds(sampling["emapMinPeriod"]) > _seconds(sampling["emapMaxPeriod"]):
        found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/emapSamplingRate/emapMaxPeriod",
                                   "emapMaxPeriod is less than emapMinPeriod", "454"))
    subject = description.get("reportSubject", {})
    found += [RuleViolation("EMAP-6.4.6-01", f"{pointer}/reportSubject/{member}",
                            "only endDeviceAsset is used in reportSubject") for member in subject
              if member != "endDeviceAsset"]
    return found


def metadata_rules(body: dict, sender: str | None = None) -> list[RuleViolation]:
    """454-coded rules of an `emapRegisterReport` body: EMAP-6.4.2-02, and EMAP-6.4.2-03 when ``sender`` is "L"."""
    base = "/emapRegisterReport"
    reports = body["emapReport"]
    found = []
    specifiers = Counter(report["reportSpecifierID"] for report in reports)
    for i, report in enumerate(reports):
        pointer = f"{base}/emapReport/{i}"
        specifier, name = report["reportSpecifierID"], report["reportName"]
        if specifier == "METADATA" or specifiers[specifier] > 1:
            found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/reportSpecifierID",
                                       f"reportSpecifierID {specifier!r} is METADATA or not unique", "454"))
        if name not in REPORT_KINDS and not name.startswith("x-"):
            found.append(RuleViolation("EMAP-6.4.2-02", f"{pointer}/reportName",
                                       f"{name!r} is not a metadata reportName of Table 6.4-1", "454"))
        descriptions = report["emapReportDescription"]
        r_ids = Counter(d["rID"] for d in descriptions)
        for k, description in enumerate(descriptions):
            d_pointer = f"{pointer}/emapReportDescription/{k}"
            if r_ids[description["rID"]] > 1:
                found.append(RuleViolation("EMAP-6.4.2-02", f"{d_pointer}/rID",
                                           f"rID {description['rID']!r} is not unique in the report", "454"))
            found += _description_rules(description, name, d_pointer)
    names = {report["reportName"] for report in reports}
    if sender == "L" and reports and not {"METADATA_TELEMETRY_STATUS", "METADATA_TELEMETRY_USAGE"} <= names:
        found.append(RuleViolation("EMAP-6.4.2-03", f"{base}/emapReport", "a lower EMA's metadata has at least "
                                   "one METADATA_TELEMETRY_STATUS and one METADATA_TELEMETRY_USAGE report", "454"))
    return found


def report_request_rules(body: dict, metadata: dict[str, dict] | None = None) -> list[RuleViolation]:
    """454-coded rules of an `emapCreateReport` body that need no state (EMAP-6.4.3-02); with ``metadata``
    (reportSpecifierID -> the reporter's MetadataReport) also the request constraint of Table 6.4-1."""
    base = "/emapCreateReport"
    requests = body["emapReportRequest"]
    ids = Counter(request["reportRequestID"] for request in requests)
    found = []
    for i, request in enumerate(requests):
        pointer = f"{base}/emapReportRequest/{i}"
        if request["reportRequestID"] == "0" or ids[request["reportRequestID"]] > 1:
            found.append(RuleViolation("EMAP-6.4.3-02", f"{pointer}/reportRequestID",
                                       "reportRequestID is \"0\" or repeats within the message", "454"))
        specifier = request["reportSpecifier"]
        is_metadata = specifier["reportSpecifierID"] == "METADATA"
        if ("specifierPayload" in specifier) == is_metadata:
            found.append(RuleViolation("EMAP-6.4.3-02", f"{pointer}/reportSpecifier/specifierPayload",
                                       "specifierPayload is present exactly when the specifier is not METADATA",
                                       "454"))
        found += [RuleViolation("EMAP-6.4.3-02", f"{pointer}/reportSpecifier/specifierPayload/{k}/readingType",
                                "readingType of a request is x-notApplicable", "454")
                  for k, payload in enumerate(specifier.get("specifierPayload", []))
                  if payload["readingType"] != "x-notApplicable"]
        report = (metadata or {}).get(specifier["reportSpecifierID"])
        if report and report["reportName"].startswith("METADATA_HISTORY_") and (
                _seconds(specifier["granularity"]) or _seconds(specifier["reportBackDuration"])):
            found.append(RuleViolation("EMAP-6.4.3-02", f"{pointer}/reportSpecifier",
                                       "HISTORY requests have zero granularity and reportBackDuration", "454"))
    return found


_PAYLOAD_MEMBERS = {"TELEMETRY_STATUS": "emapPayloadResourceStatus", "TELEMETRY_USAGE": "payloadFloat",
                    "HISTORY_USAGE": "payloadFloat"}


def _interval_payload_rules(report: dict, pointer: str) -> list[RuleViolation]:
    name = report["reportName"]
    found = []
    with_state = []
    for k, interval in enumerate(report["intervals"]["interval"]):
        i_pointer = f"{pointer}/intervals/interval/{k}"
        if (name == "HISTORY_GREENBUTTON") != ("emapGBPayload" in interval):
            found.append(RuleViolation("EMAP-6.4.4-03", i_pointer,
                                       "emapGBPayload is the payload of HISTORY_GREENBUTTON reports only"))
        payloads = interval.get("emapReportPayload", [])
        with_state.append(any("emapLoadControlState" in p.get("emapPayloadResourceStatus", {}) for p in payloads))
        member = _PAYLOAD_MEMBERS.get(name)
        found += [RuleViolation("EMAP-6.4.4-03", f"{i_pointer}/emapReportPayload/{j}", f"{name} uses {member}")
                  for j, payload in enumerate(payloads) if member and member not in payload]
    if any(with_state) and not all(with_state):
        found.append(RuleViolation("EMAP-6.4.6-01", f"{pointer}/intervals",
                                   "emapLoadControlState present in some intervals only"))
    return found


def data_report_rules(body: dict, requests: dict[str, dict] | None = None) -> list[RuleViolation]:
    """Sender rules of an `emapUpdateReport` body (EMAP-6.4.4-02, EMAP-6.4.4-03, Table 6.4.6-15/-19); with
    ``requests`` (reportRequestID -> the EmapReportRequest as sent) also specifier, granularity and rIDs."""
    base = "/emapUpdateReport"
    found = []
    for i, report in enumerate(body["emapReport"]):
        pointer = f"{base}/emapReport/{i}"
        intervals = report["intervals"]["interval"]
        if report["reportName"].startswith("METADATA_"):
            found.append(RuleViolation("EMAP-6.4.4-02", f"{pointer}/reportName",
                                       "a data report's reportName has no METADATA_ prefix"))
        starts = [timefmt.parse_datetime(interval["dtstart"]) for interval in intervals]
        ends = [start + timedelta(seconds=_seconds(iv["duration"])) for start, iv in zip(starts, intervals, strict=True)]
        if timefmt.parse_datetime(report["dtstart"]) != starts[0]:
            found.append(RuleViolation("EMAP-6.4.4-02", f"{pointer}/dtstart", "dtstart is the first interval's"))
        found += [RuleViolation("EMAP-6.4.4-02", f"{pointer}/intervals/interval/{k}/dtstart",
                                "intervals are in ascending, non-overlapping dtstart order")
                  for k in range(1, len(starts)) if starts[k] <= starts[k - 1] or starts[k] < ends[k - 1]]
        if "duration" in report and timefmt.parse_datetime(report["dtstart"]) + timedelta(
                seconds=_seconds(report["duration"])) != max(ends):
            found.append(RuleViolation("EMAP-6.4.6-01", f"{pointer}/duration",
                                       "duration is the end of the last interval minus dtstart"))
        found += _interval_payload_rules(report, pointer)
        request = (requests or {}).get(report["reportRequestID"])
        if request:
            found += _request_match_rules(report, request, pointer)
    return found


def _request_match_rules(report: dict, request: dict, pointer: str) -> list[RuleViolation]:
    specifier = request["reportSpecifier"]
    found = []
    if report["reportSpecifierID"] != specifier["reportSpecifierID"]:
        found.append(RuleViolation("EMAP-6.4.4-02", f"{pointer}/reportSpecifierID",
                                   "reportSpecifierID is the request's"))
    granularity = _seconds(specifier["granularity"])
    intervals = report["intervals"]["interval"]
    if granularity and not report["reportName"].startswith("HISTORY_"):
        found += [RuleViolation("EMAP-6.4.4-02", f"{pointer}/intervals/interval/{k}/duration",
                                f"interval length is the granularity {specifier['granularity']}")
                  for k, interval in enumerate(intervals) if _seconds(interval["duration"]) != granularity]
    reported = {p["rID"] for interval in intervals for p in interval.get("emapReportPayload", [])}
    found += [RuleViolation("EMAP-6.4.4-02", f"{pointer}/intervals", f"no emapReportPayload for rID {r_id!r}")
              for r_id in (p["rID"] for p in specifier.get("specifierPayload", [])) if r_id not in reported
              and report["reportName"] != "HISTORY_GREENBUTTON"]
    return found


# Registration (6.2.3) and Opt (6.5.2, Annex A)

def base_uri_problem(uri: str) -> str | None:
    """Why ``uri`` is not a base URI per EMAP-7.1.3-06 (coap/coaps, host, optional port, base path, no query,
    fragment or trailing "/"), or None."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"not a URI: {exc}"
    if parts.scheme not in ("coap", "coaps"):
        return "scheme is not coap or coaps"
    if not parts.hostname:
        return "no host"
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        return "has a query or fragment"
    if not parts.path.strip("/") or parts.path.endswith("/") or "//" in parts.path:
        return "no base path, an empty segment or a trailing /"
    return None


def registration_rules(body: dict) -> list[RuleViolation]:
    """Rules of an `emapCreatePartyRegistration` body: EMAP-6.2.3-02 (454), EMAP-6.2.3-01 (sender)."""
    base = "/emapCreatePartyRegistration"
    address = body.get("emapTransportAddress")
    found = []
    if body["emapPullModel"]:
        if address is not None:
            found.append(RuleViolation("EMAP-6.2.3-01", f"{base}/emapTransportAddress",
                                       "emapTransportAddress is sent only in push mode"))
    elif address is None:
        found.append(RuleViolation("EMAP-6.2.3-02", f"{base}/emapTransportAddress",
                                   "push mode needs emapTransportAddress", "454"))
    elif problem := base_uri_problem(address):
        found.append(RuleViolation("EMAP-6.2.3-02", f"{base}/emapTransportAddress",
                                   f"emapTransportAddress is not a base URI: {problem}", "454"))
    for member, value in (("emapProfileName", "EMAP-1.0"), ("emapTransportName", "coap")):
        if body[member] != value:
            found.append(RuleViolation("EMAP-6.2.3-01", f"{base}/{member}", f"{member} is {value!r}"))
    if body["emapSignature"] is not False:
        found.append(RuleViolation("EMAP-8-10", f"{base}/emapSignature", "emapSignature is sent as false"))
    return found


def created_registration_rules(body: dict) -> list[RuleViolation]:
    """Sender rules of an `emapCreatedPartyRegistration` body: `registrationID` and `venID` come together
    (Table 6.2.6-2) and only with responseCode 200 (EMAP-6.2.3-09, EMAP-6.2.2-04)."""
    base = "/emapCreatedPartyRegistration"
    present = [member for member in ("registrationID", "venID") if member in body]
    if present and body["eiResponse"]["responseCode"] != "200":
        return [RuleViolation("EMAP-6.2.3-09", f"{base}/{present[0]}",
                              "a reply with an error code carries no registrationID or venID")]
    if len(present) == 1:
        missing = "venID" if present == ["registrationID"] else "registrationID"
        return [RuleViolation("EMAP-6.2.6-01", f"{base}/{missing}", "registrationID and venID come together")]
    return []


def opt_rules(body: dict) -> list[RuleViolation]:
    """Receiver checks of an `emapCreateOpt` body that need no state: EMAP-6.5.2-03 and EMAP-A-05 (454),
    EMAP-6.5.2-04 (462). The sender duties behind them are EMAP-6.5.2-02 and EMAP-A-04."""
    base = "/emapCreateOpt"
    schedule, event = "vavailability" in body, "qualifiedEventID" in body
    found = []
    if schedule == event:
        found.append(RuleViolation("EMAP-6.5.2-03", base,
                                   "exactly one of vavailability and qualifiedEventID is present", "454"))
    elif event and "marketContext" in body:
        found.append(RuleViolation("EMAP-6.5.2-03", f"{base}/marketContext",
                                   "marketContext comes only with the schedule form", "454"))
    if schedule and not event and body.get("emapOptChange") is True:
        found.append(RuleViolation("EMAP-A-05", f"{base}/emapOptChange",
                                   "emapOptChange true only in event form", "454"))
    if any(ven_id != body["venID"] for ven_id in body["eiTarget"].get("venID", [])):
        found.append(RuleViolation("EMAP-6.5.2-04", f"{base}/eiTarget/venID",
                                   "eiTarget.venID names another lower EMA", "462"))
    device_class = body.get("emapDeviceClass", {})
    found += [RuleViolation("EMAP-6.5.4-01", f"{base}/emapDeviceClass/{member}",
                            "only endDeviceAsset is used in emapDeviceClass") for member in device_class
              if member != "endDeviceAsset"]
    return found


# All messages

def response_code_rules(message: ValidMessage) -> list[RuleViolation]:
    """Only the responseCodes of Table 6.1-3 are used (EMAP-6.1-10)."""
    body = message.body
    places = []
    if "eiResponse" in body:
        places.append(((message.name, "eiResponse"), body["eiResponse"]))
    created = body.get("eiCreatedEvent")
    if created:
        places.append(((message.name, "eiCreatedEvent", "eiResponse"), created["eiResponse"]))
        places += [((message.name, "eiCreatedEvent", "eventResponses", "eventResponse", k), response)
                   for k, response in enumerate(created.get("eventResponses", {}).get("eventResponse", []))]
    return [RuleViolation("EMAP-6.1-10", _at(*path, "responseCode"),
                          f"responseCode {item['responseCode']!r} is not in Table 6.1-3")
            for path, item in places if item["responseCode"] not in RESPONSE_CODES]


def check(message: ValidMessage, *, now: datetime | None = None, sender: str | None = None,
          tolerance: float = 1.0) -> list[RuleViolation]:
    """Every message-only rule of this module that applies to ``message`` (``sender``: "U" or "L")."""
    body = message.body
    by_name = {
        "emapCreatePartyRegistration": lambda: registration_rules(body),
        "emapCreatedPartyRegistration": lambda: created_registration_rules(body),
        "emapDistributeEvent": lambda: event_rules(body, now, tolerance=tolerance),
        "emapCreatedEvent": lambda: created_event_rules(body),
        "emapRegisterReport": lambda: metadata_rules(body, sender),
        "emapCreateReport": lambda: report_request_rules(body),
        "emapUpdateReport": lambda: data_report_rules(body),
        "emapCreateOpt": lambda: opt_rules(body),
    }
    found = response_code_rules(message)
    if message.name in by_name:
        found += by_name[message.name]()
    return found


def requirement_of(error: MessageError) -> str:
    """The Annex B requirement a `MessageError` shows broken (EMAP-B-02 encoding, -03 envelope, -07 null,
    -08 arrays, -10 dateTime/duration, -11 scalar types, -12 itemBase, -13 enumerations, else -01)."""
    if error.kind in ("not-utf8", "bom", "not-json", "duplicate-member"):
        return "EMAP-B-02"
    if error.kind in ("not-envelope", "unknown-message"):
        return "EMAP-B-03"
    keyword = getattr(error, "keyword", None)
    if "/itemBase" in error.pointer:
        return "EMAP-B-12"
    if keyword in ("enum", "anyOf") and error.detail.endswith(("enumeration", "x- token")):
        return "EMAP-B-13"
    if "got null" in error.detail:
        return "EMAP-B-07"
    if keyword == "minItems" or "expected array" in error.detail or "got array" in error.detail:
        return "EMAP-B-08"
    if keyword in ("pattern", "format") and ("emap-date-time" in error.detail or "^P(" in error.detail
                                             or "^\\d{4}" in error.detail):
        return "EMAP-B-10"
    if keyword == "type" or "[0-9]{3}" in error.detail:
        return "EMAP-B-11"
    return "EMAP-B-01"
