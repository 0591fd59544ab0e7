"""Clause 6.3 Event service, upper-EMA IUT: the event model, distribution, request event, emapCreatedEvent."""

from __future__ import annotations

import asyncio

from conformance.messages import build as B
from conformance.messages.rules import event_rules
from conformance.messages.timefmt import format_duration
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    UPPER_ROLES,
    act,
    check_conformance,
    describe,
    exchange_of,
    expect_answer,
    fail,
    generated_at,
    let_iut_act,
    messages_to,
    rule_violations,
    sent_by_iut,
    try_act,
)
from conformance.verdict import Inconclusive

DISTRIBUTE = "emapDistributeEvent"


def _events(message) -> list[dict]:
    return message.body.get("emapEvent", [])


def _ids(message) -> list[str]:
    return [e["eiEvent"]["eventDescriptor"]["eventID"] for e in _events(message)]


def _event(message, event_id: str) -> dict | None:
    return next((e for e in _events(message) if e["eiEvent"]["eventDescriptor"]["eventID"] == event_id), None)


async def _create(peer, stimulus, **args) -> str:
    """Create an event for ``peer`` by stimulus; returns its eventID."""
    event_id = peer.ids("ev")
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": event_id, **args})
    return event_id


async def _distribution(peer):
    """The next emapDistributeEvent U sends ``peer`` (pull: polled; push: POSTed). Its timing is judged by
    TC-U-6.3.2-01 only: here a generous wait, and Inconclusive when none comes."""
    message = await peer.receive(DISTRIBUTE, timeout=2 * peer.prompt)
    if message is None:
        raise Inconclusive(f"no emapDistributeEvent reached {peer.name} within {2 * peer.prompt:.1f} s")
    return message


def _check_rules(trace, peer, requirement: str, timing) -> None:
    """Judge one requirement of the event model on every emapDistributeEvent U sent ``peer``."""
    distributions = messages_to(trace, peer, DISTRIBUTE)
    if not distributions:
        raise Inconclusive(f"no emapDistributeEvent reached {peer.name}")
    for record, message in distributions:
        found = rule_violations(event_rules(message.body, generated_at(record), ven_id=peer.ven_id,
                                            tolerance=timing.tolerance_s), requirement)
        if found:
            raise fail(requirement, f"emapDistributeEvent {message.request_id!r} at {found[0].pointer}: "
                                    f"{found[0].text}")


@emap_test("TC-U-6.3.1-01", requirements=["EMAP-6.3.1-01"], applies=UPPER_ROLES)
async def test_event_ids_unique(lower, trace, stimulus):
    """Events U creates on its own (no eventID given) get eventIDs that no other event has."""
    one = await lower(name="L1")
    two = await lower(name="L2")
    for peer in (one, one, two):
        await act(stimulus, "create-event", {"venID": peer.ven_id})
        await peer.receive(DISTRIBUTE, timeout=peer.prompt)
    events = [_ids(m) for _, m in messages_to(trace, one, DISTRIBUTE)][-1:] + \
        [_ids(m) for _, m in messages_to(trace, two, DISTRIBUTE)][-1:]
    ids = [event_id for group in events for event_id in group]
    if len(ids) < 3:
        raise Inconclusive(f"the distributions hold {len(ids)} of the 3 created events")
    if len(set(ids)) != len(ids):
        raise fail("EMAP-6.3.1-01", f"distinct events share an eventID: {ids}")


@emap_test("TC-U-6.3.1-02", requirements=["EMAP-6.3.1-02"], applies=UPPER_ROLES)
async def test_modification_number(lower, trace, stimulus):
    """modificationNumber is 0 for a new event and grows by exactly 1 with each modification and the cancel."""
    peer = await lower()
    event_id = await _create(peer, stimulus)
    steps = [("create", None), ("modify-event", {"eventID": event_id, "priority": 3}),
             ("cancel-event", {"eventID": event_id})]
    for expected, (action, args) in enumerate(steps):
        if args is not None:
            await act(stimulus, action, args)
        event = _event(await _distribution(peer), event_id)
        number = None if event is None else event["eiEvent"]["eventDescriptor"]["modificationNumber"]
        if number != expected:
            raise fail("EMAP-6.3.1-02", f"after {action} the event's modificationNumber is {number}, "
                                        f"expected {expected}")


@emap_test("TC-U-6.3.1-03", requirements=["EMAP-6.3.1-03"], applies=UPPER_ROLES)
async def test_event_status(lower, trace, stimulus, timing):
    """eventStatus follows Table 6.3-1 (far, near, active, cancelled), never none; a cancelled event stays as it
    was cancelled."""
    peer = await lower()
    await _create(peer, stimulus, startAfter_s=7200)
    await _create(peer, stimulus, startAfter_s=600, rampUp="PT1H")
    await _create(peer, stimulus, startAfter_s=-60, intervals=[{"duration": "PT1H", "value": 1}])
    cancelled = await _create(peer, stimulus)
    await act(stimulus, "cancel-event", {"eventID": cancelled})
    await peer.request_event()
    await peer.drain()
    before = _event(messages_to(trace, peer, DISTRIBUTE)[-1][1], cancelled)
    await try_act(stimulus, "modify-event", {"eventID": cancelled, "priority": 4})
    await let_iut_act(peer)
    await peer.request_event()
    await peer.drain()
    _check_rules(trace, peer, "EMAP-6.3.1-03", timing)
    after = _event(messages_to(trace, peer, DISTRIBUTE)[-1][1], cancelled)
    if before is not None and after is not None and after["eiEvent"] != before["eiEvent"]:
        raise fail("EMAP-6.3.1-03", f"cancelled event {cancelled!r} was changed after its cancellation")


@emap_test("TC-U-6.3.1-09", requirements=["EMAP-6.3.1-03"], applies=UPPER_ROLES)
async def test_event_status_transitions(lower, trace, stimulus, timing):
    """One event's eventStatus follows Table 6.3-1 over time: before its start, while active, after its end."""
    peer = await lower()
    start_in, length = 2 * timing.tolerance_s + 1, 2 * timing.tolerance_s + 2
    await _create(peer, stimulus, startAfter_s=start_in, intervals=[{"duration": format_duration(length),
                                                                     "value": 1}])
    await peer.request_event()
    started = trace.elapsed()
    for moment in (start_in + timing.tolerance_s, start_in + length + timing.tolerance_s):
        await asyncio.sleep(max(0.0, started + moment - trace.elapsed()))
        await peer.request_event()
    await peer.drain()
    _check_rules(trace, peer, "EMAP-6.3.1-03", timing)


async def _model_test(lower, trace, stimulus, timing, requirement: str, variants: list[dict]) -> None:
    peer = await lower()
    created = [await try_act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev"), **args})
               for args in variants]
    if not created[0]:
        raise Inconclusive(f"the IUT did not accept the event needed ({variants[0]})")
    await peer.request_event()
    await peer.drain()
    _check_rules(trace, peer, requirement, timing)


@emap_test("TC-U-6.3.1-04", requirements=["EMAP-6.3.1-04"], applies=UPPER_ROLES)
async def test_interval_numbering(lower, trace, stimulus, timing):
    """Intervals are numbered "0", "1", ... and add up to the event duration; open-ended events end in PT0S."""
    await _model_test(lower, trace, stimulus, timing, "EMAP-6.3.1-04", [
        {"intervals": [{"duration": "PT20M", "value": 1}, {"duration": "PT40M", "value": 2}]},
        {"intervals": [{"duration": "PT10M", "value": 1}, {"duration": "PT0S", "value": 2}]}])


@emap_test("TC-U-6.3.1-05", requirements=["EMAP-6.3.1-05"], applies=UPPER_ROLES)
async def test_signals(lower, trace, stimulus, timing):
    """Signals have distinct signalIDs, allowed name/type/itemBase combinations and SIMPLE payloads 0 to 3."""
    price = {"signalName": "ELECTRICITY_PRICE", "signalType": "price",
             "intervals": [{"duration": "PT1H", "value": 0.3}],
             "itemBase": B.item_base("currencyPerKWh", units="EUR")}
    simple = {"signalName": "SIMPLE", "signalType": "level", "intervals": [{"duration": "PT1H", "value": 3}]}
    await _model_test(lower, trace, stimulus, timing, "EMAP-6.3.1-05", [{"signals": [simple, price]}, {}])


@emap_test("TC-U-6.3.1-06", requirements=["EMAP-6.3.1-06"], applies=UPPER_ROLES)
async def test_current_value(lower, trace, stimulus, timing):
    """currentValue equals the current interval's payload while active; 0 (SIMPLE) or absent otherwise."""
    await _model_test(lower, trace, stimulus, timing, "EMAP-6.3.1-06", [
        {"startAfter_s": -120, "intervals": [{"duration": "PT1H", "value": 2}, {"duration": "PT1H", "value": 3}]},
        {"startAfter_s": 3600},
        {"startAfter_s": 3600, "signalName": "ELECTRICITY_PRICE", "signalType": "price",
         "intervals": [{"duration": "PT1H", "value": 0.3}]}])


@emap_test("TC-U-6.3.1-07", requirements=["EMAP-6.3.1-07"], applies=UPPER_ROLES)
async def test_baseline(lower, trace, stimulus, timing):
    """Baseline intervals are numbered from "0" and add up to the baseline duration."""
    await _model_test(lower, trace, stimulus, timing, "EMAP-6.3.1-07", [
        {"baseline": {"intervals": [{"duration": "PT30M", "value": 3.2}, {"duration": "PT30M", "value": 3.0}]}}])


@emap_test("TC-U-6.3.1-08", requirements=["EMAP-6.3.1-08"], applies=UPPER_ROLES)
async def test_event_reaches_only_its_target(lower, trace, stimulus, timing):
    """An event targeted at one lower EMA reaches only that one, with eiTarget.venID = [its venID]."""
    target = await lower(name="target")
    other = await lower(name="other")
    event_id = await _create(target, stimulus)
    await target.receive(DISTRIBUTE, timeout=target.prompt)
    await other.request_event()
    await other.drain()
    for record, message in messages_to(trace, other, DISTRIBUTE):
        if event_id in _ids(message):
            raise fail("EMAP-6.3.1-08", f"event {event_id!r} for {target.ven_id!r} was sent to {other.ven_id!r} "
                                        f"(record #{record.seq})")
    _check_rules(trace, target, "EMAP-6.3.1-08", timing)


@emap_test("TC-U-6.3.2-01", requirements=["EMAP-6.3.2-01"], applies=UPPER_ROLES)
async def test_distribution_within_t_prompt(lower, trace, stimulus):
    """Creating, modifying and cancelling an event makes U send emapDistributeEvent within T_PROMPT (pull: in
    the queue, push: POSTed)."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        event_id = peer.ids("ev")
        for action, args in (("create-event", {"venID": peer.ven_id, "eventID": event_id}),
                             ("modify-event", {"eventID": event_id, "priority": 2}),
                             ("cancel-event", {"eventID": event_id})):
            before = trace.elapsed()
            await act(stimulus, action, args)
            accepted = trace.elapsed()
            await peer.receive(DISTRIBUTE, timeout=peer.prompt)
            arrived = [r for r, m in messages_to(trace, peer, DISTRIBUTE) if r.t >= before and event_id in _ids(m)]
            if not arrived or arrived[0].t - accepted > peer.prompt:
                raise fail("EMAP-6.3.2-01", f"{peer.name}: no emapDistributeEvent with {event_id!r} within "
                                            f"{peer.prompt:.1f} s of {action}")


@emap_test("TC-U-6.3.2-02", requirements=["EMAP-6.3.2-02"], applies=UPPER_ROLES)
async def test_distributed_event_set(lower, trace, stimulus, timing):
    """A distribution holds every far/near/active event addressing L and each undelivered cancellation, no event
    of another lower EMA and no eventID twice."""
    peer = await lower()
    other = await lower(name="other")
    far = await _create(peer, stimulus, startAfter_s=3600)
    active = await _create(peer, stimulus, startAfter_s=-60, intervals=[{"duration": "PT1H", "value": 1}])
    gone = await _create(peer, stimulus)
    await act(stimulus, "cancel-event", {"eventID": gone})
    foreign = await _create(other, stimulus)
    await let_iut_act(peer)
    await peer.drain()
    await peer.request_event()
    distributions = messages_to(trace, peer, DISTRIBUTE)
    if not distributions:
        raise fail("EMAP-6.3.2-02", "no emapDistributeEvent reached the lower EMA after three event changes")
    first = distributions[0][1]
    missing = [e for e in (far, active, gone) if e not in _ids(first)]
    if missing:
        raise fail("EMAP-6.3.2-02", f"the first emapDistributeEvent lacks {missing}; it holds {_ids(first)}")
    for record, message in distributions:
        ids = _ids(message)
        if foreign in ids or len(set(ids)) != len(ids) or not {far, active} <= set(ids):
            raise fail("EMAP-6.3.2-02", f"emapDistributeEvent {message.request_id!r} (record #{record.seq}) holds "
                                        f"{ids}; needs {far!r} and {active!r}, not {foreign!r}, no duplicates")


@emap_test("TC-U-6.3.2-03", requirements=["EMAP-6.3.2-03"], applies=UPPER_ROLES)
async def test_event_order(lower, trace, stimulus, timing):
    """emapEvent is ordered per Table 6.3-3 (active by priority, then near/far by start, then the rest)."""
    peer = await lower()
    for args in ({"startAfter_s": 7200, "priority": 1}, {"startAfter_s": 3600, "priority": 2},
                 {"startAfter_s": -60, "priority": 0, "intervals": [{"duration": "PT1H", "value": 1}]},
                 {"startAfter_s": -30, "priority": 2, "intervals": [{"duration": "PT1H", "value": 1}]},
                 {"startAfter_s": -90, "priority": 1, "intervals": [{"duration": "PT1H", "value": 1}]}):
        await _create(peer, stimulus, **args)
    await peer.request_event()
    await peer.drain()
    _check_rules(trace, peer, "EMAP-6.3.2-03", timing)


@emap_test("TC-U-6.3.2-04", requirements=["EMAP-6.3.2-04"], applies=UPPER_ROLES)
async def test_ei_response_only_when_answering(lower, trace, stimulus):
    """eiResponse is present exactly in the emapDistributeEvent that answers emapRequestEvent."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        await _create(peer, stimulus)
        await _distribution(peer)
        await peer.request_event()
    for exchange in trace.exchanges():
        request = exchange.request_message
        if exchange.direction == "from-iut" or (request is not None and request.name == "emapPoll"):
            message = request if exchange.direction == "from-iut" else exchange.response_message
            answering = False
        elif request is not None and request.name == "emapRequestEvent":
            message, answering = exchange.response_message, True
        else:
            continue
        if message is not None and message.name == DISTRIBUTE and ("eiResponse" in message.body) != answering:
            raise fail("EMAP-6.3.2-04", f"emapDistributeEvent {message.request_id!r} "
                                        f"{'lacks' if answering else 'carries'} eiResponse: {describe(exchange)}")


@emap_test("TC-U-6.3.2-05", requirements=["EMAP-6.3.2-05"], applies=UPPER_ROLES)
async def test_one_waiting_distribution(lower, trace, stimulus):
    """Pull mode: changes while an emapDistributeEvent waits yield one queued message with the content at its
    first transmission."""
    peer = await lower(pull=True)
    event_id = await _create(peer, stimulus)
    for priority in (2, 3):
        await act(stimulus, "modify-event", {"eventID": event_id, "priority": priority})
    await let_iut_act(peer)
    start = trace.elapsed()
    await peer.drain()
    sent = [(r, m) for r, m in messages_to(trace, peer, DISTRIBUTE) if r.t >= start]
    if not sent:
        raise Inconclusive("no emapDistributeEvent was queued within T_PROMPT of the changes (EMAP-6.3.2-01)")
    if len(sent) != 1:
        raise fail("EMAP-6.3.2-05", f"{len(sent)} emapDistributeEvents were queued for three changes made while "
                                    "one waited; expected exactly one")
    current = _event(expect_answer(trace, await peer.request_event(), "EMAP-6.3.2-05", name=DISTRIBUTE), event_id)
    event = _event(sent[0][1], event_id)
    if current is None or event is None:
        raise Inconclusive(f"event {event_id!r} is missing from the distributions; cannot compare contents")
    descriptor, latest = event["eiEvent"]["eventDescriptor"], current["eiEvent"]["eventDescriptor"]
    if descriptor.get("priority") != 3 or descriptor["modificationNumber"] != latest["modificationNumber"]:
        raise fail("EMAP-6.3.2-05", f"the waiting emapDistributeEvent carried priority {descriptor.get('priority')} "
                                    f"and modificationNumber {descriptor['modificationNumber']}, not the content at "
                                    f"its first transmission (priority 3, modificationNumber "
                                    f"{latest['modificationNumber']})")


@emap_test("TC-U-6.3.3-01", requirements=["EMAP-6.3.3-03"], applies=UPPER_ROLES)
async def test_request_event_answer(lower, trace, stimulus):
    """emapRequestEvent is answered with emapDistributeEvent: eiResponse 200 echoing the requestID, a new
    requestID, and the current events of L."""
    peer = await lower()
    event_id = await _create(peer, stimulus)
    await peer.drain()
    posted = await peer.request_event()
    answer = expect_answer(trace, posted, "EMAP-6.3.3-03", name=DISTRIBUTE, code="200")
    sent = exchange_of(trace, posted).request_message
    if answer.body["eiResponse"].get("requestID") != sent.request_id:
        raise fail("EMAP-6.3.3-03", f"eiResponse echoes {answer.body['eiResponse'].get('requestID')!r}, the "
                                    f"request carried {sent.request_id!r}")
    used = {m.request_id for _, m in sent_by_iut(trace) if m is not answer and m.request_id}
    if answer.request_id in used or answer.request_id == sent.request_id:
        raise fail("EMAP-6.3.3-03", f"the answer's requestID {answer.request_id!r} is not new")
    if event_id not in _ids(answer):
        raise fail("EMAP-6.3.3-03", f"the answer lacks the current event {event_id!r}: {_ids(answer)}")


@emap_test("TC-U-6.3.3-02", requirements=["EMAP-6.3.3-04"], applies=UPPER_ROLES)
async def test_reply_limit(lower, trace, stimulus):
    """replyLimit n yields at most n events, the first n of the full order."""
    peer = await lower()
    for start in (7200, 3600, 5400):
        await _create(peer, stimulus, startAfter_s=start)
    await peer.drain()
    full = expect_answer(trace, await peer.request_event(), "EMAP-6.3.3-04", name=DISTRIBUTE)
    for limit in (1, 2):
        posted = await peer.request_event(reply_limit=limit)
        cut = expect_answer(trace, posted, "EMAP-6.3.3-04", name=DISTRIBUTE)
        if _ids(cut) != _ids(full)[:limit]:
            raise fail("EMAP-6.3.3-04", f"replyLimit {limit} gave {_ids(cut)}; the first {limit} of the full set "
                                        f"are {_ids(full)[:limit]}")


@emap_test("TC-U-6.3.3-03", requirements=["EMAP-6.3.3-06"], applies=UPPER_ROLES)
async def test_created_event_checks(lower, trace, stimulus):
    """emapCreatedEvent naming an unknown event or another lower EMA's event gets 452, a newer
    modificationNumber 454; an answer naming an older one is accepted."""
    peer = await lower(pull=True)
    other = await lower(name="other")
    event_id = await _create(peer, stimulus, responseRequired="always")
    foreign = await _create(other, stimulus)
    first = await peer.receive(DISTRIBUTE, timeout=peer.prompt, answer=False)
    if first is None:
        raise Inconclusive("no emapDistributeEvent was delivered after the accepted create-event")
    rid = first.request_id

    def answer(*pairs):
        return B.created_event(rid, peer.ven_id, [B.event_response(rid, e, n) for e, n in pairs])

    for pairs, code in ((((event_id, 0), (peer.ids("ev-unknown"), 0)), "452"), (((foreign, 0),), "452"),
                        (((event_id, 5),), "454")):
        expect_answer(trace, await peer.post("EiEvent", answer(*pairs)), "EMAP-6.3.3-06", name="emapResponse",
                      code=code)
    await act(stimulus, "modify-event", {"eventID": event_id, "priority": 2})
    second = await peer.receive(DISTRIBUTE, timeout=peer.prompt, answer=False)
    if second is None:
        raise Inconclusive("no emapDistributeEvent was delivered after the accepted modify-event")
    rid = second.request_id
    posted = await peer.post("EiEvent", answer((event_id, 0)))
    reply = expect_answer(trace, posted, "EMAP-6.3.3-06", name="emapResponse", code=None)
    if reply.response_code != "200":
        raise fail("EMAP-6.3.3-06", f"an answer naming the older modificationNumber 0 was rejected: "
                                    f"{describe(exchange_of(trace, posted))}")


@emap_test("TC-U-6.3.4-01", requirements=["EMAP-6.3.4-01"], applies=UPPER_ROLES)
async def test_event_messages_conform(lower, trace, stimulus):
    """Every Event-service message U sends (pushed, polled and answering emapRequestEvent) conforms to its
    schema."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        await _create(peer, stimulus)
        await peer.receive(DISTRIBUTE, timeout=peer.prompt)
        await peer.request_event()
        await peer.request_event(reply_limit=1)
    check_conformance(trace, "EMAP-6.3.4-01", "Event")
