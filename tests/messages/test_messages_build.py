"""Every builder produces a valid message that also follows the sender-binding rules it can know about."""

from datetime import UTC, datetime

import pytest

from conformance.messages import MESSAGES, build, rules, validate

NOW = datetime(2024, 5, 1, 10, 5, tzinfo=UTC)
USAGE = build.metadata_report("rs-usage", "METADATA_TELEMETRY_USAGE", [
    build.report_description("power-1", "usage", "Direct Read", item_base=build.item_base("powerReal"),
                             sampling=("PT10S", 900, False), data_source={"resourceID": ["hp-1"]})],
    duration="PT24H", created=NOW)
STATUS = build.metadata_report("rs-status", "METADATA_TELEMETRY_STATUS", [
    build.report_description("status-1", "x-resourceStatus", "x-notApplicable", sampling=(60, 3600, True))],
    created=NOW)
EVENTS = [
    build.event("ev-1", now=NOW, dtstart="2024-05-01T10:00:00Z", priority=1, ramp_up="PT5M",
                opt_change_allowed=True, opt_change_deadline="2024-05-01T10:30:00Z",
                signals=[build.signal([("PT30M", 1), ("PT30M", 2)], current_value=1)],
                event_baseline=build.baseline([("PT1H", 3.2)], dtstart="2024-05-01T10:00:00Z",
                                              item_base=build.item_base("powerReal", scale="k"))),
    build.event("ev-2", now=NOW, start_after="PT2M", notification="PT30M", recovery=300, test_event="true",
                signals=[build.signal([(1800, 0.3), (1800, 0.2)], name="ELECTRICITY_PRICE", signal_type="price",
                                      item_base=build.item_base("currencyPerKWh"))],
                target={"resourceID": ["hp-1"]}, response_required="never"),
    build.event("ev-3", now=NOW, dtstart="2024-05-01T08:00:00Z", status="cancelled", modification_number=2),
]
INTERVAL = build.data_interval(NOW, "PT1M", [build.report_payload("power-1", value=1830.0, confidence=100,
                                                                  accuracy=0.5, quality="Quality Good - Non Specific")],
                               uid="0")
STATUS_INTERVAL = build.data_interval(NOW, 0, [build.report_payload(
    "status-1", online=True, load_control_state={"emapSetPoint": {"emapCurrent": 21}})])

ENVELOPES = {
    "emapQueryRegistration": build.query_registration("q-1", "ven-7"),
    "emapCreatedPartyRegistration": build.created_party_registration(
        "c-1", "vtn-1", registration_id="reg-1", ven_id="ven-7", poll_freq=10, opt_change=True, description="OK"),
    "emapCreatePartyRegistration": build.create_party_registration(
        "c-2", pull=False, transport_address="coap://127.0.0.1:5684/emap", registration_id="reg-1", ven_id="ven-7",
        opt_change=True, ven_name="flat 7", report_only=True),
    "emapCancelPartyRegistration": build.cancel_party_registration("cp-1", "reg-1", "ven-7"),
    "emapCanceledPartyRegistration": build.canceled_party_registration("cp-1", "reg-1", "ven-7", code="452"),
    "emapRequestReregistration": build.request_reregistration("ven-7"),
    "emapResponse": build.response("", ven_id="ven-7"),
    "emapRequestEvent": build.request_event("re-1", "ven-7", reply_limit=2),
    "emapPoll": build.poll("ven-7"),
    "emapDistributeEvent": build.distribute_event("de-1", "vtn-1", sorted(EVENTS, key=rules.event_sort_key),
                                                  ei_response=build.ei_response("re-1")),
    "emapCreatedEvent": build.created_event("de-1", "ven-7", [build.event_response("de-1", "ev-1", 0, "optOut")]),
    "emapRegisterReport": build.register_report("rr-1", "ven-7", [STATUS, USAGE]),
    "emapRegisteredReport": build.registered_report("rr-1", "ven-7"),
    "emapCreateReport": build.create_report("cr-1", "ven-7", [
        build.report_request("rq-1", "rs-usage", ["power-1"], granularity="PT1M", back_duration=120,
                             interval=(NOW, "PT1H")),
        build.report_request("rq-2", "METADATA")]),
    "emapCreatedReport": build.created_report("cr-1", "ven-7", ["rq-1"]),
    "emapUpdateReport": build.update_report("ur-1", "ven-7", [
        build.data_report("rq-1", "rs-usage", "TELEMETRY_USAGE", [INTERVAL], created=NOW, report_id="r-1",
                          duration="PT1M"),
        build.data_report("rq-3", "rs-status", "TELEMETRY_STATUS", [STATUS_INTERVAL])]),
    "emapUpdatedReport": build.updated_report("ur-1", "ven-7"),
    "emapCancelReport": build.cancel_report("xr-1", "ven-7", ["rq-1"], report_to_follow=True),
    "emapCanceledReport": build.canceled_report("xr-1", "ven-7", []),
    "emapCreateOpt": build.create_opt("co-1", "ven-7", "opt-1", "optOut", availability=[(NOW, "PT2H")],
                                      market_context="http://example.com/programs/peak", created=NOW),
    "emapCreatedOpt": build.created_opt("co-1", "opt-1"),
    "emapCancelOpt": build.cancel_opt("xo-1", "ven-7", "opt-1"),
    "emapCanceledOpt": build.canceled_opt("xo-1", "opt-1"),
}


def test_a_builder_for_every_message():
    assert set(ENVELOPES) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_builder_output_is_valid(name):
    message = validate(ENVELOPES[name])
    assert message.name == name
    assert message.body == ENVELOPES[name][name]


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_builder_output_follows_sender_rules(name):
    assert rules.check(validate(ENVELOPES[name]), now=NOW, sender="L") == []


def test_event_defaults():
    emap_event = build.event("ev-9", now=NOW)
    descriptor = emap_event["eiEvent"]["eventDescriptor"]
    assert descriptor["eventStatus"] == "far" and descriptor["modificationNumber"] == 0
    assert emap_event["eiEvent"]["eiTarget"] == {}
    signal = emap_event["eiEvent"]["eiEventSignals"]["eiEventSignal"][0]
    assert (signal["signalName"], signal["signalType"]) == ("SIMPLE", "level")
    assert signal["intervals"]["interval"] == [
        {"duration": "PT1H", "uid": "0", "signalPayload": {"payloadFloat": {"value": 1}}}]


def test_event_form_opt_and_defaults():
    body = build.create_opt("co-2", "ven-7", "opt-2", "optIn", event_id="ev-1", modification_number=3,
                            opt_change=True, reason="overrideStatus")["emapCreateOpt"]
    assert body["qualifiedEventID"] == {"eventID": "ev-1", "modificationNumber": 3}
    assert "vavailability" not in body and body["eiTarget"] == {}
    assert validate({"emapCreateOpt": body}).name == "emapCreateOpt"


def test_item_base_kinds_are_valid():
    from conformance.messages.fields import ITEM_BASE_KINDS
    for kind in ITEM_BASE_KINDS:
        description = build.report_description("r", "reading", "Direct Read", item_base=build.item_base(kind))
        report = build.metadata_report("rs", "x-ANY", [description], created=NOW)
        validate(build.register_report("rr", "ven-7", [report]))
