"""The strict Annex B walk of the encoding test cases (conformance/testcases/encoding/strict.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from conformance.messages import build as B
from conformance.messages.validate import parse
from conformance.testcases.encoding.case_probes import case_changed, renamed, revalued
from conformance.testcases.encoding.strict import findings

VALID = Path(__file__).resolve().parents[2] / "fixtures" / "messages" / "valid"
#: Valid fixtures a receiver accepts but a sender must not send: unknown members (EMAP-B-06) and empty arrays
#: where the field table allows none (EMAP-B-08, treated as absent by a receiver).
SENDER_FORBIDDEN = {
    "emapDistributeEvent.edge-unknown-members-at-depth.json": "EMAP-B-04",
    "emapDistributeEvent.edge-empty-and-null-opt-arrays.json": "EMAP-B-08",
    "emapCreateReport.edge-metadata-and-week-durations.json": "EMAP-B-08",
    "emapUpdateReport.edge-greenbutton-and-status.json": "EMAP-B-08",
}


def _requirements(envelope) -> set[str]:
    return {finding.requirement for finding in findings(envelope)}


def _event_message() -> dict:
    signal = B.signal([("PT1H", 0.2)], name="ELECTRICITY_PRICE", signal_type="price",
                      item_base=B.item_base("currencyPerKWh", units="EUR"))
    return B.distribute_event("de-1", "vtn-1", [B.event("ev-1", signals=[signal], ramp_up="PT5M")])


def _signal(envelope: dict) -> dict:
    return envelope["emapDistributeEvent"]["emapEvent"][0]["eiEvent"]["eiEventSignals"]["eiEventSignal"][0]


@pytest.mark.parametrize("path", sorted(VALID.glob("*.json")), ids=lambda p: p.name)
def test_valid_fixtures(path):
    found = _requirements(parse(path.read_bytes()))
    expected = {SENDER_FORBIDDEN[path.name]} if path.name in SENDER_FORBIDDEN else set()
    assert found == expected, [str(f) for f in findings(parse(path.read_bytes()))]


def test_built_event_is_clean():
    assert findings(_event_message()) == []


def test_unknown_member_at_depth():
    message = _event_message()
    _signal(message)["intervals"]["interval"][0]["signalPayload"]["payloadFloat"]["Value"] = 1
    [finding] = findings(message)
    assert finding.requirement == "EMAP-B-04"
    assert finding.pointer.endswith("/interval/0/signalPayload/payloadFloat/Value")


@pytest.mark.parametrize("change, requirement", [
    (lambda m: m.update(other={}), "EMAP-B-03"),
    (lambda m: m.update({"EmapDistributeEvent": m.pop("emapDistributeEvent")}), "EMAP-B-03"),
    (lambda m: m["emapDistributeEvent"].update(emapEvent=m["emapDistributeEvent"]["emapEvent"][0]), "EMAP-B-08"),
    (lambda m: _signal(m).update(eiTarget={"venID": "ven-1"}), "EMAP-B-08"),
    (lambda m: _signal(m).update(eiTarget={"venID": []}), "EMAP-B-08"),
    (lambda m: _signal(m)["intervals"]["interval"][0].update(duration={"duration": "PT1H"}), "EMAP-B-09"),
    (lambda m: _signal(m)["intervals"]["interval"][0].update(uid={"text": "0"}), "EMAP-B-09"),
    (lambda m: _signal(m)["intervals"]["interval"][0].update(duration="PT1h"), "EMAP-B-10"),
    (lambda m: m["emapDistributeEvent"]["emapEvent"][0]["eiEvent"]["eventDescriptor"].update(
        createdDateTime="2024-05-01T10:00:00+00:00"), "EMAP-B-10"),
    (lambda m: _signal(m)["intervals"]["interval"][0].update(duration=3600), "EMAP-B-11"),
    (lambda m: m["emapDistributeEvent"]["emapEvent"][0]["eiEvent"]["eventDescriptor"].update(
        modificationNumber="0"), "EMAP-B-11"),
    (lambda m: m["emapDistributeEvent"]["emapEvent"][0]["eiEvent"]["eventDescriptor"].update(
        modificationNumber=1.0), "EMAP-B-11"),
    (lambda m: m["emapDistributeEvent"].update(eiResponse=B.ei_response("r", 200)), "EMAP-B-11"),
    (lambda m: _signal(m)["itemBase"].update(itemUnits="eur"), "EMAP-B-12"),
    (lambda m: _signal(m)["itemBase"].update(siScaleCode="K"), "EMAP-B-12"),
    (lambda m: _signal(m)["itemBase"].update(powerAttributes={"hertz": 50, "voltage": 230, "ac": "true"}),
     "EMAP-B-12"),
    (lambda m: _signal(m).update(signalType="Price"), "EMAP-B-13"),
    (lambda m: _signal(m).update(signalName="electricity_price"), "EMAP-B-13"),
    (lambda m: m["emapDistributeEvent"]["emapEvent"][0].update(emapResponseRequired="ALWAYS"), "EMAP-B-13"),
])
def test_each_rule_flags_only_itself(change, requirement):
    message = _event_message()
    change(message)
    assert _requirements(message) == {requirement}, [str(f) for f in findings(message)]


def test_x_token_in_open_enumeration_is_fine():
    message = _event_message()
    _signal(message)["signalName"] = "x-myPrice"
    assert findings(message) == []


def test_null_members_are_left_to_b07():
    message = _event_message()
    message["emapDistributeEvent"]["eiResponse"] = None
    assert findings(message) == []


def test_case_probes():
    poll = B.poll("ven-1")
    assert case_changed("venID") == "VenID"
    assert parse(renamed(poll, ("emapPoll",), "venID")) == {"emapPoll": {"VenID": "ven-1"}}
    assert parse(renamed(poll, (), "emapPoll")) == {"EmapPoll": {"venID": "ven-1"}}
    opt = B.create_opt("co-1", "ven-1", "opt-1", "optOut", availability=[("2024-05-01T10:00:00Z", "PT1H")])
    original = copy.deepcopy(opt)
    assert parse(revalued(opt, ("emapCreateOpt",), "optType", "optout"))["emapCreateOpt"]["optType"] == "optout"
    assert opt == original
