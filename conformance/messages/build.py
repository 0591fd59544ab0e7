"""Builders of the 23 messages: one function per message returning its envelope, plus structure helpers.

Every builder returns a message that passes `validate` and follows the sender-binding rules of `rules` (for
example `uid` numbering, B.6 rule 6). Time arguments take a `datetime` or a Table B-3 string; durations take a
Table B-3 string or seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from . import timefmt
from .fields import ITEM_BASE_KINDS, POWER_KINDS
from .rules import event_status

PROFILE_NAME = "EMAP-1.0"
TRANSPORT_NAME = "coap"
DEFAULT_MARKET_CONTEXT = "http://example.com/programs/default"
DEFAULT_SIGNAL_LEVEL = 1


def _time(value: datetime | str | None, now: datetime | None = None) -> str:
    if value is None:
        return timefmt.format_datetime(now or timefmt.utc_now())
    return value if isinstance(value, str) else timefmt.format_datetime(value)


def _duration(value: str | float) -> str:
    return value if isinstance(value, str) else timefmt.format_duration(value)


def _put(body: dict, **members) -> dict:
    """Add the members that are not None."""
    body.update({key: value for key, value in members.items() if value is not None})
    return body


def ei_response(request_id: str, code: str = "200", description: str | None = None) -> dict:
    """An `EiResponse` (Table B-4)."""
    return _put({"responseCode": code}, responseDescription=description, requestID=request_id)


def profiles() -> dict:
    """`emapProfiles` listing `EMAP-1.0` over `coap` (Tables 6.2.6-3 to 6.2.6-6)."""
    return {"emapProfile": [{"emapProfileName": PROFILE_NAME,
                             "emapTransports": {"emapTransport": [{"emapTransportName": TRANSPORT_NAME}]}}]}


# RegisterParty (6.2.6)

def query_registration(request_id: str, ven_id: str | None = None) -> dict:
    return {"emapQueryRegistration": _put({"requestID": request_id}, venID=ven_id)}


def create_party_registration(request_id: str, *, pull: bool = True, transport_address: str | None = None,
                              registration_id: str | None = None, ven_id: str | None = None,
                              opt_change: bool | None = None, ven_name: str | None = None,
                              report_only: bool = False) -> dict:
    body = _put({"requestID": request_id}, registrationID=registration_id, venID=ven_id)
    body.update(emapProfileName=PROFILE_NAME, emapTransportName=TRANSPORT_NAME)
    _put(body, emapTransportAddress=None if pull else transport_address)
    body.update(emapReportOnly=report_only, emapSignature=False)
    _put(body, emapVenName=ven_name)
    body["emapPullModel"] = pull
    return {"emapCreatePartyRegistration": _put(body, emapOptChange=opt_change)}


def created_party_registration(request_id: str, vtn_id: str, *, code: str = "200",
                               registration_id: str | None = None, ven_id: str | None = None,
                               poll_freq: str | float | None = None, opt_change: bool | None = None,
                               description: str | None = None) -> dict:
    body = _put({"eiResponse": ei_response(request_id, code, description)}, registrationID=registration_id,
                venID=ven_id)
    body.update(vtnID=vtn_id, emapProfiles=profiles())
    _put(body, emapRequestedPollFreq=None if poll_freq is None else _duration(poll_freq))
    return {"emapCreatedPartyRegistration": _put(body, emapOptChange=opt_change)}


def cancel_party_registration(request_id: str, registration_id: str, ven_id: str) -> dict:
    return {"emapCancelPartyRegistration": {"requestID": request_id, "registrationID": registration_id,
                                            "venID": ven_id}}


def canceled_party_registration(request_id: str, registration_id: str, ven_id: str, code: str = "200",
                                description: str | None = None) -> dict:
    return {"emapCanceledPartyRegistration": {"eiResponse": ei_response(request_id, code, description),
                                              "registrationID": registration_id, "venID": ven_id}}


def request_reregistration(ven_id: str) -> dict:
    return {"emapRequestReregistration": {"venID": ven_id}}


def response(request_id: str, code: str = "200", ven_id: str | None = None, description: str | None = None) -> dict:
    return {"emapResponse": _put({"eiResponse": ei_response(request_id, code, description)}, venID=ven_id)}


# Event (6.3.4)

def request_event(request_id: str, ven_id: str, reply_limit: int | None = None) -> dict:
    return {"emapRequestEvent": {"eiRequestEvent": _put({"requestID": request_id, "venID": ven_id},
                                                        replyLimit=reply_limit)}}


def poll(ven_id: str) -> dict:
    return {"emapPoll": {"venID": ven_id}}


def distribute_event(request_id: str, vtn_id: str, events: Iterable[dict], *,
                     ei_response: dict | None = None) -> dict:
    body = _put({}, eiResponse=ei_response)
    body.update(requestID=request_id, vtnID=vtn_id, emapEvent=list(events))
    return {"emapDistributeEvent": body}


def intervals(pairs: Iterable[tuple[str | float, float]]) -> dict:
    """`EventIntervals` from ``(duration, payload value)`` pairs, numbered `"0"`, `"1"`, ... (EMAP-6.3.1-04)."""
    return {"interval": [{"duration": _duration(duration), "uid": str(uid),
                          "signalPayload": {"payloadFloat": {"value": value}}}
                         for uid, (duration, value) in enumerate(pairs)]}


def signal(pairs: Iterable[tuple[str | float, float]], *, name: str = "SIMPLE", signal_type: str = "level",
           signal_id: str = "sig-0", item_base: dict | None = None, current_value: float | None = None,
           target: dict | None = None) -> dict:
    """An `EiEventSignal` (Table 6.3.4-14) from ``(duration, value)`` interval pairs."""
    body = {"intervals": intervals(pairs)}
    _put(body, eiTarget=target)
    body.update(signalName=name, signalType=signal_type, signalID=signal_id)
    _put(body, itemBase=item_base)
    return _put(body, currentValue=None if current_value is None else {"payloadFloat": {"value": current_value}})


def baseline(pairs: Iterable[tuple[str | float, float]], *, dtstart: datetime | str, baseline_id: str = "bl-1",
             name: str = "baseline", resource_ids: Sequence[str] | None = None,
             item_base: dict | None = None) -> dict:
    """An `EiEventBaseline` whose `duration` is the sum of its intervals (EMAP-6.3.1-07)."""
    built = intervals(pairs)
    total = sum(timefmt.parse_duration(i["duration"]) for i in built["interval"])
    body = {"dtstart": _time(dtstart), "duration": timefmt.format_duration(total), "intervals": built,
            "baselineID": baseline_id}
    _put(body, resourceID=list(resource_ids) if resource_ids else None)
    body["baselineName"] = name
    return _put(body, itemBase=item_base)


def event(event_id: str = "ev-1", *, modification_number: int = 0, status: str | None = None,
          dtstart: datetime | str | None = None, duration: str | float = "PT1H", signals: Sequence[dict] | None = None,
          event_baseline: dict | None = None, target: dict | None = None, response_required: str = "always",
          market_context: str = DEFAULT_MARKET_CONTEXT, created: datetime | str | None = None,
          priority: int | None = None, modification_datetime: datetime | str | None = None,
          modification_reason: str | None = None, test_event: str | None = None, vtn_comment: str | None = None,
          notification: str | float | None = None, ramp_up: str | float | None = None,
          recovery: str | float | None = None, start_after: str | float | None = None,
          opt_change_allowed: bool | None = None, opt_change_deadline: datetime | str | None = None,
          now: datetime | None = None) -> dict:
    """One `EmapEvent` (Table 6.3.4-5). Defaults: starts one hour after ``now``, SIMPLE level 1 for its whole
    duration, `eiTarget` `{}`, `eventStatus` per Table 6.3-1 at ``now`` (pass ``status="cancelled"`` to cancel)."""
    now = now or timefmt.utc_now()
    start = _time(dtstart if dtstart is not None else now + timedelta(hours=1))
    duration = _duration(duration)
    if signals is None:
        signals = [signal([(duration, DEFAULT_SIGNAL_LEVEL)])]
    descriptor = {"eventID": event_id, "modificationNumber": modification_number}
    _put(descriptor, modificationDateTime=None if modification_datetime is None else _time(modification_datetime),
         modificationReason=modification_reason, priority=priority)
    descriptor.update(eiMarketContext={"marketContext": market_context}, createdDateTime=_time(created, now))
    descriptor["eventStatus"] = "none"
    _put(descriptor, testEvent=test_event, vtnComment=vtn_comment)
    properties = {"dtstart": start, "duration": duration}
    _put(properties, tolerance=None if start_after is None else {"tolerate": {"startafter": _duration(start_after)}})
    for member, value in (("x-eiNotification", notification), ("x-eiRampUp", ramp_up), ("x-eiRecovery", recovery)):
        if value is not None:
            properties[member] = _duration(value)
    event_signals = {"eiEventSignal": list(signals)}
    _put(event_signals, eiEventBaseline=event_baseline)
    ei_event = {"eventDescriptor": descriptor, "eiActivePeriod": {"properties": properties},
                "eiEventSignals": event_signals, "eiTarget": {} if target is None else target}
    descriptor["eventStatus"] = status or event_status(ei_event, now)
    body = {"eiEvent": ei_event, "emapResponseRequired": response_required}
    return _put(body, emapOptChangeAllowed=opt_change_allowed,
                emapOptChangeDeadline=None if opt_change_deadline is None else _time(opt_change_deadline))


def created_event(request_id: str, ven_id: str, event_responses: Iterable[dict], code: str = "200",
                  description: str | None = None) -> dict:
    """`emapCreatedEvent`; `eventResponses` only when there is at least one (Table 6.3.4-21)."""
    responses = list(event_responses)
    body = {"eiResponse": ei_response(request_id, code, description)}
    _put(body, eventResponses={"eventResponse": responses} if responses else None)
    body["venID"] = ven_id
    return {"emapCreatedEvent": {"eiCreatedEvent": body}}


def event_response(request_id: str, event_id: str, modification_number: int, opt_type: str = "optIn",
                   code: str = "200", description: str | None = None) -> dict:
    """One `EventResponse` (Table 6.3.4-23)."""
    body = _put({"responseCode": code}, responseDescription=description)
    body.update(requestID=request_id, qualifiedEventID={"eventID": event_id, "modificationNumber": modification_number},
                optType=opt_type)
    return body


# Report (6.4.6)

def item_base(kind: str, *, units: str | None = None, description: str | None = None, scale: str = "none",
              hertz: float = 50, voltage: float = 230, ac: bool = True, pulse_factor: float = 1.0) -> dict:
    """An `itemBase` of Table B-11 with its fixed description and first listed unit unless given."""
    fixed_description, fixed_units = ITEM_BASE_KINDS[kind]
    if units is None:
        units = fixed_units[0] if isinstance(fixed_units, tuple) else ("EUR" if fixed_units else "unit")
    body = {"type": kind, "itemDescription": description or fixed_description or kind, "itemUnits": units}
    if kind == "pulseCount":
        body["pulseFactor"] = pulse_factor
        return body
    body["siScaleCode"] = scale
    if kind in POWER_KINDS:
        body["powerAttributes"] = {"hertz": hertz, "voltage": voltage, "ac": ac}
    return body


def report_description(r_id: str, report_type: str, reading_type: str, *, item_base: dict | None = None,
                       sampling: tuple[str | float, str | float, bool] | None = None,
                       data_source: dict | None = None, subject: dict | None = None,
                       market_context: str | None = None) -> dict:
    """One `EmapReportDescription`; ``sampling`` is ``(min period, max period, on change)``."""
    body = {"rID": r_id}
    _put(body, reportSubject=subject, reportDataSource=data_source)
    body["reportType"] = report_type
    _put(body, itemBase=item_base)
    body["readingType"] = reading_type
    _put(body, marketContext=market_context)
    if sampling is not None:
        low, high, on_change = sampling
        body["emapSamplingRate"] = {"emapMinPeriod": _duration(low), "emapMaxPeriod": _duration(high),
                                    "emapOnChange": on_change}
    return body


def metadata_report(report_specifier_id: str, report_name: str, descriptions: Iterable[dict], *,
                    duration: str | float = "PT0S", created: datetime | str | None = None) -> dict:
    """One `MetadataReport` (Table 6.4.6-2)."""
    return {"duration": _duration(duration), "emapReportDescription": list(descriptions), "reportRequestID": "0",
            "reportSpecifierID": report_specifier_id, "reportName": report_name, "createdDateTime": _time(created)}


def register_report(request_id: str, ven_id: str, reports: Iterable[dict] = (),
                    report_request_id: str | None = None) -> dict:
    body = {"requestID": request_id, "emapReport": list(reports), "venID": ven_id}
    return {"emapRegisterReport": _put(body, reportRequestID=report_request_id)}


def registered_report(request_id: str, ven_id: str, code: str = "200", description: str | None = None) -> dict:
    return {"emapRegisteredReport": {"eiResponse": ei_response(request_id, code, description), "venID": ven_id}}


def window(dtstart: datetime | str, duration: str | float) -> dict:
    """`{"properties": WindowProperties}` (Tables 6.4.6-9, 6.5.4-4)."""
    return {"properties": {"dtstart": _time(dtstart), "duration": _duration(duration)}}


def report_request(report_request_id: str, specifier_id: str, rids: Iterable[str] = (), *,
                   granularity: str | float = "PT0S", back_duration: str | float = "PT0S",
                   interval: tuple[datetime | str, str | float] | None = None) -> dict:
    """One `EmapReportRequest`; `specifierPayload` (readingType `x-notApplicable`) unless `METADATA`."""
    specifier = {"reportSpecifierID": specifier_id, "granularity": _duration(granularity),
                 "reportBackDuration": _duration(back_duration)}
    _put(specifier, reportInterval=None if interval is None else window(*interval))
    payload = [{"rID": r_id, "readingType": "x-notApplicable"} for r_id in rids]
    _put(specifier, specifierPayload=payload or None)
    return {"reportRequestID": report_request_id, "reportSpecifier": specifier}


def create_report(request_id: str, ven_id: str, report_requests: Iterable[dict]) -> dict:
    return {"emapCreateReport": {"requestID": request_id, "emapReportRequest": list(report_requests),
                                 "venID": ven_id}}


def _pending(request_id: str, ven_id: str, pending: Iterable[str], code: str, description: str | None) -> dict:
    return {"eiResponse": ei_response(request_id, code, description),
            "emapPendingReports": {"reportRequestID": list(pending)}, "venID": ven_id}


def created_report(request_id: str, ven_id: str, pending: Iterable[str], code: str = "200",
                   description: str | None = None) -> dict:
    return {"emapCreatedReport": _pending(request_id, ven_id, pending, code, description)}


def report_payload(r_id: str, *, value: float | None = None, online: bool | None = None,
                   manual_override: bool = False, load_control_state: dict | None = None,
                   confidence: int | None = None, accuracy: float | None = None, quality: str | None = None) -> dict:
    """One `EmapReportPayload`: `payloadFloat` when ``value`` is given, else `emapPayloadResourceStatus`."""
    body = _put({"rID": r_id}, confidence=confidence, accuracy=accuracy)
    if value is not None:
        body["payloadFloat"] = {"value": value}
    else:
        status = {"emapOnline": True if online is None else online, "emapManualOverride": manual_override}
        body["emapPayloadResourceStatus"] = _put(status, emapLoadControlState=load_control_state)
    return _put(body, emapDataQuality=quality)


def data_interval(dtstart: datetime | str, duration: str | float, payloads: Iterable[dict] = (), *,
                  uid: str | None = None, gb_feed: str | None = None) -> dict:
    """One `DataInterval`: `emapReportPayload`, or `emapGBPayload` when ``gb_feed`` is given."""
    body = _put({"dtstart": _time(dtstart), "duration": _duration(duration)}, uid=uid)
    if gb_feed is not None:
        body["emapGBPayload"] = {"feed": gb_feed}
    else:
        body["emapReportPayload"] = list(payloads)
    return body


def data_report(report_request_id: str, report_specifier_id: str, report_name: str, intervals: Sequence[dict], *,
                created: datetime | str | None = None, report_id: str | None = None,
                duration: str | float | None = None) -> dict:
    """One `DataReport` whose `dtstart` is its first interval's (EMAP-6.4.4-02)."""
    body = _put({}, eiReportID=report_id)
    body["dtstart"] = intervals[0]["dtstart"]
    _put(body, duration=None if duration is None else _duration(duration))
    body.update(intervals={"interval": list(intervals)}, reportRequestID=report_request_id,
                reportSpecifierID=report_specifier_id, reportName=report_name, createdDateTime=_time(created))
    return body


def update_report(request_id: str, ven_id: str, reports: Iterable[dict]) -> dict:
    return {"emapUpdateReport": {"requestID": request_id, "emapReport": list(reports), "venID": ven_id}}


def updated_report(request_id: str, ven_id: str, code: str = "200", description: str | None = None) -> dict:
    return {"emapUpdatedReport": {"eiResponse": ei_response(request_id, code, description), "venID": ven_id}}


def cancel_report(request_id: str, ven_id: str, report_request_ids: Iterable[str],
                  report_to_follow: bool = False) -> dict:
    return {"emapCancelReport": {"requestID": request_id, "reportRequestID": list(report_request_ids),
                                 "reportToFollow": report_to_follow, "venID": ven_id}}


def canceled_report(request_id: str, ven_id: str, pending: Iterable[str], code: str = "200",
                    description: str | None = None) -> dict:
    return {"emapCanceledReport": _pending(request_id, ven_id, pending, code, description)}


# Opt (6.5.4)

def create_opt(request_id: str, ven_id: str, opt_id: str, opt_type: str, *, reason: str = "x-schedule",
               availability: Iterable[tuple[datetime | str, str | float]] | None = None, event_id: str | None = None,
               modification_number: int | None = None, target: dict | None = None, opt_change: bool | None = None,
               market_context: str | None = None, device_class: dict | None = None,
               created: datetime | str | None = None) -> dict:
    """`emapCreateOpt`: schedule form with ``availability`` windows, or event form with ``event_id``."""
    body = {"optID": opt_id, "optType": opt_type, "optReason": reason}
    _put(body, marketContext=market_context)
    body["venID"] = ven_id
    if availability is not None:
        body["vavailability"] = {"components": {"available": [window(*item) for item in availability]}}
    body.update(createdDateTime=_time(created), requestID=request_id)
    if event_id is not None:
        body["qualifiedEventID"] = {"eventID": event_id, "modificationNumber": modification_number or 0}
    body["eiTarget"] = {} if target is None else target
    return {"emapCreateOpt": _put(body, emapDeviceClass=device_class, emapOptChange=opt_change)}


def created_opt(request_id: str, opt_id: str, code: str = "200", description: str | None = None) -> dict:
    return {"emapCreatedOpt": {"eiResponse": ei_response(request_id, code, description), "optID": opt_id}}


def cancel_opt(request_id: str, ven_id: str, opt_id: str) -> dict:
    return {"emapCancelOpt": {"requestID": request_id, "optID": opt_id, "venID": ven_id}}


def canceled_opt(request_id: str, opt_id: str, code: str = "200", description: str | None = None) -> dict:
    return {"emapCanceledOpt": {"eiResponse": ei_response(request_id, code, description), "optID": opt_id}}
