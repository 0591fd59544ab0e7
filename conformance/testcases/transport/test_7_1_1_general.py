"""Transport, clause 7.1.1: CoAP over UDP, CON POSTs, piggy-backed and separate responses, block-wise transfer,
payload limits."""

from __future__ import annotations

import asyncio

from conformance.peer import DEFAULT
from conformance.testcases.marker import emap_test
from conformance.transport import codec
from conformance.verdict import Inconclusive

from .support import (
    BLOCK_LIMIT,
    REQUESTER,
    SERVER,
    describe,
    expect_code,
    expect_message,
    fail,
    iut_exchanges,
    padded,
    resends_of,
)


@emap_test("TC-T-7.1.1-01", requirements=["EMAP-7.1.1-01", "EMAP-7.1.4-04"], applies=SERVER)
async def test_valid_request_answered(server):
    """A valid request (CON POST over UDP) gets 2.04 with the response message in Content-Format 50, piggy-backed
    or separate."""
    resource, message = server.harmless()
    sent = await server.post(resource, message)
    expect_message(sent, "EMAP-7.1.1-01", f"CON POST of {next(iter(message))} to {resource}")
    response = sent.exchange.response.coap
    if response.mtype == codec.ACK and response.is_response:
        return
    if response.mtype in (codec.CON, codec.NON) and sent.exchange.responses[0].coap.is_empty:
        return
    raise fail("EMAP-7.1.1-01", f"the response is neither piggy-backed nor a separate response after an empty "
                                f"ACK; wire: {describe(sent.exchange)}")


async def make_iut_request(requester) -> None:
    """Provoke the requester's request and wait (bounded) until the reference peer has answered it."""
    await requester.provoke()
    name = "emapRegisterReport" if requester.side == "U" else "emapCreatePartyRegistration"
    await requester.peer.next_request(name, timeout=requester.prompt + 2 * requester.peer.exchange_timeout)


@emap_test("TC-T-7.1.1-02", requirements=["EMAP-7.1.1-02", "EMAP-7.1.3-04"], applies=REQUESTER)
async def test_iut_requests_are_con_posts(requester, trace):
    """Every request the IUT sends is a Confirmable POST carrying exactly one valid message, without Uri-Query."""
    await make_iut_request(requester)
    # a block-wise transfer cut by the start of this test's trace cannot be judged
    exchanges = [ex for ex in iut_exchanges(trace) if ex.request_payload is not None]
    if not exchanges:
        raise fail("EMAP-7.1.1-02", "the IUT sent no request after the stimulus")
    for exchange in exchanges:
        if not exchange.confirmable or exchange.method != "POST":
            raise fail("EMAP-7.1.1-02", f"request is {exchange.request.coap.type_name} "
                                        f"{exchange.method or exchange.request.coap.code_text}, expected CON POST; "
                                        f"wire: {describe(exchange)}")
        if exchange.request_message is None:
            raise fail("EMAP-7.1.1-02", f"request payload is not exactly one valid message "
                                        f"({exchange.request_message_error or 'empty'}); wire: {describe(exchange)}")
        if exchange.query:
            raise fail("EMAP-7.1.3-04", f"request carries Uri-Query {exchange.query}; wire: {describe(exchange)}")


@emap_test("TC-T-7.1.1-03", requirements=["EMAP-7.1.1-03"], applies=REQUESTER)
async def test_separate_response_accepted(requester, trace, timing):
    """The IUT accepts a separate response (empty ACK, response later than its retransmission timeout) and
    neither gives up nor re-sends the message."""
    params = requester.peer.params
    delay = min(2 * params.ack_timeout * params.ack_random_factor, params.max_transmit_wait / 2)
    name = "emapRegisterReport" if requester.side == "U" else "emapCreatePartyRegistration"

    async def late(resource, message):
        if message.name == name:
            await asyncio.sleep(delay)
        return DEFAULT

    requester.peer.responder = late
    await make_iut_request(requester)
    await asyncio.sleep(delay + requester.prompt)
    exchanges = [ex for ex in iut_exchanges(trace, requester.path_suffix)
                 if ex.request_message is not None and ex.request_message.name == name]
    if not exchanges:
        raise fail("EMAP-7.1.1-03", f"the IUT sent no {name}")
    exchange = exchanges[0]
    separate = exchange.response
    final = next((tx for tx in exchange.transactions if separate is not None and tx.response is separate), None)
    if final is None or not final.responses[0].coap.is_empty:
        raise fail("EMAP-7.1.1-03", f"precondition: the peer's answer was not separate; wire: {describe(exchange)}")
    acked = [r for r in final.records if r.direction == "from-iut" and r.coap.mtype in (codec.ACK, codec.RST)
             and r.coap.mid == separate.coap.mid]
    if separate.coap.mtype == codec.CON and (not acked or acked[0].coap.mtype == codec.RST):
        raise fail("EMAP-7.1.1-03", f"the IUT did not acknowledge the separate response #{separate.seq} "
                                    f"({'RST' if acked else 'no ACK'}); wire: {describe(exchange)}")
    early = [ex for ex in resends_of(trace, exchange) if ex.request.t < separate.t]
    if early:
        raise fail("EMAP-7.1.1-03", f"the IUT re-sent the message in a new exchange (#{early[0].request.seq}) "
                                    f"{early[0].request.t - exchange.request.t:.2f} s after the first while the "
                                    f"separate response was still allowed (it came after {delay:.2f} s)")
    again = resends_of(trace, exchange)
    if again:
        raise fail("EMAP-7.1.1-03", f"the IUT re-sent the message (#{again[0].request.seq}) although the separate "
                                    f"response #{separate.seq} answered it")


@emap_test("TC-T-7.1.1-04", requirements=["EMAP-7.1.1-04"], applies=SERVER)
async def test_block1_requests_served(server):
    """Requests sent block-wise (Block1, 1024- and 256-byte blocks) are reassembled and answered."""
    for exponent, size in ((6, 1024), (4, 256)):
        resource, message = server.harmless()
        sent = await server.post(resource, padded(message, 3 * size + size // 2), block_size_exp=exponent)
        expect_message(sent, "EMAP-7.1.1-04", f"a {3 * size + size // 2}-byte request in {size}-byte Block1 blocks")
        if len(sent.exchange.request_blocks()) < 2:
            raise fail("EMAP-7.1.1-04", f"precondition: the request did not travel block-wise; wire: "
                                        f"{describe(sent.exchange)}")


def oversized_unblocked(trace) -> tuple[list, list]:
    """(datagrams the IUT sent with a payload over 1024 bytes or a block size over 1024, payloads over 1024
    bytes the IUT sent in total) for EMAP-7.1.1-04."""
    bad, large = [], []
    for exchange in trace.exchanges():
        if exchange.direction == "to-iut":
            records, body, option = exchange.final_responses(), exchange.response_payload, codec.BLOCK2
        else:
            records, body, option = exchange.request_blocks(), exchange.request_payload, codec.BLOCK1
        if body and len(body) > BLOCK_LIMIT:
            large.append(exchange)
        for record in records:
            block = record.coap.block(option)
            if len(record.coap.payload) > BLOCK_LIMIT or (block is not None and block[2] > 6):
                bad.append((exchange, record))
    return bad, large


@emap_test("TC-T-7.1.1-05", requirements=["EMAP-7.1.1-04"], applies=REQUESTER)
async def test_large_payloads_blockwise(trace, counterparts):
    """A payload over 1024 bytes that the IUT sends (Block2 response, or Block1 request) travels block-wise in
    blocks of at most 1024 bytes."""
    if counterparts.link is None:
        await counterparts.lower(pull=True, name="Lblocks")  # U's metadata arrives as a poll reply
    else:
        link = counterparts.link
        await link.registered()
        events = [link.event(event_id=f"{link.peer.ids('ev')}-{'x' * 40}") for _ in range(12)]
        await link.deliver(link.distribute(*events))
    bad, large = oversized_unblocked(trace)
    if bad:
        exchange, record = bad[0]
        raise fail("EMAP-7.1.1-04", f"datagram #{record.seq} carries {len(record.coap.payload)} bytes "
                                    f"(blocks of at most 1024 bytes); wire: {describe(exchange)}")
    if not large:
        raise Inconclusive("the IUT sent no payload over 1024 bytes in this test")


@emap_test("TC-T-7.1.1-06", requirements=["EMAP-7.1.1-05", "EMAP-7.1.5-10"], applies=SERVER)
async def test_payload_limit(server, profile):
    """A payload of exactly the declared limit (ICS-9, >= 65536) is accepted; one byte more gets 4.13 with Size1 =
    the limit; a first Block1 whose Size1 announces more gets 4.13 at once."""
    limit = int(profile.pics.get("max_payload") or 65536)
    if limit < 65536:
        raise fail("EMAP-7.1.1-05", f"ICS-9 declares a payload limit of {limit} bytes, less than 65536")
    resource, message = server.harmless()
    expect_message(await server.post(resource, padded(message, limit)), "EMAP-7.1.1-05",
                   f"a request of exactly {limit} bytes")
    _, message = server.harmless()
    over = expect_code(await server.post(resource, padded(message, limit + 1)), "4.13", "EMAP-7.1.5-10",
                       f"a request of {limit + 1} bytes")
    check_size1(over.response.coap, limit, describe(over))
    _, message = server.harmless()
    first = server.probe.datagram(server.path(resource), padded(message, 1024), options=(
        (codec.BLOCK1, codec.block_bytes(0, True, 6)), (codec.SIZE1, codec.uint_bytes(limit + 1))))
    replies = (await server.probe.raw([codec.encode(first)], wait=server.probe.exchange_timeout))[0]
    answers = [codec.decode(r) for r in replies]
    coded = [a for a in answers if a.is_response]
    if not coded or coded[0].code_text != "4.13":
        shown = coded[0].code_text if coded else "nothing"
        raise fail("EMAP-7.1.5-10", f"a first Block1 block announcing Size1 {limit + 1} was answered {shown}, "
                                    f"expected 4.13 at once")
    check_size1(coded[0], limit)


def check_size1(dg, limit: int, wire: str | None = None) -> None:
    """EMAP-7.1.5-10: a 4.13 carries Size1 = the declared limit."""
    size1 = dg.uint_option(codec.SIZE1)
    if size1 != limit:
        raise fail("EMAP-7.1.5-10", f"4.13 carries Size1 {size1}, expected the limit {limit}"
                                    + (f"; wire: {wire}" if wire else ""))
