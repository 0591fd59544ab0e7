"""TC-F-LPCOAP: the poll-reply datagram builder and its expectations, the tap plan that applies it, and the sample
lower EMA in pull mode fuzzed in-process (it survives; a variant that takes a poll reply's payload whatever the
response code is found)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from fuzz_ema_helpers import started_lower_target, stop_lower_target
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.ema.lower import LowerEma
from conformance.fuzz import pollcoap
from conformance.fuzz.cases import FuzzCase
from conformance.fuzz.coapcases import EXPERIMENTAL_OPTIONS
from conformance.fuzz.oracle import Expectation
from conformance.fuzz.pollcoap import ACCEPT, DISCARD, RETRY, ReplyRewrite, reply_plan
from conformance.fuzz.runner import Budget, fuzz
from conformance.fuzz.stats import TargetStats
from conformance.transport import FROM_IUT, TO_IUT, CoapResponse, client, codec

PAYLOAD = b'{"emapDistributeEvent":{"requestID":"r1"}}'
ORIGINAL = codec.CoapDatagram(codec.ACK, codec.code_of("2.04"), 0x1234, b"\x0a\x0b",
                              ((codec.CONTENT_FORMAT, codec.uint_bytes(50)),), PAYLOAD)
GOOD = Expectation("app", "EMAP-6.3.2-07", frozenset({"emapCreatedEvent"}), frozenset({"200"}), "r1")


def expect_payload(payload: bytes) -> Expectation:
    """The known-good payload calls for its step two, anything else for none."""
    return GOOD if payload == PAYLOAD else Expectation("discard", "EMAP-6.6-11")


def plan(**spec):
    return reply_plan(spec, ORIGINAL, expect_payload=expect_payload)


def test_other_code_keeps_the_message_and_is_discarded():
    got = plan(mutation="code", value="4.04")
    dg = codec.decode(got.data)
    assert (dg.mtype, dg.code_text, dg.mid, dg.token, dg.payload) == (codec.ACK, "4.04", 0x1234, b"\x0a\x0b", PAYLOAD)
    assert dg.content_format == 50
    assert got.allowed == {DISCARD} and got.requirement == "EMAP-7.1.4-07" and got.max_age is None


def test_503_carries_max_age_and_sets_the_earliest_poll():
    got = plan(mutation="code", value="5.03", max_age=1)
    dg = codec.decode(got.data)
    assert dg.code_text == "5.03" and dg.uint_option(codec.MAX_AGE) == 1
    assert got.allowed == {DISCARD} and got.max_age == 1 and got.requirement == "EMAP-7.1.5-08"


@pytest.mark.parametrize("value", [None, 0, 60])
def test_content_format_missing_or_other_may_be_accepted_or_discarded(value):
    got = plan(mutation="content-format", value=value)
    assert codec.decode(got.data).content_format == value
    assert got.allowed == {ACCEPT, DISCARD} and got.step == GOOD


def test_unknown_options():
    elective = plan(mutation="elective-option", number=3, value="ab")
    assert codec.decode(elective.data).option(EXPERIMENTAL_OPTIONS + 6) == b"\xab"
    assert elective.allowed == {ACCEPT}
    critical = plan(mutation="critical-option", number=3, value="")
    assert codec.decode(critical.data).option(EXPERIMENTAL_OPTIONS + 7) == b""
    assert critical.allowed == {RETRY, DISCARD} and not critical.may_wait


def test_harmless_options_are_accepted():
    etag = plan(mutation="etag", value="0102")
    max_age = plan(mutation="max-age", value=70000)
    assert codec.decode(etag.data).option(codec.ETAG) == b"\x01\x02"
    assert codec.decode(max_age.data).uint_option(codec.MAX_AGE) == 70000
    assert etag.allowed == max_age.allowed == {ACCEPT}


def test_wrong_token_is_never_the_polls():
    got = plan(mutation="token", value="ff")
    assert codec.decode(got.data).token == b"\xff"
    assert got.allowed == {RETRY, DISCARD} and got.requirement == "EMAP-7.1.4-07"
    assert codec.decode(plan(mutation="token", value="0a0b").data).token == b"\xf5\x0b"


def test_wrong_token_replaces_the_empty_ack_of_a_late_answer():
    rewrite = ReplyRewrite({"mutation": "token", "value": "77"}, PAYLOAD, expect_payload=expect_payload)
    poll = codec.encode(codec.request("POST", "/emap/EmapPoll", mid=5, token=b"\x0c", payload=b"{}"))
    separate = codec.encode(codec.CoapDatagram(codec.CON, codec.code_of("2.04"), 9, b"\x0c", (), PAYLOAD))
    assert rewrite.late and rewrite.decide(FROM_IUT, poll).data == poll
    changed = codec.decode(rewrite.decide(TO_IUT, codec.encode(codec.empty_ack_for(codec.decode(poll)))).data)
    assert (changed.mtype, changed.code_text, changed.mid, changed.token, changed.payload) == (
        codec.ACK, "2.04", 5, b"\x77", PAYLOAD)
    assert rewrite.original.token == b"\x0c" and rewrite.plan.allowed == {RETRY, DISCARD}
    assert rewrite.decide(TO_IUT, separate).data == separate


@pytest.mark.parametrize(("spec", "allowed"), [
    ({"mutation": "version", "value": 2}, {RETRY}),
    ({"mutation": "truncated", "value": 3}, {RETRY}),
    ({"mutation": "tkl", "value": 15}, {RETRY, DISCARD}),
])
def test_unparseable_datagrams_are_ignored(spec, allowed):
    got = plan(**spec)
    with pytest.raises(codec.CodecError):
        codec.decode(got.data)
    assert got.allowed == allowed and got.requirement == "EMAP-7.1.5-13"


def test_payload_changes_are_judged_by_the_bytes_sent():
    broken = plan(mutation="payload-bytes", at=0, value="5b")
    assert codec.decode(broken.data).payload == b"[" + PAYLOAD[1:]
    assert broken.allowed == {DISCARD} and broken.step.kind == "discard"
    same = plan(mutation="payload-bytes", at=2, value=PAYLOAD[2:3].hex())  # overwritten with itself
    assert same.allowed == {ACCEPT} and same.step == GOOD
    cut = plan(mutation="truncated-json", value=10 ** 6)
    assert codec.decode(cut.data).payload == PAYLOAD[:-1] and cut.allowed == {DISCARD}


def test_separate_response_is_not_rewritten():
    got = plan(mutation="separate")
    assert got.data is None and got.allowed == {ACCEPT} and got.requirement == "EMAP-7.1.1-03"


def test_rewrite_fires_once_on_the_response_carrying_the_reply():
    rewrite = ReplyRewrite({"mutation": "code", "value": "5.00"}, PAYLOAD, expect_payload=expect_payload)
    original = codec.encode(ORIGINAL)
    poll = codec.encode(codec.request("POST", "/emap/EmapPoll", mid=0x1234, token=b"\x0a\x0b", payload=PAYLOAD))
    other = codec.encode(codec.CoapDatagram(codec.ACK, codec.code_of("2.04"), 7, b"\x01", (), b"{}"))
    assert rewrite.decide(FROM_IUT, poll).data == poll  # a request carrying the bytes: untouched
    assert rewrite.decide(TO_IUT, other).data == other and not rewrite.fired.is_set()
    changed = rewrite.decide(TO_IUT, original)
    assert codec.decode(changed.data).code_text == "5.00" and changed.label and rewrite.fired.is_set()
    again = rewrite.decide(TO_IUT, original)  # the answer to the IUT's retransmission
    assert again.data == original and again.label is None


@settings(max_examples=60, database=None)
@given(pollcoap.poll_coap_cases())
def test_every_drawn_case_has_a_plan(case: FuzzCase):
    assert case.kind == "coap" and case.resource == "EmapPoll"
    got = reply_plan(case.coap, ORIGINAL, expect_payload=expect_payload)
    assert got.allowed and got.allowed <= {ACCEPT, RETRY, DISCARD}
    assert (got.data is None) == (case.coap["mutation"] == "separate")


class TrustingLower(LowerEma):
    """The sample lower EMA taking a poll reply's message whatever the response code (breaks EMAP-7.1.4-07)."""

    async def start(self):
        await super().start()
        request = self.client.request

        async def trusting(uri, **kwargs):
            response = await request(uri, **kwargs)
            self.poll_code = response.code
            if not uri.endswith("/EmapPoll"):
                return response
            return CoapResponse("2.04", response.payload, response.content_format, response.max_age) \
                if self.trusting else response

        self.client.request = trusting

    trusting = True
    poll_code = None


class EagerLower(TrustingLower):
    """The sample lower EMA polling again at once after a 5.03 poll reply (ignores Max-Age: EMAP-7.1.5-08)."""

    trusting = False

    async def _poll(self):
        await super()._poll()
        if self.poll_code == "5.03":
            self._next_poll = time.monotonic()
            self.wake()


def service_unavailable(max_age: int):
    return st.just(FuzzCase("coap", "EmapPoll", coap={"mutation": "code", "value": "5.03", "max_age": max_age}))


async def fuzz_pull(strategy, examples: int, lower_class=LowerEma, monkeypatch=None, tolerance: float | None = None):
    """Fuzz a fresh in-process (variant of the) sample lower EMA in pull mode: the finding and the statistics."""
    target, ema = await started_lower_target("pull", lower_class, monkeypatch)
    if tolerance is not None:
        target.peer.timing = dataclasses.replace(target.peer.timing, tolerance_s=tolerance)
    try:
        stats = TargetStats(lower_class.__name__)
        return await fuzz(strategy, target, Budget(examples, None, 0), stats, timeout=40), stats
    finally:
        await stop_lower_target(target, ema)


async def test_sample_lower_pull_survives_poll_coap_cases():
    finding, stats = await fuzz_pull(pollcoap.poll_coap_cases(), 12)
    assert finding is None, finding.problem
    assert stats.examples >= 12


async def test_trusting_lower_fails(monkeypatch):
    codes = st.sampled_from(pollcoap.OTHER_CODES).map(
        lambda code: FuzzCase("coap", "EmapPoll", coap={"mutation": "code", "value": code}))
    finding, stats = await fuzz_pull(codes, 5, TrustingLower, monkeypatch)
    assert finding is not None, f"not found in {stats.examples} cases"
    assert finding.problem.startswith("liveness: EMAP-7.1.4-07: ") and "must be discarded" in finding.problem


@pytest.mark.parametrize(("lower_class", "found"), [(LowerEma, False), (EagerLower, True)])
async def test_poll_before_max_age_fails(monkeypatch, lower_class, found):
    """Max-Age 1 s with half a second tolerance: the sample's next regular poll (1 s after the previous one)
    passes, a poll right after the 5.03 fails."""
    finding, _ = await fuzz_pull(service_unavailable(1), 3, lower_class, monkeypatch, tolerance=0.5)
    assert (finding is not None) == found, finding and finding.problem
    if found:
        assert finding.problem.startswith("liveness: EMAP-7.1.5-08: emapPoll 0.")


@pytest.mark.parametrize("rejects", [True, False])
async def test_response_with_unknown_critical_option(monkeypatch, rejects):
    """The sample lower EMA rejects a piggy-backed 2.04 with an unknown critical option (RFC 7252 section 5.4.1);
    a client that takes it (the check switched off) is found."""
    if not rejects:
        monkeypatch.setattr(client, "unrecognized_critical", lambda msg: [])
    critical = st.just(FuzzCase("coap", "EmapPoll", coap={"mutation": "critical-option", "number": 0, "value": ""}))
    finding, _ = await fuzz_pull(critical, 1)
    if rejects:
        assert finding is None, finding.problem
    else:
        assert finding is not None and finding.problem.startswith("EMAP-7.1.4-07: ")
        assert "which must not be accepted" in finding.problem
