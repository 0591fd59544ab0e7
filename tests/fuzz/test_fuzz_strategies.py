"""The fuzz strategies draw what they claim: valid templates validate, mutations break one thing, cases round-trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conformance.fuzz import strategies
from conformance.fuzz.cases import FuzzCase, live, resolve
from conformance.fuzz.mutations import apply_bytes, apply_tree, payload_of, pointers
from conformance.messages import MESSAGES, MessageError, validate

IDS = {"venID": "ven-1", "registrationID": "reg-1", "transportAddress": "coap://127.0.0.1:5683/emapl"}
QUICK = settings(max_examples=30, database=None, deadline=None, phases=(Phase.generate,),
                 suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_templates_resolve_to_valid_messages(name):
    @QUICK
    @given(strategies.templates(name))
    def check(envelope):
        validate(payload_of(resolve(envelope, IDS), None), posted=True)

    check()


def test_live_slots_hold_placeholders_and_missing_ids_drop_the_member():
    envelope = {"emapCancelPartyRegistration": {"requestID": "r", "registrationID": live("registrationID"),
                                                "venID": live("venID")}}
    assert resolve(envelope, IDS)["emapCancelPartyRegistration"]["registrationID"] == "reg-1"
    assert "registrationID" not in resolve(envelope, {"venID": "v"})["emapCancelPartyRegistration"]


def test_tree_mutations():
    envelope = {"emapPoll": {"venID": "v"}}
    assert pointers(envelope) == ["/emapPoll", "/emapPoll/venID"]
    assert apply_tree(envelope, {"op": "drop", "pointer": "/emapPoll/venID"}) == {"emapPoll": {}}
    assert apply_tree(envelope, {"op": "replace", "pointer": "/emapPoll/venID", "value": 5}) == {"emapPoll": {"venID": 5}}
    assert apply_tree(envelope, {"op": "rename", "value": "emapX"}) == {"emapX": {"venID": "v"}}
    assert apply_tree(envelope, {"op": "drop", "pointer": "/nowhere/x"}) == envelope
    assert envelope == {"emapPoll": {"venID": "v"}}  # never changed in place


@pytest.mark.parametrize(("mutation", "kind"), [
    ({"op": "bom"}, "bom"),
    ({"op": "bad-utf8", "at": 3, "value": "ff"}, "not-utf8"),
    ({"op": "truncate", "at": 5}, "not-json"),
    ({"op": "duplicate-member"}, "duplicate-member"),
    ({"op": "trailing", "value": "}"}, "not-json"),
])
def test_byte_mutations_break_the_payload(mutation, kind):
    payload = apply_bytes(b'{"emapPoll":{"venID":"v"}}', mutation)
    with pytest.raises(MessageError) as caught:
        validate(payload)
    assert caught.value.kind == kind


def test_number_token_mutation_makes_an_integer_a_float():
    payload = apply_bytes(b'{"a":{"replyLimit":5}}', {"op": "number-token", "value": "1.0"})
    assert payload == b'{"a":{"replyLimit":1.0}}'


@QUICK
@given(st.one_of(strategies.message_cases("emapCreateOpt"), strategies.state_cases(), strategies.coap_cases()))
def test_cases_round_trip_through_replay_files(case):
    data = json.loads(json.dumps(case.to_dict()))
    assert FuzzCase.from_dict(data) == case


def test_same_seed_draws_the_same_cases():
    from hypothesis import seed

    def draw(n):
        out = []

        @QUICK
        @seed(n)
        @given(strategies.message_cases("emapRequestEvent"))
        def collect(case):
            out.append(case)

        collect()
        return out

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_only_exact_placeholders_are_resolved():
    """A drawn string that only starts like a placeholder ("$live:") is kept as drawn."""
    envelope = {"emapPoll": {"venID": live("venID"), "x": [{"uid": "$live:"}, "$live:other"]}}
    assert resolve(envelope, IDS)["emapPoll"] == {"venID": IDS["venID"], "x": [{"uid": "$live:"}, "$live:other"]}
