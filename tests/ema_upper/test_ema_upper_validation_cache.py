"""The schema-verdict cache of `validate` (the sample EMA's poll path): same answers as without it, bounded."""

import importlib

import pytest

from conformance.messages import MessageError, build, encode, validate
from conformance.messages.validate import VERDICT_CACHE_MAX_BYTES, VerdictCache

validate_module = importlib.import_module("conformance.messages.validate")


@pytest.fixture
def verdicts(monkeypatch):
    cache = VerdictCache(4)
    monkeypatch.setattr(validate_module, "VERDICTS", cache)
    return cache


def _error(payload, posted=True) -> MessageError:
    with pytest.raises(MessageError) as caught:
        validate(payload, posted=posted)
    return caught.value


def test_a_hit_returns_an_equal_but_independent_message(verdicts):
    payload = encode(build.query_registration("q-1", ven_id="ven-7"))
    first = validate(payload)
    first.body["venID"] = 5  # a caller may change its copy
    first.body.clear()
    second = validate(payload)
    assert len(verdicts) == 1
    assert second.envelope == {"emapQueryRegistration": {"requestID": "q-1", "venID": "ven-7"}}
    assert second.body is not first.body


def test_a_cached_error_is_identical_to_the_first(verdicts):
    payload = b'{"emapPoll":{"venID":""}}'
    first, second = _error(payload), _error(payload)
    assert len(verdicts) == 1
    assert first is not second
    for attribute in ("kind", "name", "pointer", "detail", "keyword"):
        assert getattr(first, attribute) == getattr(second, attribute)
    assert (second.kind, second.pointer, str(second)) == ("schema", "/emapPoll/venID", str(first))


def test_posted_has_its_own_verdict(verdicts):
    payload = encode(build.response("r-1", "200"))  # no venID: valid as a CoAP answer only (B.6 rule 5)
    assert validate(payload, posted=False).name == "emapResponse"
    assert _error(payload).pointer.startswith("/emapResponse")
    assert validate(payload, posted=False).name == "emapResponse"
    assert len(verdicts) == 2


def test_normalised_bodies_are_still_normalised_on_a_hit(verdicts):
    payload = b'{"emapQueryRegistration":{"requestID":"q-1","venID":null}}'
    assert validate(payload).body == validate(payload).body == {"requestID": "q-1"}


def test_the_cache_is_bounded_and_drops_the_least_recently_used(verdicts):
    payloads = [encode(build.poll(f"ven-{i}")) for i in range(6)]
    for payload in payloads[:4]:
        validate(payload)
    validate(payloads[0])  # most recently used now
    for payload in payloads[4:]:
        validate(payload)
    assert len(verdicts) == 4
    assert verdicts.get((payloads[0], True)) is None  # kept: verdict "valid"
    assert verdicts.get((payloads[1], True)) is VerdictCache.MISSING


def test_parse_errors_and_large_payloads_are_not_cached(verdicts):
    assert _error(b'{"emapPoll":').kind == "not-json"
    large = encode(build.poll("v" * VERDICT_CACHE_MAX_BYTES))
    assert validate(large).body["venID"].startswith("v")
    assert validate(bytearray(encode(build.poll("ven-1")))).name == "emapPoll"
    assert len(verdicts) == 1
