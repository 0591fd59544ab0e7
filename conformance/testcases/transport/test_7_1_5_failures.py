"""Transport, clause 7.1.5: failure conditions, with the seeded fault-injecting tap between the peer and the IUT:
retransmission, duplicates, cached repeats, re-sending failed requests, 5.03, limits, clocks, malformed datagrams,
internal failures."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest

from conformance.messages import build as B
from conformance.messages import encode
from conformance.messages.timefmt import format_datetime, parse_datetime, utc_now
from conformance.peer import DEFAULT, telemetry_metadata
from conformance.peer.transport_faults import ExchangeFaults
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.conftest import registered
from conformance.transport import FaultPlan, FaultRule, codec
from conformance.verdict import Inconclusive

from .support import (
    LOWER_PULL,
    PUSH_REQUESTER,
    REQUESTER,
    SERVER,
    UPPER,
    block1_gap,
    check_new_exchange,
    coded,
    describe,
    expect_code,
    expect_diagnostic,
    expect_message,
    fail,
    first_faulted,
    iut_exchanges,
    iut_responses,
    resends_of,
    retransmission_problems,
    wait_until,
)


def failure_bounds(params) -> tuple[float, float]:
    """Earliest and latest time after the first transmission at which an unanswered CON has failed: the sum of
    the IUT's timeouts with the smallest initial timeout, and MAX_TRANSMIT_WAIT (EMAP-7.1.5-03)."""
    return params.ack_timeout * (2 ** (params.max_retransmit + 1) - 1), params.max_transmit_wait


async def failed_then_resent(requester, trace, timing, requirement: str, *, after: float, reset: bool = False):
    """Make the requester's first request fail (every transmission dropped by the tap, or rejected with RST)
    and wait (bounded) for its re-send: ``(failed exchange, re-send exchange or None)``."""
    requester.arm(ExchangeFaults("from-iut", path_suffix=requester.path_suffix, reset=reset))
    await requester.provoke()
    params = requester.peer.params
    first = await wait_until(lambda: next((ex for ex in iut_exchanges(trace, requester.path_suffix)
                                           if ex.request.fault), None), requester.prompt + requester.prompt)
    if first is None:
        first_faulted(trace, requester.path_suffix, requirement)
    latest = failure_bounds(params)[1] + after + timing.t_prompt_s + timing.tolerance_s
    await wait_until(lambda: resends_of(trace, first), latest)
    resends = resends_of(trace, first)
    return first, resends[0] if resends else None


@emap_test("TC-T-7.1.5-01", requirements=["EMAP-7.1.5-01"], applies=REQUESTER)
async def test_retransmission_timing(requester, trace, timing):
    """With every transmission of one IUT request dropped by the tap, the IUT retransmits MAX_RETRANSMIT times,
    first after ACK_TIMEOUT..ACK_TIMEOUT x ACK_RANDOM_FACTOR, each timeout doubled."""
    requester.arm(ExchangeFaults("from-iut", path_suffix=requester.path_suffix))
    await requester.provoke()
    params = requester.peer.params
    await wait_until(lambda: first_or_none(trace, requester.path_suffix), 2 * requester.prompt)
    exchange = first_faulted(trace, requester.path_suffix, "EMAP-7.1.5-01")
    span = params.max_transmit_wait + timing.tolerance_s
    await wait_until(lambda: len(exchange_again(trace, exchange).transmissions) > params.max_retransmit, span)
    await asyncio.sleep(timing.tolerance_s)  # a transmission beyond MAX_RETRANSMIT would come now
    exchange = exchange_again(trace, exchange)
    times = [r.t for r in exchange.transmissions]
    problems = retransmission_problems(times, params, timing.tolerance_s)
    if problems:
        raise fail("EMAP-7.1.5-01", f"{'; '.join(problems)} (transmissions at "
                                    f"{', '.join(f'{t - times[0]:.3f}' for t in times)} s; ACK_TIMEOUT "
                                    f"{params.ack_timeout:g} s, ACK_RANDOM_FACTOR {params.ack_random_factor:g}, "
                                    f"MAX_RETRANSMIT {params.max_retransmit})")


def first_or_none(trace, path_suffix: str):
    return next((ex for ex in iut_exchanges(trace, path_suffix) if ex.request.fault), None)


def exchange_again(trace, exchange):
    """The same exchange re-read from the grown trace."""
    return next(ex for ex in trace.exchanges() if ex.request.seq == exchange.request.seq)


@emap_test("TC-T-7.1.5-02", requirements=["EMAP-7.1.5-02"], applies=SERVER)
async def test_duplicate_con(server, link_or_none, seed):
    """A CON repeated with the same Message ID from the same endpoint gets the same response and is executed once
    (sent again after the answer, and duplicated at once by the tap)."""
    resource, message = effectful(server)
    datagram = codec.encode(server.probe.datagram(server.path(resource), encode(message)))
    request = codec.decode(datagram)
    before = link_or_none.peer.registrations if link_or_none is not None else None
    first, second = await server.probe.raw([datagram, datagram], wait=[server.probe.exchange_timeout,
                                                                       server.probe.timing.tolerance_s],
                                           until_answer=[True, False])
    if coded(first) is None:
        raise fail("EMAP-7.1.5-02", f"no response to {next(iter(message))} at {resource}")
    original, repeat = acknowledgement(first, request.mid), acknowledgement(second, request.mid)
    if repeat is None or (repeat.code, repeat.payload, repeat.options) != \
            (original.code, original.payload, original.options):
        shown = "no ACK" if repeat is None else repeat.summary()
        raise fail("EMAP-7.1.5-02", f"the duplicate CON (mid 0x{request.mid:04x}) got {shown}; the original's "
                                    f"acknowledgement was {original.summary() if original else 'missing'}")
    before = await executions(link_or_none, before)
    server.probe.tap.faults = FaultPlan(seed, [FaultRule("duplicate", direction="to-iut")])
    resource, message = effectful(server)
    sent = await server.post(resource, message)
    server.probe.tap.faults = None
    expect_message(sent, "EMAP-7.1.5-02", f"{next(iter(message))} duplicated by the tap")
    exchange = sent.exchange
    coded_answers = [r.coap for r in exchange.responses if r.coap.is_response]
    if any((a.code, a.payload) != (coded_answers[0].code, coded_answers[0].payload) for a in coded_answers):
        raise fail("EMAP-7.1.5-02", f"the two copies of one CON got different responses; wire: {describe(exchange)}")
    await executions(link_or_none, before)


async def executions(link, before: int | None) -> int | None:
    """Lower IUT: wait until the re-registration one emapRequestReregistration asks for is over and Fail when
    the IUT re-registered more than once since ``before``; returns the new count (None for an upper IUT)."""
    if link is None:
        return None
    await link.observe(link.prompt + link.exchange_timeout)
    now = link.peer.registrations
    if before is not None and now - before > 1:
        raise fail("EMAP-7.1.5-02", f"one emapRequestReregistration sent twice with one Message ID made the IUT "
                                    f"re-register {now - before} times")
    return now


def effectful(server) -> tuple[str, dict]:
    """A request whose execution is visible: U registers a new lower EMA; L re-registers."""
    if server.side == "U":
        return "EiRegisterParty", B.create_party_registration(server.ids("c"), ven_name="dup")
    return "EiRegisterParty", B.request_reregistration(server.ven_id or "ven")


def acknowledgement(replies: list[bytes], mid: int) -> codec.CoapDatagram | None:
    """The ACK (empty, or a piggy-backed response) with Message ID ``mid`` among ``replies``."""
    for data in replies:
        try:
            dg = codec.decode(data)
        except codec.CodecError:
            continue
        if dg.mtype == codec.ACK and dg.mid == mid:
            return dg
    return None


@pytest.mark.parametrize("failure", ["timeout", "rst"])
@emap_test("TC-T-7.1.5-03", requirements=["EMAP-7.1.5-03", "EMAP-7.1.5-05"], applies=PUSH_REQUESTER)
async def test_failed_request_resent_after_backoff(requester, trace, timing, failure):
    """A request whose exchange failed (all transmissions dropped, or rejected with RST) is re-sent identically
    (same requestID) in a new exchange (new MID and token) after T_BACKOFF, at most T_PROMPT later."""
    backoff = timing.backoff_initial_s
    first, resend = await failed_then_resent(requester, trace, timing, "EMAP-7.1.5-03", after=backoff,
                                             reset=failure == "rst")
    if resend is None:
        raise fail("EMAP-7.1.5-03", f"the failed request #{first.request.seq} was not re-sent (waited MAX_TRANSMIT"
                                    f"_WAIT + T_BACKOFF + T_PROMPT)")
    check_new_exchange(first, resend, "EMAP-7.1.5-03")
    if failure == "rst":  # failed when the RST arrived
        failed_at = exchange_again(trace, first).responses[0].t
        earliest = latest = failed_at - first.request.t
    else:
        earliest, latest = failure_bounds(requester.peer.params)
    delay = resend.request.t - first.request.t
    low, high = earliest + backoff - timing.tolerance_s, latest + backoff + timing.t_prompt_s + timing.tolerance_s
    if not low <= delay <= high:
        raise fail("EMAP-7.1.5-05", f"re-send #{resend.request.seq} came {delay:.2f} s after the first "
                                    f"transmission, outside [{low:.2f}, {high:.2f}] s (failure ({failure}) after "
                                    f"{earliest:.2f}..{latest:.2f} s, T_BACKOFF {backoff:g} s, T_PROMPT "
                                    f"{timing.t_prompt_s:g} s)")


@emap_test("TC-T-7.1.5-04", requirements=["EMAP-7.1.5-03", "EMAP-7.1.5-04"], applies=LOWER_PULL)
async def test_pull_lower_resends_before_next_poll(requester, trace, timing, counterparts):
    """A pull-mode L whose request failed re-sends it (same requestID, new MID and token) at its next poll time,
    before that poll."""
    link = counterparts.link
    first, resend = await failed_then_resent(requester, trace, timing, "EMAP-7.1.5-04", after=link.poll_period)
    if resend is None:
        raise fail("EMAP-7.1.5-04", f"the failed request #{first.request.seq} was not re-sent")
    check_new_exchange(first, resend, "EMAP-7.1.5-03")
    params = requester.peer.params
    failed_at = first.transmissions[-1].t + params.ack_timeout * 2 ** params.max_retransmit
    polls = [ex for ex in iut_exchanges(trace, "/EmapPoll")
             if failed_at + timing.tolerance_s < ex.request.t < resend.request.t]
    if polls:
        raise fail("EMAP-7.1.5-04", f"emapPoll #{polls[0].request.seq} at {polls[0].request.t:.2f} s came before "
                                    f"the re-send #{resend.request.seq} at {resend.request.t:.2f} s of the request "
                                    f"that failed by {failed_at:.2f} s")
    late = resend.request.t - (first.request.t + params.max_transmit_wait)
    if late > link.poll_period + timing.t_prompt_s:
        raise fail("EMAP-7.1.5-04", f"re-send came {late:.2f} s after MAX_TRANSMIT_WAIT, later than the next poll "
                                    f"time (poll period {link.poll_period:g} s)")


@emap_test("TC-T-7.1.5-05", requirements=["EMAP-7.1.5-06"], applies=UPPER)
async def test_one_request_at_a_time(counterparts, trace, stimulus):
    """U sends a push-mode L one request at a time: no request starts before the previous exchange has succeeded."""
    peer = await counterparts.lower(pull=False, register=False, name="Lqueue")
    params = peer.params
    delay = min(2 * params.ack_timeout * params.ack_random_factor, params.max_transmit_wait / 2)

    async def slow(resource, message):
        await asyncio.sleep(delay)
        return DEFAULT

    peer.responder = slow
    await registered(peer, settle=False)
    for _ in range(2):
        outcome = await stimulus.stimulate("create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
        if outcome.status != "accepted":
            break
    await wait_until(lambda: len(iut_exchanges(trace)) >= 3, 3 * (delay + peer.prompt))
    await asyncio.sleep(delay + peer.prompt)
    pushed = sorted(iut_exchanges(trace), key=lambda ex: ex.request.seq)
    if len(pushed) < 2:
        raise Inconclusive("U pushed fewer than two requests (no emapRegisterReport or create-event stimulus)")
    for earlier, later in zip(pushed, pushed[1:], strict=False):
        done = earlier.response.t if earlier.response is not None else None
        if done is None or later.request.t < done:
            raise fail("EMAP-7.1.5-06", f"U started {describe(later)} at {later.request.t:.2f} s while "
                                        f"{describe(earlier)} was undelivered")


@emap_test("TC-T-7.1.5-06", requirements=["EMAP-7.1.5-07"], applies=SERVER)
async def test_cached_repeat(server, counterparts, trace):
    """An identical message (same requestID) in a new exchange gets the same response and is not executed again,
    even when the state has changed meanwhile."""
    if server.side == "U":
        peer = await counterparts.lower(pull=True, name="Lrepeat")
        cancel = B.cancel_party_registration(peer.ids("x"), peer.registration_id, peer.ven_id)
        first = await peer.post("EiRegisterParty", cancel)
        second = await peer.post("EiRegisterParty", cancel)
        what = "emapCancelPartyRegistration repeated after it ended the registration"
    else:
        link = counterparts.link
        await link.registered()
        event = link.event()
        original = link.distribute(event)
        newer = dict(event, eiEvent=dict(event["eiEvent"], eventDescriptor=dict(
            event["eiEvent"]["eventDescriptor"], modificationNumber=1)))
        first = await link.peer.send(original, pull=False, timeout=link.exchange_timeout)
        await link.peer.send(link.distribute(newer), pull=False, timeout=link.exchange_timeout)
        second = await link.peer.send(original, pull=False, timeout=link.exchange_timeout)
        what = "emapDistributeEvent repeated after a newer modification"
    answers = []
    for posted in (first, second):
        exchanges = [ex for ex in trace.exchanges() if ex.direction == "to-iut"
                     and ex.request_payload == posted.payload]
        answers.append(exchanges)
    if len(answers[0]) < 2:
        raise RuntimeError("the repeated message is missing from the trace")
    original_ex, repeat_ex = answers[0][0], answers[0][-1]
    if original_ex.request.coap.mid == repeat_ex.request.coap.mid:
        raise RuntimeError("the repeat did not travel in a new exchange")
    if original_ex.response_message is None:
        raise Inconclusive(f"precondition: the original got no message; wire: {describe(original_ex)}")
    if repeat_ex.code != "2.04" or repeat_ex.response_message is None \
            or repeat_ex.response_message.envelope != original_ex.response_message.envelope:
        raise fail("EMAP-7.1.5-07", f"{what}: answered {describe(repeat_ex)}, the original "
                                    f"{describe(original_ex)} (must be the same response)")


@emap_test("TC-T-7.1.5-07", requirements=["EMAP-7.1.5-08"], applies=REQUESTER)
async def test_503_max_age_respected(requester, trace, timing):
    """After a 5.03 with Max-Age the IUT re-sends the identical message no earlier than Max-Age and at most
    T_PROMPT later."""
    max_age = max(1, math.ceil(4 * timing.ack_timeout_s))
    requester.arm(ExchangeFaults("from-iut", path_suffix=requester.path_suffix, code="5.03", max_age=max_age))
    await requester.provoke()
    first = await wait_until(lambda: first_or_none(trace, requester.path_suffix), 2 * requester.prompt)
    if first is None:
        first_faulted(trace, requester.path_suffix, "EMAP-7.1.5-08")
    await wait_until(lambda: resends_of(trace, first), max_age + requester.prompt + timing.tolerance_s)
    resends = resends_of(trace, first)
    if not resends:
        raise fail("EMAP-7.1.5-08", f"no re-send within Max-Age {max_age} s + T_PROMPT after the 5.03")
    answered_at = exchange_again(trace, first).response.t
    delay = resends[0].request.t - answered_at
    if not max_age - timing.tolerance_s <= delay <= max_age + timing.t_prompt_s + timing.tolerance_s:
        raise fail("EMAP-7.1.5-08", f"re-send #{resends[0].request.seq} came {delay:.2f} s after the 5.03 with "
                                    f"Max-Age {max_age}, outside [{max_age}, {max_age} + T_PROMPT "
                                    f"{timing.t_prompt_s:g}] s (+- {timing.tolerance_s:g} s)")
    check_new_exchange(first, resends[0], "EMAP-7.1.5-08")


@emap_test("TC-T-7.1.5-08", requirements=["EMAP-7.1.5-15"], applies=REQUESTER)
async def test_no_resend_after_client_error(requester, trace, timing):
    """A request answered with 4.00 (a CoAP error other than 5.03) is not re-sent."""
    requester.arm(ExchangeFaults("from-iut", path_suffix=requester.path_suffix, code="4.00",
                                 payload=b"rejected by the tester"))
    await requester.provoke()
    first = await wait_until(lambda: first_or_none(trace, requester.path_suffix), 2 * requester.prompt)
    if first is None:
        first_faulted(trace, requester.path_suffix, "EMAP-7.1.5-15")
    requester.tap.faults = None
    await asyncio.sleep(max(timing.backoff_initial_s, timing.t_prompt_s) + timing.t_prompt_s + timing.tolerance_s)
    resends = resends_of(trace, first)
    if resends:
        raise fail("EMAP-7.1.5-15", f"the request answered 4.00 was re-sent identically (#{resends[0].request.seq})")


@emap_test("TC-T-7.1.5-09", requirements=["EMAP-7.1.5-09"], applies=SERVER)
async def test_burst_answers(server, trace):
    """Under a burst of concurrent requests every answer is a normal one or a 5.03 with Max-Age and no message."""
    requests = [server.harmless() for _ in range(20)]
    await asyncio.gather(*(server.post(resource, message, fresh=True) for resource, message in requests))
    for exchange in iut_responses(trace):
        if exchange.code == "5.03":
            if exchange.response.coap.uint_option(codec.MAX_AGE) is None:
                raise fail("EMAP-7.1.5-09", f"5.03 without Max-Age; wire: {describe(exchange)}")
            if exchange.response_message is not None:
                raise fail("EMAP-7.1.5-09", f"5.03 carrying an EMAP message; wire: {describe(exchange)}")
        elif exchange.code != "2.04" or exchange.response_message is None:
            raise fail("EMAP-7.1.5-09", f"a valid request in the burst got {describe(exchange)}")


@emap_test("TC-T-7.1.5-10", requirements=["EMAP-7.1.5-10"], applies=SERVER)
async def test_incomplete_block1_408(server):
    """An incomplete Block1 sequence (block 2 after block 0) gets 4.08."""
    first, second = await block1_gap(server)
    if first is None or first.code_text != "2.31":
        raise Inconclusive(f"precondition: block 0 was answered {first.code_text if first else 'nothing'}, "
                           f"not 2.31 Continue")
    if second is None or second.code_text != "4.08":
        raise fail("EMAP-7.1.5-10", f"Block1 block 2 without block 1 was answered "
                                    f"{second.code_text if second else 'nothing'}, expected 4.08")


def timestamps(value, found: list[str]) -> list[str]:
    """Every createdDateTime string in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "createdDateTime" and isinstance(item, str):
                found.append(item)
            else:
                timestamps(item, found)
    elif isinstance(value, list):
        for item in value:
            timestamps(item, found)
    return found


@emap_test("TC-T-7.1.5-11", requirements=["EMAP-7.1.5-11"], applies=REQUESTER)
async def test_clock_near_utc(requester, trace, timing):
    """Timestamps the IUT puts in its messages (createdDateTime) are within 60 s of the tester's clock."""
    await requester.provoke()
    await requester.peer.next_request("emapRegisterReport",
                                      timeout=requester.prompt + 2 * requester.peer.exchange_timeout)
    seen = 0
    for record, message in trace.messages(direction="from-iut"):
        for stamp in timestamps(message.envelope, []):
            seen += 1
            skew = (parse_datetime(stamp) - parse_datetime(record.wall)).total_seconds()
            if abs(skew) > 60 + timing.tolerance_s:
                raise fail("EMAP-7.1.5-11", f"{message.name} (#{record.seq}) has createdDateTime {stamp}, "
                                            f"{skew:+.1f} s from the tester's clock ({record.wall})")
    if not seen:
        raise Inconclusive("the IUT sent no message with a createdDateTime in this test")


def skewed(reports: list[dict], seconds: float) -> list[dict]:
    """The reports with createdDateTime ``seconds`` away from now."""
    stamp = format_datetime(utc_now() + timedelta(seconds=seconds))
    return [dict(report, createdDateTime=stamp) for report in reports]


@emap_test("TC-T-7.1.5-12", requirements=["EMAP-7.1.5-12"], applies=SERVER)
async def test_timestamps_not_rejected(server, counterparts, trace):
    """A message whose timestamps are a day off the receiver's clock is not rejected for it."""
    day = 86400.0
    if server.side == "U":
        peer = await counterparts.lower(pull=True, name="Lclock")
        reports = telemetry_metadata(f"clock-{peer.ids.tag}")
        sent = [await peer.register_report(skewed(reports, offset)) for offset in (0.0, -day, day)]
    else:
        link = counterparts.link
        await link.registered()
        peer = link.peer
        reports = telemetry_metadata(f"clock-{peer.ids.tag}")
        sent = [await peer.send(B.register_report(peer.ids("rr"), peer.ven_id, skewed(reports, offset)),
                                pull=False, timeout=link.exchange_timeout) for offset in (0.0, -day, day)]
    codes = []
    for posted in sent:
        found = [ex for ex in trace.exchanges() if ex.direction == "to-iut" and ex.request_payload == posted.payload]
        exchange = found[-1] if found else None
        message = exchange.response_message if exchange is not None else None
        codes.append((exchange, message.response_code if message is not None else None))
    reference = codes[0][1]
    if reference is None:
        raise Inconclusive(f"precondition: the emapRegisterReport with current timestamps got no response message; "
                           f"wire: {describe(codes[0][0])}")
    for exchange, code in codes[1:]:
        if code != reference:
            raise fail("EMAP-7.1.5-12", f"emapRegisterReport with createdDateTime a day off answered responseCode "
                                        f"{code}, the same message with current timestamps {reference}; wire: "
                                        f"{describe(exchange)}")


def malformed(server) -> list[tuple[str, bytes]]:
    """Datagrams that are not valid CoAP messages (RFC 7252 sections 3 and 4.2)."""
    resource, message = server.harmless()
    good = server.probe.datagram(server.path(resource), encode(message))
    header = codec.encode(codec.CoapDatagram(codec.CON, codec.code_of("POST"), server.probe.next_mid()))
    valid = codec.encode(good)
    return [
        ("a 1-byte datagram", valid[:1]),
        ("a 3-byte datagram", valid[:3]),
        ("version 2", bytes([valid[0] & 0x3F | 0x80]) + valid[1:]),
        ("a reserved option delta nibble 15", header + b"\xf1\x00"),
        ("a truncated option value", header + b"\xb5em"),
        ("a payload marker with an empty payload", codec.encode(server.probe.datagram(server.path(resource)),
                                                                payload_marker=True)),
        ("an empty message (code 0.00) with a payload", header[:1] + b"\x00" + header[2:4] + b"\xff{}"),
    ]


@emap_test("TC-T-7.1.5-13", requirements=["EMAP-7.1.5-13"], applies=SERVER)
async def test_malformed_datagrams(server, timing):
    """Malformed datagrams are ignored or answered with RST, and the next valid request is served normally."""
    for what, data in malformed(server):
        replies = (await server.probe.raw([data], wait=timing.tolerance_s, until_answer=False))[0]
        for reply in replies:
            try:
                dg = codec.decode(reply)
            except codec.CodecError as exc:
                raise fail("EMAP-7.1.5-13", f"{what} was answered with an undecodable datagram ({exc})") from None
            if dg.mtype != codec.RST:
                raise fail("EMAP-7.1.5-13", f"{what} was answered {dg.summary()}, expected silence or RST")
    resource, message = server.harmless()
    expect_message(await server.post(resource, message), "EMAP-7.1.5-13",
                   "the valid request after the malformed datagrams")


#: Nesting depth of the deep-nesting probe (kept below what the report renderer's JSON parser handles).
NESTING = 500


def breaking_payloads(server) -> list[tuple[str, bytes]]:
    """Valid-looking payloads that stress a JSON stack: deep nesting, a 5000-digit integer, 1e400."""
    resource, message = server.harmless()
    name = next(iter(message))
    body = encode(message[name])[1:-1]
    return [
        (f"{NESTING} nested arrays in an unknown member", b'{"' + name.encode() + b'": {' + body + b', "x": '
         + b"[" * NESTING + b"]" * NESTING + b"}}"),
        ("a 5000-digit integer in an unknown member", b'{"' + name.encode() + b'": {' + body + b', "x": '
         + b"9" * 5000 + b"}}"),
        ("a number beyond the double range in an unknown member", b'{"' + name.encode() + b'": {' + body
         + b', "x": 1e400}}'),
    ]


@emap_test("TC-T-7.1.5-14", requirements=["EMAP-7.1.5-14"], applies=SERVER)
async def test_internal_failure_answer(server, trace):
    """Inputs likely to break a parser get an answer of Table 7.1-3; any 5.00 carries a UTF-8 diagnostic and no
    message, and the IUT serves the next request normally."""
    resource, _ = server.harmless()
    failures = 0
    for what, payload in breaking_payloads(server):
        exchange = expect_code(await server.post(resource, payload), ("2.04", "4.00", "4.13", "5.00"),
                               "EMAP-7.1.5-14", f"payload with {what}")
        if exchange.code == "5.00":
            failures += 1
            expect_diagnostic(exchange, "EMAP-7.1.5-14", f"payload with {what}")
            if exchange.response_message is not None:
                raise fail("EMAP-7.1.5-14", f"5.00 carrying an EMAP message; wire: {describe(exchange)}")
    resource, message = server.harmless()
    expect_message(await server.post(resource, message), "EMAP-7.1.5-14", "a valid request afterwards")
    if not failures:
        trace.note("EMAP-7.1.5-14: no internal failure (5.00) was provoked; every stress payload was answered "
                   "normally, so the form of a 5.00 was not exercised")
