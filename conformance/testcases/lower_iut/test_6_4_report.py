"""Lower-EMA IUT, clause 6.4 Report: its metadata, report requests and their errors, report timing and content,
cancel, and the IUT as requester (metadata answers, unknown reports)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conformance.messages import build as B
from conformance.messages.rules import data_report_rules, metadata_rules
from conformance.messages.timefmt import format_duration, parse_datetime, parse_duration, utc_now
from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .support import LOWER, Sent, answer_to, check_messages_valid, expect_answer, fail, iut_requests, polls

PERIOD_LIMIT_S = 4.0  # longest reporting period a test waits for (keeps the run short)
WINDOW_SLACK_S = 0.01  # rounding of dateTime values between the windows of consecutive reports
QUIET_PERIOD_S = 60.0  # a reporting period no test waits for (no periodic report comes during the test)


def lower_report(link, report_name: str) -> tuple[str, str, float, float]:
    """(reportSpecifierID, rID, min period s, max period s) of the IUT's metadata report ``report_name``."""
    for report in link.peer.lower_metadata:
        if report["reportName"] == report_name:
            description = report["emapReportDescription"][0]
            rate = description.get("emapSamplingRate") or {"emapMinPeriod": "PT0S", "emapMaxPeriod": "PT0S"}
            return (report["reportSpecifierID"], description["rID"], parse_duration(rate["emapMinPeriod"]),
                    parse_duration(rate["emapMaxPeriod"]))
    raise Inconclusive(f"the IUT registered no {report_name} metadata (ICS-8)")


def created_at(answer) -> float:
    """S of EMAP-6.4.3-07: when the reporter sent emapCreatedReport (its 2.04, or its step two)."""
    exchange = answer.exchange
    return exchange.response.t if exchange.direction == "to-iut" else exchange.request.t


def reports_for(trace, report_request_id: str, after_seq: int = -1) -> list[tuple[object, dict]]:
    """(exchange, data emapReport) of every report the IUT sent for ``report_request_id`` after ``after_seq``."""
    return [(ex, report) for ex in iut_requests(trace, "emapUpdateReport") if ex.request.seq > after_seq
            for report in ex.request_message.body["emapReport"] if report["reportRequestID"] == report_request_id]


def pending_of(answer) -> list[str]:
    return answer.message.body["emapPendingReports"]["reportRequestID"]


async def request_reports(link, trace, *requests: dict, code: str = "200", requirement: str = "EMAP-6.4.3-05"):
    """Deliver one emapCreateReport of ``requests`` and judge the answer's responseCode."""
    sent = await link.deliver(B.create_report(link.peer.ids("cr"), link.ven_id, list(requests)))
    if code == "200":
        refused = answer_to(trace, sent, requirement).message
        if refused.name == "emapCreatedReport" and refused.response_code == "461":
            raise Inconclusive("precondition: the IUT may not serve this valid report request (461, "
                               f"EMAP-6.4.3-04): {refused.body['eiResponse'].get('responseDescription', '')}")
    return expect_answer(trace, sent, requirement, name="emapCreatedReport", code=code)


def check_report_content(trace, request: dict, requirement: str = "EMAP-6.4.4-02") -> None:
    """Every data report of ``request`` follows EMAP-6.4.4-02/-03 (data_report_rules with the request)."""
    for exchange in iut_requests(trace, "emapUpdateReport"):
        body = exchange.request_message.body
        for violation in data_report_rules(body, {request["reportRequestID"]: request}):
            raise fail(violation.requirement_id, f"{violation.pointer}: {violation.text}")


@emap_test("TC-L-6.4.2-01", requirements=["EMAP-6.4.2-02", "EMAP-6.4.2-03", "EMAP-6.4.6-01", "EMAP-6.4.2-01"],
           applies=LOWER)
async def test_lower_metadata(link, trace):
    """The IUT's metadata (on the register-report stimulus) is well formed and offers telemetry status and usage."""
    await link.registered()
    await link.act("register-report", {})
    if await link.next_request("emapRegisterReport", link.prompt) is None:
        raise fail("EMAP-6.4.2-01", "no emapRegisterReport within T_PROMPT of the stimulus")
    body = iut_requests(trace, "emapRegisterReport")[-1].request_message.body
    for violation in metadata_rules(body, "L"):
        raise fail(violation.requirement_id, f"{violation.pointer}: {violation.text}")
    for report in body["emapReport"]:
        if report["reportRequestID"] != "0":
            raise fail("EMAP-6.4.6-01", f"metadata report {report['reportSpecifierID']!r} has reportRequestID "
                                        f"{report['reportRequestID']!r}, always \"0\"")
    check_messages_valid(trace, "EMAP-6.4.6-01", "Report")


@emap_test("TC-L-6.4.3-01", requirements=["EMAP-6.4.3-06", "EMAP-6.4.1-02", "EMAP-6.4.1-03", "EMAP-6.4.4-01",
                                          "EMAP-6.4.4-02", "EMAP-6.4.4-03", "EMAP-6.4.4-05"], applies=LOWER)
async def test_one_shot_report(link, trace):
    """A one-shot request gets exactly one report within T_PROMPT, with the request's IDs and one sample."""
    await link.registered()
    specifier, r_id, _, _ = lower_report(link, "METADATA_TELEMETRY_USAGE")
    request = B.report_request(link.peer.ids("rq"), specifier, [r_id])
    answer = await request_reports(link, trace, request, requirement="EMAP-6.4.3-06")
    rrid = request["reportRequestID"]
    if rrid not in pending_of(answer):
        raise fail("EMAP-6.4.1-03", f"emapPendingReports {pending_of(answer)} lacks the new request {rrid!r}")
    await link.next_request("emapUpdateReport", link.prompt)
    await link.observe(link.prompt)
    sent = reports_for(trace, rrid)
    if len(sent) != 1:
        raise fail("EMAP-6.4.3-06", f"{len(sent)} reports for the one-shot request {rrid!r}, expected exactly one")
    exchange, report = sent[0]
    delay = exchange.request.t - created_at(answer)
    if delay > link.prompt:
        raise fail("EMAP-6.4.3-06", f"the one-shot report came {delay:.2f} s after emapCreatedReport "
                                    f"(bound {link.prompt:g} s)")
    intervals = report["intervals"]["interval"]
    if len(intervals) != 1 or parse_duration(intervals[0]["duration"]) != 0:
        raise fail("EMAP-6.4.4-05", f"a one-shot request with granularity PT0S is answered with one PT0S sample, "
                                    f"not {len(intervals)} interval(s) of {intervals[0]['duration']}")
    check_report_content(trace, request)
    check_messages_valid(trace, "EMAP-6.4.6-01", "Report")


@emap_test("TC-L-6.4.3-02", requirements=["EMAP-6.4.3-07", "EMAP-6.4.4-05", "EMAP-6.4.5-03", "EMAP-6.4.4-01"],
           applies=LOWER)
async def test_periodic_reports_on_time(link, trace):
    """The k-th periodic report comes between S + k*B and S + k*B + T_PROMPT, and stops on cancel.

    A cancel without reportToFollow ends the reports at once."""
    await link.registered()
    specifier, r_id, low, high = lower_report(link, "METADATA_TELEMETRY_USAGE")
    granularity = max(low, 1.0)
    period = 2 * granularity
    if granularity > high or period > PERIOD_LIMIT_S:
        raise Inconclusive(f"the IUT's sampling range [{low:g}, {high:g}] s allows no period this test waits for")
    request = B.report_request(link.peer.ids("rq"), specifier, [r_id], granularity=format_duration(granularity),
                               back_duration=format_duration(period))
    answer = await request_reports(link, trace, request, requirement="EMAP-6.4.3-07")
    start, rrid = created_at(answer), request["reportRequestID"]
    await link.observe(3 * period + link.prompt - (trace.elapsed() - start))
    sent = reports_for(trace, rrid)
    tolerance = link.timing.tolerance_s
    for k in (1, 2, 3):
        due = start + k * period
        hits = [ex for ex, _ in sent if due - tolerance <= ex.request.t <= due + link.prompt]
        if not hits:
            shown = ", ".join(f"{ex.request.t - start:.2f}" for ex, _ in sent) or "none"
            raise fail("EMAP-6.4.3-07", f"no report {k} between S+{k * period:g} s and S+{k * period:g} s + "
                                        f"T_PROMPT (+{tolerance:g} s); reports at S+[{shown}] s")
    early = [ex for ex, _ in sent if ex.request.t < start + period - tolerance]
    if early:
        raise fail("EMAP-6.4.3-07", f"a report at S+{early[0].request.t - start:.2f} s, before S+B")
    windows = []
    for _, report in sent:
        intervals = report["intervals"]["interval"]
        if len(intervals) != round(period / granularity):
            raise fail("EMAP-6.4.4-05", f"a periodic report has {len(intervals)} intervals, expected "
                                        f"{round(period / granularity)} (B / granularity)")
        first = parse_datetime(intervals[0]["dtstart"])
        last = parse_datetime(intervals[-1]["dtstart"]) + timedelta(seconds=parse_duration(intervals[-1]["duration"]))
        windows.append((first, last))
    for (_, end), (start_next, _) in zip(windows, windows[1:], strict=False):
        if abs((start_next - end).total_seconds()) > WINDOW_SLACK_S:
            raise fail("EMAP-6.4.4-05", f"consecutive periodic reports cover [.., {end.isoformat()}] and "
                                        f"[{start_next.isoformat()}, ..]: the k-th covers [S+(k-1)B, S+kB]")
    check_report_content(trace, request)
    cancel = await link.deliver(B.cancel_report(link.peer.ids("xr"), link.ven_id, [rrid]))
    answered = expect_answer(trace, cancel, "EMAP-6.4.5-03", name="emapCanceledReport")
    if rrid in pending_of(answered):
        raise fail("EMAP-6.4.5-03", "with reportToFollow false the cancelled request is still pending")
    await link.observe(period + link.prompt)
    late = reports_for(trace, rrid, answered.exchange.request.seq if cancel.pull else
                       max(r.seq for r in answered.exchange.records))
    if late:
        raise fail("EMAP-6.4.4-01", f"a report for {rrid!r} after the cancel without reportToFollow")


@emap_test("TC-L-6.4.5-01", requirements=["EMAP-6.4.5-03", "EMAP-6.4.1-03"], applies=LOWER)
async def test_cancel_with_report_to_follow(link, trace):
    """A cancel with reportToFollow is answered 200 listing the request, then one final report within T_PROMPT."""
    await link.registered()
    specifier, r_id, low, high = lower_report(link, "METADATA_TELEMETRY_USAGE")
    granularity = min(max(low, QUIET_PERIOD_S / 10), high)
    request = B.report_request(link.peer.ids("rq"), specifier, [r_id], granularity=format_duration(granularity),
                               back_duration=format_duration(max(QUIET_PERIOD_S, granularity)))
    await request_reports(link, trace, request, requirement="EMAP-6.4.5-03")
    rrid = request["reportRequestID"]
    cancel = await link.deliver(B.cancel_report(link.peer.ids("xr"), link.ven_id, [rrid], report_to_follow=True))
    answer = expect_answer(trace, cancel, "EMAP-6.4.5-03", name="emapCanceledReport")
    if rrid not in pending_of(answer):
        raise fail("EMAP-6.4.1-03", "with reportToFollow true the request stays pending until its final report")
    await link.next_request("emapUpdateReport", link.prompt)
    await link.observe(link.prompt)
    sent = reports_for(trace, rrid)
    if len(sent) != 1:
        raise fail("EMAP-6.4.5-03", f"{len(sent)} reports after the cancel with reportToFollow, expected one final")
    delay = sent[0][0].request.t - created_at(answer)
    if delay > link.prompt:
        raise fail("EMAP-6.4.5-03", f"the final report came {delay:.2f} s after emapCanceledReport")


def _bad_requests(link, specifier: str, r_id: str) -> dict:
    """Report requests the reporter answers with 454 (EMAP-6.4.3-02), by case."""
    good = B.report_request(link.peer.ids("rq"), specifier, [r_id])
    wrong_reading = B.report_request(link.peer.ids("rq"), specifier, [r_id])
    wrong_reading["reportSpecifier"]["specifierPayload"][0]["readingType"] = "Direct Read"
    no_payload = B.report_request(link.peer.ids("rq"), specifier, [])
    twice = link.peer.ids("rq")
    return {
        "id-zero": [B.report_request("0", specifier, [r_id])],
        "id-repeated": [B.report_request(twice, specifier, [r_id]), B.report_request(twice, specifier, [r_id])],
        "reading-type": [wrong_reading],
        "no-specifier-payload": [no_payload],
        "id-reused": [good],
    }


@pytest.mark.parametrize("case", ["id-zero", "id-repeated", "id-reused", "reading-type", "no-specifier-payload"])
@emap_test("TC-L-6.4.3-03", requirements=["EMAP-6.4.3-02", "EMAP-6.4.3-05"], applies=LOWER)
async def test_malformed_report_request_454(link, trace, case):
    """A report request breaking a form rule of EMAP-6.4.3-02 gets 454 and creates nothing.

    Cases: reportRequestID "0", repeated or reused; readingType; specifierPayload missing."""
    await link.registered()
    specifier, r_id, _, _ = lower_report(link, "METADATA_TELEMETRY_STATUS")
    requests = _bad_requests(link, specifier, r_id)[case]
    if case == "id-reused":
        await request_reports(link, trace, *requests, requirement="EMAP-6.4.3-02")
        await link.next_request("emapUpdateReport", link.prompt)
    answer = await request_reports(link, trace, *requests, code="454", requirement="EMAP-6.4.3-02")
    await link.observe(link.prompt)
    late = [rq["reportRequestID"] for rq in requests
            if reports_for(trace, rq["reportRequestID"], answer.exchange.request.seq)]
    if late:
        raise fail("EMAP-6.4.3-05", f"reports sent for the rejected request(s) {late}")


@pytest.mark.parametrize("case", ["specifier", "rid"])
@emap_test("TC-L-6.4.3-04", requirements=["EMAP-6.4.3-03", "EMAP-6.1-09"], applies=LOWER)
async def test_unknown_specifier_or_rid_452(link, trace, case):
    """A report request naming an unknown reportSpecifierID or rID gets 452."""
    await link.registered()
    specifier, r_id, _, _ = lower_report(link, "METADATA_TELEMETRY_STATUS")
    if case == "specifier":
        request = B.report_request(link.peer.ids("rq"), specifier + "-unknown", [r_id])
    else:
        request = B.report_request(link.peer.ids("rq"), specifier, [r_id + "-unknown"])
    answer = await request_reports(link, trace, request, code="452", requirement="EMAP-6.4.3-03")
    if answer.message.body.get("venID") != link.ven_id:
        raise fail("EMAP-6.1-09", "the 452 emapCreatedReport does not carry the link's venID")


@pytest.mark.parametrize("case", ["granularity", "metadata-back-duration"])
@emap_test("TC-L-6.4.3-05", requirements=["EMAP-6.4.3-04"], applies=LOWER)
async def test_unservable_request_461(link, trace, case):
    """Granularity outside the sampling range, or a METADATA request with a back duration, gets 461."""
    await link.registered()
    specifier, r_id, _, high = lower_report(link, "METADATA_TELEMETRY_USAGE")
    if case == "granularity":
        request = B.report_request(link.peer.ids("rq"), specifier, [r_id], granularity=format_duration(high + 60),
                                   back_duration=format_duration(high + 60))
    else:
        request = B.report_request(link.peer.ids("rq"), "METADATA", back_duration="PT1H")
    await request_reports(link, trace, request, code="461", requirement="EMAP-6.4.3-04")


@emap_test("TC-L-6.4.3-06", requirements=["EMAP-6.4.3-05", "EMAP-6.1-09"], applies=LOWER)
async def test_create_report_all_or_nothing(link, trace):
    """One good and one unknown-specifier request in one message: 452, and no report for the good one."""
    await link.registered()
    specifier, r_id, _, _ = lower_report(link, "METADATA_TELEMETRY_STATUS")
    good = B.report_request(link.peer.ids("rq"), specifier, [r_id])
    bad = B.report_request(link.peer.ids("rq"), specifier + "-unknown", [r_id])
    answer = await request_reports(link, trace, good, bad, code="452")
    if good["reportRequestID"] in pending_of(answer):
        raise fail("EMAP-6.4.3-05", "the rejected message's good request is listed as pending")
    await link.observe(link.prompt)
    if reports_for(trace, good["reportRequestID"]):
        raise fail("EMAP-6.4.3-05", "a report was sent for a request of a rejected emapCreateReport")


@emap_test("TC-L-6.4.3-07", requirements=["EMAP-6.4.3-08", "EMAP-6.4.4-01"], applies=LOWER)
async def test_concurrent_requests_independent(link, trace):
    """Two one-shot requests for the same metadata in one message each get their own report."""
    await link.registered()
    specifier, r_id, _, _ = lower_report(link, "METADATA_TELEMETRY_USAGE")
    first = B.report_request(link.peer.ids("rq"), specifier, [r_id])
    second = B.report_request(link.peer.ids("rq"), specifier, [r_id])
    await request_reports(link, trace, first, second, requirement="EMAP-6.4.3-08")
    await link.next_request("emapUpdateReport", link.prompt)
    await link.observe(link.prompt)
    counts = {rq["reportRequestID"]: len(reports_for(trace, rq["reportRequestID"])) for rq in (first, second)}
    if set(counts.values()) != {1}:
        raise fail("EMAP-6.4.3-08", f"reports per request: {counts}; expected one for each")


@pytest.mark.parametrize("case", ["duplicate-specifier", "no-sampling-rate"])
@emap_test("TC-L-6.4.2-02", requirements=["EMAP-6.4.2-04"], applies=LOWER)
async def test_bad_upper_metadata_454(link, trace, case):
    """The IUT answers the peer's emapRegisterReport breaking EMAP-6.4.2-02 with 454."""
    await link.registered()
    usage = B.metadata_report("rs-peer-usage", "METADATA_TELEMETRY_USAGE", [B.report_description(
        "peer-power", "usage", "Direct Read", item_base=B.item_base("powerReal"), sampling=("PT1S", "PT1H", False))])
    if case == "duplicate-specifier":
        reports = [usage, dict(usage)]
    else:
        broken = dict(usage, emapReportDescription=[dict(usage["emapReportDescription"][0])])
        del broken["emapReportDescription"][0]["emapSamplingRate"]
        reports = [broken]
    sent = await link.deliver(B.register_report(link.peer.ids("rr"), link.ven_id, reports))
    expect_answer(trace, sent, "EMAP-6.4.2-04", name="emapRegisteredReport", code="454")


@emap_test("TC-L-6.4.2-03", requirements=["EMAP-6.4.2-06"], applies=LOWER)
async def test_metadata_answer_to_unknown_request_452(link, trace):
    """An emapRegisterReport whose reportRequestID names no METADATA request of the IUT gets 452."""
    await link.registered()
    sent = await link.deliver(B.register_report(link.peer.ids("rr"), link.ven_id, [],
                                                report_request_id=link.peer.ids("rq")))
    expect_answer(trace, sent, "EMAP-6.4.2-06", name="emapRegisteredReport", code="452")


@emap_test("TC-L-6.4.2-04", requirements=["EMAP-6.4.2-06", "EMAP-6.4.3-01", "EMAP-6.4.1-01", "EMAP-6.4.6-01"],
           applies=LOWER)
async def test_lower_requests_metadata(link, trace):
    """The IUT requests the peer's metadata (stimulus) and accepts the emapRegisterReport answering it with 200."""
    await link.registered()
    await link.act("request-report", {"reportSpecifierID": "METADATA"})
    inbound = await link.next_request("emapCreateReport", link.prompt)
    if inbound is None:
        raise fail("EMAP-6.4.3-01", "no emapCreateReport within T_PROMPT of the request-report stimulus")
    requests = inbound.message.body["emapReportRequest"]
    for request in requests:
        specifier = request["reportSpecifier"]
        if specifier["reportSpecifierID"] != "METADATA" or "specifierPayload" in specifier \
                or parse_duration(specifier["reportBackDuration"]) != 0 or request["reportRequestID"] == "0":
            raise fail("EMAP-6.4.3-01", f"the METADATA request {request} breaks the form of EMAP-6.4.3-02")
    await link.observe(link.poll_period + link.prompt)
    wanted = requests[0]["reportRequestID"]
    carriers = [(ex.request_payload, ex.request_message, False) for ex in trace.exchanges()
                if ex.direction == "to-iut"] + [(ex.response_payload, ex.response_message, True) for ex in polls(trace)]
    found = [(payload, message, pull) for payload, message, pull in carriers if message is not None
             and message.name == "emapRegisterReport" and message.body.get("reportRequestID") == wanted]
    if not found:
        raise RuntimeError("the peer did not answer the IUT's METADATA request")
    payload, message, pull = found[0]
    sent = Sent(payload, message.name, message.request_id, pull)
    expect_answer(trace, sent, "EMAP-6.4.2-06", name="emapRegisteredReport", code="200")
    check_messages_valid(trace, "EMAP-6.4.6-01", "Report")


@emap_test("TC-L-6.4.4-01", requirements=["EMAP-6.4.4-04"], applies=LOWER)
async def test_report_for_unknown_request_452(link, trace):
    """The IUT answers a report for a request it never made with emapUpdatedReport 452."""
    await link.registered()
    interval = B.data_interval(utc_now(), "PT0S",
                               [B.report_payload("peer-power", value=1.0)])
    report = B.data_report(link.peer.ids("rq"), "rs-peer-usage", "TELEMETRY_USAGE", [interval])
    sent = await link.deliver(B.update_report(link.peer.ids("ur"), link.ven_id, [report]))
    expect_answer(trace, sent, "EMAP-6.4.4-04", name="emapUpdatedReport", code="452")


@emap_test("TC-L-6.4.5-02", requirements=["EMAP-6.4.5-02"], applies=LOWER)
async def test_cancel_unknown_request_452(link, trace):
    """The IUT answers a cancel of a request that is not active with emapCanceledReport 452."""
    await link.registered()
    sent = await link.deliver(B.cancel_report(link.peer.ids("xr"), link.ven_id, [link.peer.ids("rq")]))
    expect_answer(trace, sent, "EMAP-6.4.5-02", name="emapCanceledReport", code="452")


@emap_test("TC-L-6.4.2-05", requirements=["EMAP-6.4.2-05"], applies=LOWER)
async def test_withdrawn_metadata_ends_requests(link, trace, profile):
    """After the IUT re-registers metadata without the reported item, it sends no more reports for it."""
    await link.registered()
    specifier, r_id, low, high = lower_report(link, "METADATA_TELEMETRY_USAGE")
    granularity = max(low, 1.0)
    if granularity > high or 2 * granularity > PERIOD_LIMIT_S:
        raise Inconclusive("the IUT's sampling range allows no period this test waits for")
    request = B.report_request(link.peer.ids("rq"), specifier, [r_id], granularity=format_duration(granularity),
                               back_duration=format_duration(2 * granularity))
    await request_reports(link, trace, request, requirement="EMAP-6.4.2-05")
    try:
        await link.act("register-report", {"reports": []})
        if await link.next_request("emapRegisterReport", link.prompt) is None:
            raise Inconclusive("the IUT sent no emapRegisterReport on the register-report stimulus")
        withdrawn = iut_requests(trace, "emapRegisterReport")[-1]
        if any(r["reportSpecifierID"] == specifier for r in withdrawn.request_message.body["emapReport"]):
            raise Inconclusive("the IUT's new metadata still offers the requested report")
        await link.observe(2 * granularity + link.prompt)
        late = reports_for(trace, request["reportRequestID"], max(r.seq for r in withdrawn.records))
        if late:
            raise fail("EMAP-6.4.2-05", "reports for a request whose metadata was withdrawn")
    finally:
        await link.act("register-report", {"reports": list(profile.pics["metadata_reports"])})
        await link.next_request("emapRegisterReport", link.prompt)
