"""The sample lower EMA in pull mode against a scripted upper EMA: bootstrap order and timing, poll spacing,
step two of R1-R7 before the next poll, re-registration, periodic report timing."""

from __future__ import annotations

import time

from ema_lower_upper_script import POLL_FREQ, T_PROMPT, VEN_ID, VTN_ID

from conformance.messages import build

TOLERANCE = 0.3


def _event(event_id="ev-1", **kw):
    return build.event(event_id, **kw)


async def test_bootstrap_order_and_poll_spacing(upper, lower_pull):
    """EMAP-6.2.3-12, EMAP-6.6-09, EMAP-6.6-06/-08: create, registerReport, requestEvent, then polls spaced by
    emapRequestedPollFreq."""
    polls = await upper.wait_for("emapPoll", count=3, timeout=4 * POLL_FREQ + 3 * T_PROMPT)
    names = upper.names()
    first = names.index("emapCreatePartyRegistration")
    assert names[first:first + 4] == ["emapCreatePartyRegistration", "emapRegisterReport", "emapRequestEvent",
                                      "emapPoll"]
    seen = {s.name: s for s in reversed(upper.seen)}
    assert seen["emapRegisterReport"].t - seen["emapCreatePartyRegistration"].t <= T_PROMPT
    assert seen["emapRequestEvent"].t - seen["emapRegisterReport"].t <= T_PROMPT
    assert polls[0].t - seen["emapRequestEvent"].t <= T_PROMPT
    for before, after in zip(polls, polls[1:], strict=False):
        assert POLL_FREQ - 0.05 <= after.t - before.t <= POLL_FREQ + 1.0
    report = seen["emapRegisterReport"].message.body
    assert {r["reportName"] for r in report["emapReport"]} >= {"METADATA_TELEMETRY_STATUS",
                                                               "METADATA_TELEMETRY_USAGE"}
    assert report["venID"] == VEN_ID


async def _reply_and_step_two(upper, reply: dict, step_two: str) -> None:
    """Queue one poll reply; L's step two arrives before its next poll, and that poll comes promptly."""
    await upper.wait_for("emapPoll", timeout=T_PROMPT + POLL_FREQ + 1)
    mark = time.monotonic()
    upper.queue.append(reply)
    polls = await upper.wait_for("emapPoll", count=2, since=mark, timeout=2 * POLL_FREQ + 2 * T_PROMPT)
    answered = [s for s in upper.seen if s.name == step_two and polls[0].t <= s.t <= polls[1].t]
    assert answered, f"no {step_two} between the poll delivering {next(iter(reply))} and the next poll"
    assert polls[1].t - answered[0].t <= T_PROMPT + TOLERANCE
    return answered[0]


async def test_step_two_for_each_poll_reply(upper, lower_pull):
    """EMAP-6.1-05, EMAP-6.3.3-01, EMAP-6.6-04/-05 for R3-R7, then R2 (re-registration before the next poll)
    and R1 (polling stops)."""
    r3 = await _reply_and_step_two(upper, build.distribute_event("de-1", VTN_ID, [_event()]), "emapCreatedEvent")
    created = r3.message.body["eiCreatedEvent"]
    assert r3.resource == "EiEvent" and created["eiResponse"]["requestID"] == "de-1"
    assert created["eventResponses"]["eventResponse"][0]["optType"] == "optIn"
    r4 = await _reply_and_step_two(upper, build.register_report("rr-u", VEN_ID, []), "emapRegisteredReport")
    assert r4.resource == "EiReport" and r4.message.response_code == "200"
    request = build.report_request("rq-1", "rs-status", ["status-1"])
    r5 = await _reply_and_step_two(upper, build.create_report("cr-u", VEN_ID, [request]), "emapCreatedReport")
    assert r5.message.body["emapPendingReports"]["reportRequestID"] in (["rq-1"], [])
    updates = await upper.wait_for("emapUpdateReport", since=r5.t, timeout=T_PROMPT + TOLERANCE)
    assert updates[0].t - r5.t <= T_PROMPT
    assert updates[0].message.body["emapReport"][0]["reportName"] == "TELEMETRY_STATUS"
    unknown = [build.data_report("rq-x", "rs-x", "TELEMETRY_STATUS",
                                 [build.data_interval("2024-05-01T10:00:00Z", "PT0S",
                                                      [build.report_payload("s", online=True)])])]
    r6 = await _reply_and_step_two(upper, build.update_report("ur-u", VEN_ID, unknown), "emapUpdatedReport")
    assert r6.message.response_code == "452"
    r7 = await _reply_and_step_two(upper, build.cancel_report("xc-u", VEN_ID, ["rq-x"]), "emapCanceledReport")
    assert r7.message.response_code == "452"
    mark = time.monotonic()
    upper.queue.append(build.request_reregistration(VEN_ID))
    polls = await upper.wait_for("emapPoll", count=2, since=mark, timeout=2 * POLL_FREQ + 3 * T_PROMPT)
    between = [s for s in upper.seen if polls[0].t < s.t < polls[1].t]
    names = [s.name for s in between]
    assert names == ["emapResponse", "emapCreatePartyRegistration", "emapRegisterReport", "emapRequestEvent"]
    assert between[0].message.body["eiResponse"] == {"responseCode": "200", "requestID": ""}
    assert between[1].message.body["registrationID"] == "reg-1"
    mark = time.monotonic()
    upper.queue.append(build.cancel_party_registration("xp-u", "reg-1", VEN_ID))
    cancel = await upper.wait_for("emapCanceledPartyRegistration", since=mark, timeout=3 * T_PROMPT)
    assert cancel[0].message.response_code == "200"
    assert lower_pull.role.link is None
    assert not [s for s in upper.seen if s.name == "emapPoll" and s.t > cancel[0].t]


async def test_invalid_poll_reply_is_discarded(upper, lower_pull):
    """EMAP-6.6-11: a reply that is not a poll reply gets no step two and polling continues."""
    await upper.wait_for("emapPoll", timeout=T_PROMPT + POLL_FREQ + 1)
    mark = time.monotonic()
    upper.queue.append(build.created_opt("x", "opt-1"))
    polls = await upper.wait_for("emapPoll", count=2, since=mark, timeout=3 * POLL_FREQ + T_PROMPT)
    assert [s.name for s in upper.seen if polls[0].t < s.t < polls[1].t] == []
    assert polls[1].t - polls[0].t >= POLL_FREQ - 0.05


async def test_periodic_report_timing(upper, lower_pull):
    """EMAP-6.4.3-07, EMAP-6.4.4-05: the k-th report in [S + kB, S + kB + T_PROMPT], intervals ending at S + kB;
    a cancel ends it (EMAP-6.4.5-03)."""
    request = build.report_request("rq-p", "rs-usage", ["power-1", "energy-1"], granularity="PT1S",
                                   back_duration="PT1S")
    created = await _reply_and_step_two(upper, build.create_report("cr-p", VEN_ID, [request]),
                                        "emapCreatedReport")
    assert created.message.response_code == "200"
    reports = await upper.wait_for("emapUpdateReport", count=3, since=created.t, timeout=3 + T_PROMPT)
    for k, seen in enumerate(reports, start=1):
        assert k * 1.0 - TOLERANCE <= seen.t - created.t <= k * 1.0 + T_PROMPT
        report = seen.message.body["emapReport"][0]
        assert report["reportRequestID"] == "rq-p" and len(report["intervals"]["interval"]) == 1
        assert report["duration"] == "PT1S"
    r7 = await _reply_and_step_two(upper, build.cancel_report("xc-p", VEN_ID, ["rq-p"]), "emapCanceledReport")
    assert r7.message.response_code == "200"
    assert r7.message.body["emapPendingReports"]["reportRequestID"] == []


async def test_request_event_follow_up(upper, lower_pull):
    """EMAP-6.3.3-05: the answer to emapRequestEvent is followed by emapCreatedEvent within T_PROMPT."""
    await upper.wait_for("emapPoll", timeout=T_PROMPT + POLL_FREQ + 1)
    upper.events = [_event("ev-a"), _event("ev-b", response_required="never")]
    status, _ = await lower_pull.role.stimulate("request-event", {})
    assert status == "accepted"
    mark = time.monotonic()
    request = await upper.wait_for("emapRequestEvent", count=2, timeout=T_PROMPT)
    follow = await upper.wait_for("emapCreatedEvent", since=mark, timeout=T_PROMPT + TOLERANCE)
    assert follow[0].t - request[1].t <= T_PROMPT
    responses = follow[0].message.body["eiCreatedEvent"]["eventResponses"]["eventResponse"]
    assert [r["qualifiedEventID"]["eventID"] for r in responses] == ["ev-a"]


async def test_pull_resend_before_next_poll(upper, lower_pull):
    """EMAP-7.1.5-04: a failed request is re-sent identically at the next poll time, before that poll."""
    await upper.wait_for("emapPoll", timeout=T_PROMPT + POLL_FREQ + 1)
    upper.silent["emapCreateOpt"] = 1
    status, _ = await lower_pull.role.stimulate("create-opt", {"optID": "o-1", "optType": "optOut"})
    assert status == "accepted"
    sends = await upper.wait_for("emapCreateOpt", count=2, timeout=10)
    assert sends[0].message.envelope == sends[1].message.envelope
    polls = [s for s in upper.seen if s.name == "emapPoll" and sends[0].t < s.t < sends[1].t]
    assert not polls, "a poll went out before the failed request was re-sent"
    await upper.wait_for("emapPoll", since=sends[1].t, timeout=POLL_FREQ + T_PROMPT)  # polling goes on


async def test_bootstrap_goes_on_after_failed_exchanges(upper):
    """A failed bootstrap exchange does not stop the bootstrap: emapRequestEvent and the first poll follow, and
    the failed emapRegisterReport is re-sent (EMAP-6.2.3-12, EMAP-6.6-09, EMAP-7.1.5-03)."""
    from ema_lower_upper_script import lower_config

    from conformance.ema.main import RunningEma

    upper.silent.update({"emapRegisterReport": 1, "emapRequestEvent": 1})
    running = RunningEma(lower_config(upper.base, "pull"))
    await running.start()
    try:
        await upper.wait_for("emapPoll", timeout=15)
        reports = await upper.wait_for("emapRegisterReport", count=2, timeout=10)
        requests = await upper.wait_for("emapRequestEvent", count=2, timeout=10)
        assert reports[0].message.envelope == reports[1].message.envelope
        assert requests[0].message.envelope == requests[1].message.envelope
        first_poll = next(s for s in upper.seen if s.name == "emapPoll")
        assert requests[1].t < first_poll.t  # the failed request goes before the poll (EMAP-7.1.5-04)
    finally:
        await running.stop()
