"""The sample lower EMA in push mode: its transport address, answers in the CoAP response, 463 when not
registered, re-registration on request, stimulus statuses."""

from __future__ import annotations

import time

from ema_lower_upper_script import T_PROMPT, VEN_ID, VTN_ID, until

from conformance.messages import build


async def _registered(upper, lower):
    creates = await upper.wait_for("emapRequestEvent", timeout=3 * T_PROMPT)
    assert lower.role.link is not None
    return creates


async def test_push_registration_and_pushed_requests(upper, lower_push):
    """EMAP-6.2.3-01, EMAP-7.1.3-06, EMAP-6.6-10, EMAP-6.3.2-07, EMAP-6.2.5-02/-03."""
    await _registered(upper, lower_push)
    create = next(s for s in upper.seen if s.name == "emapCreatePartyRegistration").message.body
    assert create["emapPullModel"] is False
    assert create["emapTransportAddress"] == lower_push.running.ready["lower"]
    reply = await lower_push.push("EiEvent", build.distribute_event("de-9", VTN_ID, [build.event("ev-9")]))
    assert reply.name == "emapCreatedEvent"
    assert reply.body["eiCreatedEvent"]["eventResponses"]["eventResponse"][0]["responseCode"] == "200"
    reply = await lower_push.push("EiEvent", build.distribute_event("de-10", "vtn-other", [build.event("ev-9")]))
    assert reply.response_code == "452" and "eventResponses" not in reply.body["eiCreatedEvent"]
    reply = await lower_push.push("EiRegisterParty", build.request_reregistration("ven-other"))
    assert reply.name == "emapResponse" and reply.response_code == "452"
    mark = time.monotonic()
    reply = await lower_push.push("EiRegisterParty", build.request_reregistration(VEN_ID))
    assert reply.body["eiResponse"] == {"responseCode": "200", "requestID": ""}
    again = await upper.wait_for("emapCreatePartyRegistration", since=mark, timeout=T_PROMPT + 0.3)
    assert again[0].t - mark <= T_PROMPT and again[0].message.body["registrationID"] == "reg-1"
    assert "emapPoll" not in upper.names()
    reply = await lower_push.push("EiEvent", build.poll(VEN_ID))  # not accepted at L's EiEvent: 459
    assert reply.name == "emapResponse" and reply.response_code == "459" and reply.body["venID"] == VEN_ID
    status, _ = await lower_push.role.stimulate("poll", {})
    assert status == "unsupported"


async def test_push_cancel_by_upper_then_463(upper, lower_push):
    """EMAP-6.2.4-03/-04 (452, then 200 ending the registration), EMAP-6.2.1-03 (463), EMAP-6.2.4-06."""
    await _registered(upper, lower_push)
    reply = await lower_push.push("EiRegisterParty", build.cancel_party_registration("xp-1", "reg-x", VEN_ID))
    assert reply.response_code == "452" and lower_push.role.link is not None
    reply = await lower_push.push("EiRegisterParty", build.cancel_party_registration("xp-2", "reg-1", VEN_ID))
    assert reply.response_code == "200" and lower_push.role.link is None
    reply = await lower_push.push("EiReport", build.create_report("cr-1", VEN_ID, [
        build.report_request("rq-1", "rs-status", ["status-1"])]))
    assert reply.name == "emapCreatedReport" and reply.response_code == "463"
    reply = await lower_push.push("EiEvent", build.distribute_event("de-1", VTN_ID, []))
    assert reply.name == "emapCreatedEvent" and reply.response_code == "463"
    for action in ("request-event", "create-opt", "poll", "register-report"):
        status, _ = await lower_push.role.stimulate(action, {"optType": "optIn"})
        assert status == "refused", action
    status, _ = await lower_push.role.stimulate("create-event", {})
    assert status == "unsupported"


async def test_push_reports_as_reporter_and_requester(upper, lower_push):
    """EMAP-6.4.3-06 (one-shot within T_PROMPT), EMAP-6.4.2-06 (METADATA answer), EMAP-6.4.4-04 (452 checks as
    requester), stimulus request-report."""
    await _registered(upper, lower_push)
    mark = time.monotonic()
    reply = await lower_push.push("EiReport", build.create_report("cr-2", VEN_ID, [
        build.report_request("rq-m", "METADATA")]))
    assert reply.response_code == "200"
    meta = await upper.wait_for("emapRegisterReport", since=mark, timeout=T_PROMPT + 0.3)
    assert meta[0].message.body["reportRequestID"] == "rq-m"
    status, _ = await lower_push.role.stimulate("request-report", {"reportSpecifierID": "u-status",
                                                                    "rIDs": ["u-1"], "reportRequestID": "mine-1"})
    assert status == "accepted"
    await upper.wait_for("emapCreateReport", timeout=T_PROMPT)
    data = build.data_report("mine-1", "u-status", "TELEMETRY_STATUS", [build.data_interval(
        "2024-05-01T10:00:00Z", "PT0S", [build.report_payload("u-1", online=True)])])
    wrong = build.data_report("mine-1", "u-other", "TELEMETRY_STATUS", data["intervals"]["interval"])
    reply = await lower_push.push("EiReport", build.update_report("ur-1", VEN_ID, [wrong]))
    assert reply.response_code == "452"
    reply = await lower_push.push("EiReport", build.update_report("ur-2", VEN_ID, [data]))
    assert reply.response_code == "200"
    status, _ = await lower_push.role.stimulate("request-report", {"reportSpecifierID": "u-status",
                                                                    "reportRequestID": "mine-1"})
    assert status == "refused"


async def test_push_resend_after_backoff(upper, lower_push):
    """EMAP-7.1.5-03/-05: a failed request is re-sent identically after T_BACKOFF."""
    await _registered(upper, lower_push)
    upper.silent["emapCreateOpt"] = 1
    status, _ = await lower_push.role.stimulate("create-opt", {"optID": "o-1", "optType": "optOut"})
    assert status == "accepted"
    sends = await upper.wait_for("emapCreateOpt", count=2, timeout=10)
    config = lower_push.running.config
    assert sends[0].message.envelope == sends[1].message.envelope
    assert sends[1].t - sends[0].t >= config.backoff_initial
    assert sends[1].t - sends[0].t <= 2 * config.max_transmit_wait + config.backoff_initial + T_PROMPT


async def test_push_request_held_during_create(upper):
    """EMAP-6.2.3-13: a request arriving while the create exchange is open is held, then processed."""
    from ema_lower_upper_script import Lower, lower_config

    from conformance.ema.main import RunningEma
    from conformance.transport.client import CoapClient
    from conformance.transport.params import TransmissionParams

    upper.create_delay = 0.5
    running = RunningEma(lower_config(upper.base, "push"))
    await running.start()
    client = await CoapClient.create(TransmissionParams(0.3, 1.0, 1))
    try:
        lower = Lower(running, client)
        await upper.wait_for("emapCreatePartyRegistration", timeout=T_PROMPT)
        reply = await lower.push("EiEvent", build.distribute_event("de-h", VTN_ID, [build.event("ev-h")]))
        assert reply.response_code == "200", reply
        assert reply.body["eiCreatedEvent"]["eventResponses"]["eventResponse"][0]["optType"] == "optIn"
    finally:
        await client.close()
        await running.stop()


async def test_opt_change_stimulus(upper, lower_push):
    """EMAP-A-04 (opt change only in event form, accepted for the registration, on a decided event that allows
    it) and EMAP-6.3.2-09/A-09 (an accepted opt with eiTarget {} sets later answers)."""
    await _registered(upper, lower_push)
    role = lower_push.role
    assert role.link.opt_change
    events = [build.event("ev-a", opt_change_allowed=True), build.event("ev-b")]
    await lower_push.push("EiEvent", build.distribute_event("de-1", VTN_ID, events))
    for args in ({"eventID": "ev-b"}, {"availability": [{"dtstart": "2030-01-01T00:00:00Z", "duration": "PT1H"}]},
                 {"eventID": "ev-x"}):
        status, detail = await role.stimulate("create-opt", {"optType": "optOut", "optChange": True, **args})
        assert status == "refused", (args, detail)
    status, detail = await role.stimulate("create-opt", {"optID": "o-c", "optType": "optOut", "optChange": True,
                                                         "eventID": "ev-a"})
    assert status == "accepted", detail
    sent = await upper.wait_for("emapCreateOpt", timeout=T_PROMPT)
    assert sent[0].message.body["emapOptChange"] is True and sent[0].message.body["eiTarget"] == {}
    await until(lambda: "o-c" in role.opts, what="the opt accepted")
    reply = await lower_push.push("EiEvent", build.distribute_event("de-2", VTN_ID, events))
    answers = reply.body["eiCreatedEvent"]["eventResponses"]["eventResponse"]
    assert [(a["qualifiedEventID"]["eventID"], a["optType"]) for a in answers] == [("ev-a", "optOut"),
                                                                                    ("ev-b", "optIn")]
