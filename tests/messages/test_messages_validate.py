"""validate(): input forms, normalisation (B.6 rule 2), ValidMessage properties, encode()."""

import pytest

from conformance.messages import MessageError, ValidMessage, build, encode, validate


def test_accepts_bytes_str_and_dict_alike():
    envelope = build.poll("ven-7")
    for payload in (encode(envelope), encode(envelope).decode(), envelope):
        assert validate(payload) == ValidMessage("emapPoll", {"venID": "ven-7"})


def test_dict_input_is_not_mutated_by_normalisation():
    envelope = {"emapQueryRegistration": {"requestID": "q-1", "venID": None}}
    message = validate(envelope)
    assert message.body == {"requestID": "q-1"}
    assert envelope["emapQueryRegistration"]["venID"] is None


def test_normalisation_drops_null_and_empty_opt_members_at_depth():
    body = {"requestID": "de-1", "vtnID": "vtn-1", "eiResponse": None,
            "emapEvent": [build.event("ev-1", target={"venID": [], "groupID": None})]}
    message = validate({"emapDistributeEvent": body})
    assert "eiResponse" not in message.body
    assert message.body["emapEvent"][0]["eiEvent"]["eiTarget"] == {}


def test_unknown_members_are_kept_but_ignored():
    message = validate({"emapPoll": {"venID": "ven-7", "x-extra": None}})
    assert message.body == {"venID": "ven-7", "x-extra": None}


@pytest.mark.parametrize("envelope, request_id, code", [
    (build.poll("ven-7"), None, None),
    (build.request_reregistration("ven-7"), None, None),
    (build.query_registration("q-1"), "q-1", None),
    (build.request_event("re-1", "ven-7"), "re-1", None),
    (build.distribute_event("de-1", "vtn-1", [], ei_response=build.ei_response("re-1")), "de-1", None),
    (build.response("", "200", "ven-7"), "", "200"),
    (build.created_event("de-1", "ven-7", [], code="452"), "de-1", "452"),
    (build.canceled_opt("xo-1", "opt-1", code="452"), "xo-1", "452"),
])
def test_request_id_and_response_code(envelope, request_id, code):
    message = validate(envelope)
    assert (message.request_id, message.response_code) == (request_id, code)
    assert message.envelope == envelope


def test_encode_is_compact_utf8_and_rejects_nan():
    assert encode({"emapPoll": {"venID": "vén"}}) == '{"emapPoll":{"venID":"vén"}}'.encode()
    with pytest.raises(ValueError):
        encode({"x": float("nan")})


@pytest.mark.parametrize("payload, kind", [
    (b'{"emapPoll": {"venID": "v"}}' + b"\x80", "not-utf8"),
    ("\ufeff" + '{"emapPoll": {"venID": "v"}}', "bom"),
    ("[" * 100000, "not-json"),
    ('{"emapRequestEvent": {"eiRequestEvent": {"requestID": "r", "venID": "v", "replyLimit": Infinity}}}',
     "not-json"),
])
def test_encoding_failures(payload, kind):
    with pytest.raises(MessageError) as caught:
        validate(payload)
    assert caught.value.kind == kind and caught.value.name is None


def test_number_overflow_is_not_a_finite_number():
    with pytest.raises(MessageError) as caught:
        validate('{"emapUpdateReport": {"requestID": "u", "venID": "v", "emapReport": [{"dtstart": '
                 '"2024-05-01T00:00:00Z", "intervals": {"interval": [{"dtstart": "2024-05-01T00:00:00Z", '
                 '"duration": "PT0S", "emapReportPayload": [{"rID": "p", "payloadFloat": {"value": 1e400}}]}]}, '
                 '"reportRequestID": "rq", "reportSpecifierID": "rs", "reportName": "TELEMETRY_USAGE", '
                 '"createdDateTime": "2024-05-01T00:00:00Z"}]}}')
    assert caught.value.pointer.endswith("/payloadFloat/value")


def test_number_accepts_any_json_number_form():
    envelope = build.update_report("u", "v", [build.data_report("rq", "rs", "TELEMETRY_USAGE", [
        build.data_interval("2024-05-01T00:00:00Z", 0, [build.report_payload("p", value=0.0)])])])
    text = encode(envelope).decode().replace('"value":0.0', '"value":-0')
    assert validate(text).body["emapReport"][0]["intervals"]["interval"][0]["emapReportPayload"][0]["payloadFloat"]


@pytest.mark.parametrize("payload, pointer", [
    (b'{"emapPoll": {"venID": "ven-\\ud800"}}', "/emapPoll/venID"),
    (b'{"emapPoll": {"venID": "v", "x": [{"\\udc00": 1}]}}', "/emapPoll/x/0/\\udc00"),
])
def test_unpaired_surrogate_escapes_are_not_unicode_text(payload, pointer):
    with pytest.raises(MessageError) as caught:
        validate(payload)
    assert (caught.value.kind, caught.value.pointer) == ("not-json", pointer)
    str(caught.value).encode("utf-8")


def test_surrogate_pairs_are_text():
    assert validate(b'{"emapPoll": {"venID": "ven-\\ud83d\\ude00"}}').body["venID"] == "ven-\U0001f600"


def test_message_error_pickles():
    import pickle

    with pytest.raises(MessageError) as caught:
        validate(b'{"emapPoll": {}}')
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.kind, copy.name, copy.pointer, str(copy)) == (
        "schema", "emapPoll", "/emapPoll/venID", str(caught.value))
