"""rules: sender-binding and 454/462-coded message-only rules on good and bad examples; Tables 6.3-1, 6.3-3."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conformance.messages import MessageError, build, rules, validate

VALID = Path(__file__).resolve().parents[2] / "fixtures" / "messages" / "valid"
INVALID = VALID.parent / "invalid"
NOW = datetime(2024, 5, 1, 10, 5, tzinfo=UTC)


def body(fixture: str) -> dict:
    return validate((VALID / fixture).read_bytes()).body


def ids(violations) -> list[str]:
    return [v.requirement_id for v in violations]


@pytest.mark.parametrize("fixture", sorted(p.name for p in VALID.glob("*.binding-*.json")))
def test_binding_examples_break_no_rule(fixture):
    message = validate((VALID / fixture).read_bytes())
    now = NOW if fixture == "emapDistributeEvent.binding-2.json" else None
    sender = "U" if fixture == "emapRegisterReport.binding-1.json" else "L"
    assert rules.check(message, now=now, sender=sender) == []


@pytest.mark.parametrize("now, status", [
    ("2024-05-01T09:00:00Z", "far"), ("2024-05-01T09:55:00Z", "near"), ("2024-05-01T10:00:00Z", "active"),
    ("2024-05-01T10:59:59Z", "active"), ("2024-05-01T11:00:00Z", "completed"),
])
def test_event_status_table(now, status):
    event = build.event("ev", dtstart="2024-05-01T10:00:00Z", duration="PT1H", ramp_up="PT5M", status="far")
    assert rules.event_status(event, datetime.fromisoformat(now)) == status


def test_event_status_open_ended_and_cancelled():
    event = build.event("ev", dtstart="2024-05-01T10:00:00Z", duration="PT0S", status="far")
    assert rules.event_status(event["eiEvent"], datetime(2030, 1, 1, tzinfo=UTC)) == "active"
    event["eiEvent"]["eventDescriptor"]["eventStatus"] = "cancelled"
    assert rules.event_status(event, NOW) == "cancelled"


def test_event_sort_key_orders_per_table_6_3_3():
    def ev(event_id, status, dtstart, priority=None):
        return build.event(event_id, status=status, dtstart=dtstart, priority=priority)
    expected = [
        ev("a1", "active", "2024-05-01T10:00:00Z", 1), ev("a2", "active", "2024-05-01T09:00:00Z", 2),
        ev("a3", "active", "2024-05-01T08:00:00Z", 0), ev("a4", "active", "2024-05-01T08:00:00Z"),
        ev("f1", "near", "2024-05-01T11:00:00Z", 3), ev("f2", "far", "2024-05-01T11:00:00Z"),
        ev("f0", "far", "2024-05-01T12:00:00Z", 1),
        ev("c1", "cancelled", "2024-05-01T07:00:00Z"), ev("c0", "completed", "2024-05-01T08:00:00Z"),
        ev("c2", "completed", "2024-05-01T08:00:00Z"),
    ]
    assert sorted(reversed(expected), key=rules.event_sort_key) == expected


def _distribute(*events, now=NOW):
    return build.distribute_event("de-1", "vtn-1", events)["emapDistributeEvent"]


def test_event_rules_on_bad_events():
    good = build.event("ev-1", now=NOW, signals=[build.signal([("PT30M", 1), ("PT30M", 2)])])
    bad = copy.deepcopy(good)
    intervals = bad["eiEvent"]["eiEventSignals"]["eiEventSignal"][0]["intervals"]["interval"]
    intervals[1]["uid"] = "2"
    intervals[1]["duration"] = "PT20M"
    intervals[0]["signalPayload"]["payloadFloat"]["value"] = 4
    bad["eiEvent"]["eiEventSignals"]["eiEventSignal"].append(
        build.signal([("PT1H", 1)], name="ELECTRICITY_PRICE", signal_type="level", item_base=build.item_base("currency")))
    bad["eiEvent"]["eiTarget"] = {"venID": ["ven-7", "ven-8"]}
    bad["emapOptChangeDeadline"] = "2024-05-01T13:00:00Z"
    found = rules.event_rules(_distribute(bad))
    assert sorted(ids(found)) == ["EMAP-6.3.1-04"] * 2 + ["EMAP-6.3.1-05"] * 5 + ["EMAP-6.3.1-08"] + ["EMAP-A-03"] * 2
    assert "/emapDistributeEvent/emapEvent/0/eiEvent/eiEventSignals/eiEventSignal/0/intervals/interval/1/uid" in [
        v.pointer for v in found]
    assert all(v.code is None for v in found)


def test_event_rules_open_ended_intervals():
    good = build.event("ev-1", now=NOW, duration="PT0S", signals=[build.signal([("PT10M", 1), ("PT0S", 2)])])
    assert rules.event_rules(_distribute(good)) == []
    bad = build.event("ev-1", now=NOW, duration="PT0S", signals=[build.signal([("PT0S", 1), ("PT10M", 2)])])
    assert ids(rules.event_rules(_distribute(bad))) == ["EMAP-6.3.1-04", "EMAP-6.3.1-04"]


def test_event_rules_duplicates_order_status_and_response():
    first = build.event("ev-2", now=NOW, dtstart="2024-05-01T12:00:00Z")
    second = build.event("ev-1", now=NOW, dtstart="2024-05-01T11:00:00Z")
    twice = build.event("ev-2", now=NOW, dtstart="2024-05-01T12:00:00Z")
    found = rules.event_rules(_distribute(first, second, twice), answers_request=True)
    assert sorted(ids(found)) == ["EMAP-6.3.2-02", "EMAP-6.3.2-02", "EMAP-6.3.2-03", "EMAP-6.3.2-04"]
    wrong = build.event("ev-3", now=NOW, dtstart="2024-05-01T10:00:00Z", status="far")
    assert ids(rules.event_rules(_distribute(wrong), NOW)) == ["EMAP-6.3.1-03"]
    assert rules.event_rules(_distribute(wrong), datetime(2024, 5, 1, 9, 59, 59, 500000, tzinfo=UTC)) == []


def test_current_value_rules():
    active = build.event("ev-1", now=NOW, dtstart="2024-05-01T10:00:00Z",
                         signals=[build.signal([("PT30M", 1), ("PT30M", 2)], current_value=2)])
    assert ids(rules.event_rules(_distribute(active), NOW)) == ["EMAP-6.3.1-06"]
    far_price = build.event("ev-2", now=NOW, signals=[build.signal(
        [("PT1H", 0.3)], name="x-PRICE", signal_type="price", current_value=0.3)])
    assert ids(rules.event_rules(_distribute(far_price))) == ["EMAP-6.3.1-06"]


def test_created_event_rules_against_the_distribute_event():
    distribute = body("emapDistributeEvent.binding-2.json")
    created = body("emapCreatedEvent.binding-1.json")
    assert rules.created_event_rules({"eiCreatedEvent": created["eiCreatedEvent"]}, distribute) == []
    wrong = copy.deepcopy(created)
    response = wrong["eiCreatedEvent"]["eventResponses"]["eventResponse"][0]
    response["qualifiedEventID"] = {"eventID": "ev-43", "modificationNumber": 0}
    response["requestID"] = "de-9"
    assert sorted(ids(rules.created_event_rules(wrong, distribute))) == [
        "EMAP-6.3.2-07", "EMAP-6.3.2-07", "EMAP-6.3.2-08"]


def test_metadata_rules():
    good = body("emapRegisterReport.binding-3.json")
    assert rules.metadata_rules(good, "L") == []
    bad = copy.deepcopy(good)
    status, usage = bad["emapReport"]
    usage["reportSpecifierID"] = status["reportSpecifierID"]
    usage["emapReportDescription"][1]["rID"] = "power-1"
    usage["emapReportDescription"][0]["itemBase"] = build.item_base("voltage")
    del status["emapReportDescription"][0]["emapSamplingRate"]
    usage["emapReportDescription"][0]["emapSamplingRate"]["emapMaxPeriod"] = "PT1S"
    found = rules.metadata_rules(bad, "L")
    assert sorted(ids(found)) == ["EMAP-6.4.2-02"] * 7
    assert {v.code for v in found} == {"454"}
    only_status = {**good, "emapReport": good["emapReport"][:1]}
    assert ids(rules.metadata_rules(only_status, "L")) == ["EMAP-6.4.2-03"]
    assert rules.metadata_rules(only_status, "U") == []
    named = copy.deepcopy(good)
    named["emapReport"][0]["reportName"] = "TELEMETRY_STATUS"
    assert ids(rules.metadata_rules(named, "U")) == ["EMAP-6.4.2-02"]


def test_report_request_rules():
    good = body("emapCreateReport.binding-2.json")
    assert rules.report_request_rules(good) == []
    bad = copy.deepcopy(good)
    first, metadata = bad["emapReportRequest"]
    metadata["reportRequestID"] = "0"
    metadata["reportSpecifier"]["specifierPayload"] = [{"rID": "x", "readingType": "x-notApplicable"}]
    first["reportSpecifier"]["specifierPayload"][0]["readingType"] = "Direct Read"
    history = {"rs-usage": {"reportName": "METADATA_HISTORY_USAGE"}}
    assert sorted(ids(rules.report_request_rules(bad, history))) == ["EMAP-6.4.3-02"] * 4


def test_data_report_rules():
    good = body("emapUpdateReport.binding-2.json")
    requests = {r["reportRequestID"]: r for r in body("emapCreateReport.binding-2.json")["emapReportRequest"]}
    assert rules.data_report_rules(good, requests) == []
    bad = copy.deepcopy(good)
    report = bad["emapReport"][0]
    report["dtstart"] = "2024-05-01T09:59:00Z"
    report["duration"] = "PT3M"
    report["intervals"]["interval"][1]["dtstart"] = "2024-05-01T10:00:30Z"
    report["intervals"]["interval"][1]["duration"] = "PT30S"
    for interval in report["intervals"]["interval"]:
        interval["emapReportPayload"] = interval["emapReportPayload"][:1]
    assert sorted(ids(rules.data_report_rules(bad, requests))) == [
        "EMAP-6.4.4-02", "EMAP-6.4.4-02", "EMAP-6.4.4-02", "EMAP-6.4.4-02", "EMAP-6.4.6-01"]
    status = body("emapUpdateReport.binding-1.json")
    status["emapReport"][0]["reportName"] = "TELEMETRY_USAGE"
    assert ids(rules.data_report_rules(status)) == ["EMAP-6.4.4-03"]


def test_opt_rules():
    assert rules.opt_rules(body("emapCreateOpt.binding-1.json")) == []
    assert rules.opt_rules(body("emapCreateOpt.binding-3.json")) == []
    both = {**body("emapCreateOpt.binding-1.json"), "qualifiedEventID": {"eventID": "e", "modificationNumber": 0}}
    assert [(v.requirement_id, v.pointer, v.code) for v in rules.opt_rules(both)] == [
        ("EMAP-6.5.2-03", "/emapCreateOpt", "454")]
    event_with_market = {**body("emapCreateOpt.binding-2.json"), "marketContext": "http://example.com/p"}
    assert ids(rules.opt_rules(event_with_market)) == ["EMAP-6.5.2-03"]
    schedule_change = {**body("emapCreateOpt.binding-1.json"), "emapOptChange": True,
                       "eiTarget": {"venID": ["ven-8"]}}
    assert [(v.requirement_id, v.code) for v in rules.opt_rules(schedule_change)] == [
        ("EMAP-A-05", "454"), ("EMAP-6.5.2-04", "462")]


@pytest.mark.parametrize("uri, problem", [
    ("coap://[2001:db8::7]:5683/emap", None), ("coaps://host/a/b", None), ("coap://h/emap/", "trailing"),
    ("http://h/emap", "scheme"), ("coap://h", "base path"), ("coap://h/emap?x=1", "query"),
    ("coap:///emap", "host"), ("coap://h:99999/emap", "URI"),
])
def test_base_uri_problem(uri, problem):
    result = rules.base_uri_problem(uri)
    assert (result is None) if problem is None else (problem in result)


def test_registration_rules():
    assert rules.registration_rules(body("emapCreatePartyRegistration.binding-2.json")) == []
    push = {**body("emapCreatePartyRegistration.binding-2.json"), "emapTransportAddress": "coap://h/emap/"}
    assert [(v.requirement_id, v.code) for v in rules.registration_rules(push)] == [("EMAP-6.2.3-02", "454")]
    pull = {**body("emapCreatePartyRegistration.binding-1.json"), "emapTransportAddress": "coap://h/emap",
            "emapSignature": True, "emapProfileName": "EMAP-2.0"}
    assert ids(rules.registration_rules(pull)) == ["EMAP-6.2.3-01", "EMAP-6.2.3-01", "EMAP-8-10"]


def test_response_code_rules():
    message = validate(build.created_event("de-1", "ven-7", [build.event_response("de-1", "e", 0, code="400")],
                                           code="201"))
    assert [v.pointer for v in rules.response_code_rules(message)] == [
        "/emapCreatedEvent/eiCreatedEvent/eiResponse/responseCode",
        "/emapCreatedEvent/eiCreatedEvent/eventResponses/eventResponse/0/responseCode"]


@pytest.mark.parametrize("fixture, requirement", [
    ("emapPoll.bom.json", "EMAP-B-02"), ("envelope.two-envelopes.json", "EMAP-B-03"),
    ("emapPoll.null-venID.json", "EMAP-B-07"), ("emapCancelReport.empty-required-array.json", "EMAP-B-08"),
    ("emapDistributeEvent.dtstart-offset.json", "EMAP-B-10"), ("emapDistributeEvent.duration-year.json", "EMAP-B-10"),
    ("emapDistributeEvent.createdDateTime-feb-30.json", "EMAP-B-10"),
    ("emapResponse.responseCode-number.json", "EMAP-B-11"), ("emapCreateOpt.optType-wrong-case.json", "EMAP-B-13"),
    ("emapDistributeEvent.itemBase-powerReal-kW.json", "EMAP-B-12"), ("emapPoll.missing-venID.json", "EMAP-B-01"),
])
def test_requirement_of_message_errors(fixture, requirement):
    with pytest.raises(MessageError) as caught:
        validate((INVALID / fixture).read_bytes())
    assert rules.requirement_of(caught.value) == requirement


def test_expected_json_is_well_formed():
    expected = json.loads((INVALID / "expected.json").read_text())
    assert all(set(reason) == {"kind", "pointer"} for reason in expected.values())


def test_created_registration_rules():
    assert rules.created_registration_rules(body("emapCreatedPartyRegistration.binding-2.json")) == []
    refused = build.created_party_registration("c-1", "vtn-1", code="469", registration_id="r", ven_id="v")
    assert ids(rules.created_registration_rules(refused["emapCreatedPartyRegistration"])) == ["EMAP-6.2.3-09"]
    half = build.created_party_registration("c-1", "vtn-1", registration_id="r")["emapCreatedPartyRegistration"]
    assert [(v.requirement_id, v.pointer) for v in rules.created_registration_rules(half)] == [
        ("EMAP-6.2.6-01", "/emapCreatedPartyRegistration/venID")]
