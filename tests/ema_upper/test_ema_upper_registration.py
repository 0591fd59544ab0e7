"""Sample upper EMA: RegisterParty (6.2), poll basics (6.6) and identification (EMAP-6.2.1-01/-02)."""

from __future__ import annotations

from ema_upper_peer import code_of

from conformance.messages import build


async def test_query_unregistered_has_no_ids(upper):
    body = (await upper.body("EiRegisterParty", build.query_registration("q-1")))[
        "emapCreatedPartyRegistration"
    ]
    assert code_of({"x": body}) == "200" and body["vtnID"] == "vtn-sample"
    assert "registrationID" not in body and "venID" not in body
    assert body["emapProfiles"]["emapProfile"][0]["emapProfileName"] == "EMAP-1.0"


async def test_pull_registration_then_first_poll_is_register_report(upper):
    """EMAP-6.2.3-08, -11, EMAP-6.6-02: R4 first, then R0 with requestID ""."""
    created = await upper.register()
    assert created["emapRequestedPollFreq"] == "PT1S"
    ven_id = created["venID"]
    first = await upper.poll(ven_id)
    assert list(first) == ["emapRegisterReport"]
    names = {r["reportName"] for r in first["emapRegisterReport"]["emapReport"]}
    assert names == {"METADATA_TELEMETRY_STATUS", "METADATA_TELEMETRY_USAGE", "METADATA_HISTORY_USAGE"}
    second = await upper.poll(ven_id)
    assert second == {
        "emapResponse": {"eiResponse": {"responseCode": "200", "requestID": ""}, "venID": ven_id}
    }
    query = await upper.body("EiRegisterParty", build.query_registration("q-2", ven_id))
    assert query["emapCreatedPartyRegistration"]["registrationID"] == created["registrationID"]


async def test_reregistration_keeps_ids_new_registration_changes_id(upper):
    """EMAP-6.2.3-05, -06, EMAP-6.2.1-04: the queue is emptied and the metadata comes first again."""
    created = await upper.register()
    ven_id, reg = created["venID"], created["registrationID"]
    again = await upper.register(registration_id=reg, ven_id=ven_id)
    assert (again["registrationID"], again["venID"]) == (reg, ven_id)
    assert list(await upper.poll(ven_id)) == ["emapRegisterReport"]
    renewed = await upper.register(ven_id=ven_id)
    assert renewed["venID"] == ven_id and renewed["registrationID"] != reg
    stale = await upper.body("EiRegisterParty", build.create_party_registration("c-x", registration_id=reg))
    assert code_of(stale) == "452" and "venID" not in stale["emapCreatedPartyRegistration"]


async def test_registration_errors_in_check_order(upper):
    """452 before 454 before 453 (Table 6.1-4); failed replies carry no IDs (EMAP-6.2.3-09)."""
    bad_address = build.create_party_registration("c-1", pull=False, transport_address="coap://h/emap/")
    assert code_of(await upper.body("EiRegisterParty", bad_address)) == "454"
    missing = build.create_party_registration("c-2", pull=False)
    assert code_of(await upper.body("EiRegisterParty", missing)) == "454"
    profile = build.create_party_registration("c-3")
    profile["emapCreatePartyRegistration"]["emapProfileName"] = "emap-1.0"
    answer = await upper.body("EiRegisterParty", profile)
    assert (
        code_of(answer) == "453"
        and answer["emapCreatedPartyRegistration"]["eiResponse"]["responseDescription"]
    )
    both = build.create_party_registration("c-4", pull=False, registration_id="nope")
    assert code_of(await upper.body("EiRegisterParty", both)) == "452"


async def test_venid_assignment(upper):
    """EMAP-6.2.3-07, EMAP-5-05: pre-allocated and self-chosen kept; a held venID identifies its holder."""
    first = await upper.register(ven_id="ven-pre-1")
    assert first["venID"] == "ven-pre-1"
    chosen = await upper.register(ven_id="mine-7")
    assert chosen["venID"] == "mine-7"
    a, b = await upper.register(), await upper.register()
    assert a["venID"] != b["venID"]
    holder = await upper.register(ven_id="ven-pre-1")
    assert holder["venID"] == "ven-pre-1" and holder["registrationID"] != first["registrationID"]


async def test_unregistered_sender_gets_463_in_the_procedure_response(upper):
    """EMAP-6.2.1-02, EMAP-6.1-01, EMAP-6.1-09."""
    cases = {
        "EmapPoll": build.poll("ghost"),
        "EiEvent": build.request_event("re-1", "ghost"),
        "EiReport": build.create_report("cr-1", "ghost", [build.report_request("rq-1", "METADATA")]),
        "EiOpt": build.cancel_opt("xo-1", "ghost", "opt-1"),
    }
    for resource, envelope in cases.items():
        answer = await upper.body(resource, envelope)
        assert code_of(answer) == "463", answer
    answer = await upper.body("EiEvent", build.request_event("re-2", "ghost"))
    assert answer["emapDistributeEvent"]["emapEvent"] == []
    answer = await upper.body(
        "EiReport", build.create_report("cr-2", "ghost", [build.report_request("r", "METADATA")])
    )
    assert answer["emapCreatedReport"]["emapPendingReports"] == {"reportRequestID": []}


async def test_lower_cancels(upper):
    """EMAP-6.2.4-03, -04: wrong registrationID 452 (registration continues), then 200 and 463 afterwards."""
    created = await upper.register()
    ven_id, reg = created["venID"], created["registrationID"]
    wrong = await upper.body("EiRegisterParty", build.cancel_party_registration("x-1", reg.upper(), ven_id))
    assert code_of(wrong) == "452"
    assert wrong["emapCanceledPartyRegistration"]["registrationID"] == reg.upper()
    ok = await upper.body("EiRegisterParty", build.cancel_party_registration("x-2", reg, ven_id))
    assert code_of(ok) == "200"
    assert code_of(await upper.poll(ven_id)) == "463"


async def test_upper_cancels_in_pull_mode(upper):
    """EMAP-6.2.4-05: R1, stale step two 452 (still outstanding), correct step two ends the registration."""
    created = await upper.register()
    ven_id, reg = created["venID"], created["registrationID"]
    await upper.poll(ven_id)
    assert (await upper.stimulate("cancel-registration", {}))["status"] == "accepted"
    cancel = (await upper.poll(ven_id))["emapCancelPartyRegistration"]
    assert (cancel["registrationID"], cancel["venID"]) == (reg, ven_id)
    stale = build.canceled_party_registration(cancel["requestID"], "old-reg", ven_id)
    assert code_of(await upper.body("EiRegisterParty", stale)) == "452"
    good = build.canceled_party_registration(cancel["requestID"], reg, ven_id)
    assert code_of(await upper.body("EiRegisterParty", good)) == "200"
    assert code_of(await upper.poll(ven_id)) == "463"


async def test_reregistration_request_and_empty_ack(upper):
    """EMAP-6.2.5-01, EMAP-6.1-06: R2, then L's emapResponse gets an empty 2.04; a second one 450."""
    ven_id = await upper.registered_pull()
    assert (await upper.stimulate("request-reregistration", {"venID": ven_id}))["status"] == "accepted"
    assert await upper.poll(ven_id) == {"emapRequestReregistration": {"venID": ven_id}}
    response = await upper.post("EiRegisterParty", build.response("", ven_id=ven_id))
    assert (response.code, response.payload, response.content_format) == ("2.04", b"", None)
    again = await upper.body("EiRegisterParty", build.response("", ven_id=ven_id))
    assert code_of(again) == "450"


async def test_push_mode_poll_is_451(upper):
    created = await upper.register(pull=False, transport_address="coap://127.0.0.1:9/emapl")
    answer = await upper.poll(created["venID"])
    assert answer["emapResponse"]["eiResponse"]["responseCode"] == "451"
    assert "emapRequestedPollFreq" not in created


async def test_opt_change_answer(upper):
    """EMAP-A-02."""
    assert (await upper.register(opt_change=True))["emapOptChange"] is True
    assert (await upper.register(opt_change=False))["emapOptChange"] is False
    assert "emapOptChange" not in await upper.register()
