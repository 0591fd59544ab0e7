"""Sample upper EMA: events by stimulus (6.3.1, 6.3.2), request event (6.3.3), step two and 450 (EMAP-6.1-07).
"""

from __future__ import annotations

from ema_upper_peer import code_of

from conformance.messages import build, rules, timefmt


async def _distribute(upper, ven_id: str) -> dict:
    answer = await upper.poll(ven_id)
    assert list(answer) == ["emapDistributeEvent"], answer
    return answer["emapDistributeEvent"]


def _ids(distribute: dict) -> list[tuple[str, int, str]]:
    return [
        (
            e["eiEvent"]["eventDescriptor"]["eventID"],
            e["eiEvent"]["eventDescriptor"]["modificationNumber"],
            e["eiEvent"]["eventDescriptor"]["eventStatus"],
        )
        for e in distribute["emapEvent"]
    ]


async def test_create_modify_cancel_distributes(upper):
    """EMAP-6.3.1-02, -08, EMAP-6.3.2-01, -05: one queued message per wait, content at transmission."""
    ven_id = await upper.registered_pull()
    assert code_of(await upper.poll(ven_id)) == "200"
    result = await upper.stimulate("create-event", {"eventID": "ev-a", "startAfter_s": 600})
    assert result["status"] == "accepted", result
    await upper.stimulate(
        "modify-event", {"eventID": "ev-a", "intervals": [{"duration": "PT1H", "value": 3}]}
    )
    distribute = await _distribute(upper, ven_id)
    assert _ids(distribute) == [("ev-a", 1, "far")]
    event = distribute["emapEvent"][0]["eiEvent"]
    assert event["eiTarget"] == {"venID": [ven_id]} and "eiResponse" not in distribute
    assert rules.event_rules(distribute, timefmt.utc_now(), ven_id=ven_id, answers_request=False) == []
    assert code_of(await upper.poll(ven_id)) == "200"
    await upper.stimulate("cancel-event", {"eventID": "ev-a"})
    assert _ids(await _distribute(upper, ven_id)) == [("ev-a", 2, "cancelled")]
    assert (await upper.stimulate("modify-event", {"eventID": "ev-a", "priority": 1}))["status"] == "refused"
    assert (await upper.stimulate("cancel-event", {"eventID": "nope"}))["status"] == "error"
    assert (await upper.stimulate("create-event", {"eventID": "ev-a"}))["status"] == "refused"
    await upper.stimulate("create-event", {"eventID": "ev-b"})
    assert _ids(await _distribute(upper, ven_id)) == [
        ("ev-b", 0, "far")
    ]  # the delivered cancellation is gone


async def test_order_and_reply_limit(upper):
    """EMAP-6.3.2-03, EMAP-6.3.3-03, -04."""
    ven_id = await upper.registered_pull()
    for event_id, start, priority in (("e1", 900, None), ("e2", -60, 2), ("e3", 300, None), ("e4", -30, 1)):
        await upper.stimulate(
            "create-event",
            {"eventID": event_id, "startAfter_s": start, "priority": priority}
            if priority
            else {"eventID": event_id, "startAfter_s": start},
        )
    answer = (await upper.body("EiEvent", build.request_event("re-1", ven_id)))["emapDistributeEvent"]
    assert answer["eiResponse"] == {"responseCode": "200", "requestID": "re-1"}
    assert [i[0] for i in _ids(answer)] == ["e4", "e2", "e3", "e1"]
    limited = (await upper.body("EiEvent", build.request_event("re-2", ven_id, 2)))["emapDistributeEvent"]
    assert [i[0] for i in _ids(limited)] == ["e4", "e2"] and limited["requestID"] != answer["requestID"]


async def test_signal_table_refusals(upper):
    """Table 6.3-2: forbidden combinations and SIMPLE values are refused (exit 4)."""
    await upper.registered_pull()
    bad = [
        {"intervals": [{"duration": "PT1H", "value": 7}]},
        {"signalName": "ELECTRICITY_PRICE", "signalType": "level"},
        {"intervals": [{"duration": "PT0S", "value": 1}, {"duration": "PT1H", "value": 1}]},
        {"optChangeDeadline_s": 60},
    ]
    for args in bad:
        assert (await upper.stimulate("create-event", args))["status"] == "refused", args
    assert (await upper.stimulate("create-event", {"startAfter_s": "soon"}))["status"] == "error"
    price = {
        "signalName": "ELECTRICITY_PRICE",
        "signalType": "price",
        "intervals": [{"duration": 1800, "value": 0.3}, {"duration": 0, "value": 0.2}],
    }
    assert (await upper.stimulate("create-event", price))["status"] == "accepted"


async def test_step_two_outstanding_and_checks(upper):
    """EMAP-6.1-07 (450, superseded answers), EMAP-6.3.3-06 (452, 454, older accepted), EMAP-A-07 decisions.
    """
    ven_id = await upper.registered_pull()
    await upper.stimulate("create-event", {"eventID": "ev-1"})
    first = await _distribute(upper, ven_id)
    await upper.stimulate("modify-event", {"eventID": "ev-1", "priority": 2})
    second = await _distribute(upper, ven_id)

    def answer(distribute, event_id="ev-1", number=0):
        rid = distribute["requestID"]
        return build.created_event(rid, ven_id, [build.event_response(rid, event_id, number)])

    assert code_of(await upper.body("EiEvent", answer(second, "ev-x"))) == "452"
    assert code_of(await upper.body("EiEvent", answer(second, number=5))) == "454"
    assert code_of(await upper.body("EiEvent", answer(first))) == "200"  # superseded, older number accepted
    assert code_of(await upper.body("EiEvent", answer(second, number=1))) == "200"
    repeat = build.created_event(second["requestID"], ven_id, [])
    assert code_of(await upper.body("EiEvent", repeat)) == "450"
    wrong_service = await upper.body("EiRegisterParty", build.response(first["requestID"], ven_id=ven_id))
    assert code_of(wrong_service) == "450"
    unknown = await upper.body("EiReport", build.registered_report("never-sent", ven_id))
    assert code_of(unknown) == "450"


async def test_four_superseded_distributes_stay_outstanding(upper):
    """EMAP-6.1-07: the four most recent delivered emapDistributeEvents are accepted in any order."""
    ven_id = await upper.registered_pull()
    await upper.stimulate("create-event", {"eventID": "ev-1"})
    delivered = []
    for number in range(4):
        delivered.append(await _distribute(upper, ven_id))
        await upper.stimulate("modify-event", {"eventID": "ev-1", "priority": number + 1})
    for distribute in reversed(delivered):
        ack = await upper.post("EiEvent", build.response(distribute["requestID"], ven_id=ven_id))
        assert (ack.code, ack.payload) == ("2.04", b"")


async def test_event_for_other_lower_ema_not_sent(upper):
    """EMAP-6.3.1-08, EMAP-5-06: an event targeted at one lower EMA reaches only that one."""
    a = await upper.registered_pull()
    b = await upper.registered_pull()
    assert (await upper.stimulate("create-event", {}))["status"] == "error"  # two registered: venID needed
    await upper.stimulate("create-event", {"venID": a, "eventID": "only-a"})
    assert _ids(await _distribute(upper, a)) == [("only-a", 0, "far")]
    assert code_of(await upper.poll(b)) == "200"
    answer = await upper.body("EiEvent", build.request_event("re-1", b))
    assert answer["emapDistributeEvent"]["emapEvent"] == []
    opt = build.create_opt("co-1", b, "o-1", "optOut", event_id="only-a", reason="overrideStatus")
    assert code_of(await upper.body("EiOpt", opt)) == "452"
