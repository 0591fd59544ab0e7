"""Clause 6.4 Report service, upper-EMA IUT: U as reporter (metadata, requests, reports, cancels) and as
requester (checks of L's metadata and reports)."""

from __future__ import annotations

import copy

from conformance.messages import build as B
from conformance.messages.rules import data_report_rules, metadata_rules
from conformance.messages.timefmt import format_duration, parse_datetime, parse_duration, utc_now
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    U_REPORTER,
    UPPER_ROLES,
    act,
    answer_of,
    check_conformance,
    exchange_of,
    expect_answer,
    fail,
    flip_case,
    generated_at,
    lower_status_request,
    messages_to,
    rule_violations,
    sent_by_iut,
    upper_metadata,
)
from conformance.verdict import Inconclusive

UPDATE = "emapUpdateReport"
PERIOD_S = 2.0


def _offered(trace, peer, prefix: str) -> tuple[str, list[str], dict]:
    """(reportSpecifierID, rIDs, emapSamplingRate) of U's first metadata report whose name starts with
    ``prefix``; Inconclusive when U offers none (ICS-8)."""
    for report in upper_metadata(trace, peer.ven_id):
        if report.get("reportName", "").startswith(prefix):
            descriptions = report["emapReportDescription"]
            return (report["reportSpecifierID"], [d["rID"] for d in descriptions],
                    descriptions[0].get("emapSamplingRate", {}))
    raise Inconclusive(f"the IUT offers no {prefix}* metadata report (ICS-8)")


def _periodic_granularity(rate: dict) -> float:
    """A granularity inside the sampling range that divides the test's reporting period, else Inconclusive."""
    low = parse_duration(rate.get("emapMinPeriod", "PT0S"))
    high = parse_duration(rate.get("emapMaxPeriod", "PT0S"))
    for candidate in (PERIOD_S / 2, PERIOD_S):
        if low <= candidate <= high:
            return candidate
    raise Inconclusive(f"no granularity dividing {PERIOD_S:g} s lies in the sampling range {rate}")


async def _request(peer, trace, requirement: str, *requests, code: str | None = "200"):
    """POST an emapCreateReport with ``requests`` and judge the answer's type and code; returns the answer."""
    return expect_answer(trace, await peer.create_report(list(requests)), requirement, name="emapCreatedReport",
                         code=code)


def _pending(message) -> set[str]:
    return set(message.body.get("emapPendingReports", {}).get("reportRequestID", []))


def _reports_for(trace, peer, report_request_id: str) -> list:
    """``(record, report)`` of every data report U sent ``peer`` for ``report_request_id``."""
    return [(record, report) for record, message in messages_to(trace, peer, UPDATE)
            for report in message.body["emapReport"] if report["reportRequestID"] == report_request_id]


async def _await_reports(peer, trace, report_request_id: str, count: int, timeout: float) -> list:
    """Receive U's reports until ``count`` arrived for the request or ``timeout`` passed."""
    deadline = trace.elapsed() + timeout
    while len(_reports_for(trace, peer, report_request_id)) < count:
        remaining = deadline - trace.elapsed()
        if remaining <= 0 or await peer.receive(UPDATE, timeout=remaining) is None:
            break
    return _reports_for(trace, peer, report_request_id)


def _created_at(trace, peer, report_request_id: str):
    """The record of U's emapCreatedReport answering the request that created ``report_request_id``."""
    for exchange in reversed(trace.exchanges()):
        request = exchange.request_message
        if request is not None and request.name == "emapCreateReport" and report_request_id in {
                r["reportRequestID"] for r in request.body["emapReportRequest"]} and exchange.response is not None:
            return exchange.response
    raise RuntimeError(f"no emapCreatedReport for {report_request_id} in the trace")


@emap_test("TC-U-6.4.1-01", requirements=["EMAP-6.4.1-02", "EMAP-6.4.1-03"], applies=U_REPORTER)
async def test_pending_reports(lower, trace):
    """emapPendingReports lists exactly L's requests active at U: new ones are listed, a one-shot request whose
    report was sent is not, a cancelled one is not."""
    peer = await lower(pull=False)
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    granularity = _periodic_granularity(rate)
    periodic, one_shot, later = peer.ids("rq"), peer.ids("rq"), peer.ids("rq")
    created = await _request(peer, trace, "EMAP-6.4.1-03",
                             B.report_request(periodic, spec, r_ids[:1], granularity=granularity,
                                              back_duration=PERIOD_S),
                             B.report_request(one_shot, spec, r_ids[:1]))
    if _pending(created) != {periodic, one_shot}:
        raise fail("EMAP-6.4.1-03", f"emapPendingReports lists {sorted(_pending(created))}; the active requests "
                                    f"are {sorted({periodic, one_shot})}")
    if not await _await_reports(peer, trace, one_shot, 1, peer.prompt):
        raise Inconclusive("the one-shot report did not arrive; cannot judge its end")
    created = await _request(peer, trace, "EMAP-6.4.1-02", B.report_request(later, spec, r_ids[:1],
                                                                             granularity=granularity,
                                                                             back_duration=PERIOD_S))
    if _pending(created) != {periodic, later}:
        raise fail("EMAP-6.4.1-02", f"after the one-shot report was sent, emapPendingReports lists "
                                    f"{sorted(_pending(created))}; the active requests are {sorted({periodic, later})}")
    canceled = answer_of(trace, await peer.cancel_report([periodic]), "EMAP-6.4.1-03")
    if _pending(canceled) != {later}:
        raise fail("EMAP-6.4.1-03", f"emapCanceledReport lists {sorted(_pending(canceled))}; the active request "
                                    f"is {later!r}")
    await peer.cancel_report([later])


@emap_test("TC-U-6.4.2-01", requirements=["EMAP-6.4.2-02"], applies=UPPER_ROLES)
async def test_upper_metadata(lower, trace):
    """U's metadata: unique reportSpecifierIDs and rIDs, Table 6.4-1 names and descriptions, sampling rates of
    telemetry reports."""
    await lower(pull=True, name="pull")
    await lower(pull=False, name="push")
    registers = sent_by_iut(trace, "emapRegisterReport")
    if not registers:
        raise fail("EMAP-6.4.2-02", "U sent no emapRegisterReport after two registrations")
    for _, message in registers:
        found = rule_violations(metadata_rules(message.body, "U"), "EMAP-6.4.2-02")
        if found:
            raise fail("EMAP-6.4.2-02", f"emapRegisterReport {message.request_id!r} at {found[0].pointer}: "
                                        f"{found[0].text}")


@emap_test("TC-U-6.4.2-02", requirements=["EMAP-6.4.2-04"], applies=UPPER_ROLES)
async def test_bad_lower_metadata_454(lower, trace):
    """L metadata breaking EMAP-6.4.2-02 (repeated specifier or rID, wrong reportName, missing or inverted
    sampling rate) or EMAP-6.4.2-03 (no usage report) is answered 454."""
    peer = await lower()

    def variant(change):
        reports = copy.deepcopy(peer.metadata)
        change(reports)
        return reports

    def repeat_specifier(r): r[1]["reportSpecifierID"] = r[0]["reportSpecifierID"]
    def repeat_rid(r): r[1]["emapReportDescription"].append(copy.deepcopy(r[1]["emapReportDescription"][0]))
    def data_name(r): r[0]["reportName"] = "TELEMETRY_STATUS"
    def no_rate(r): r[1]["emapReportDescription"][0].pop("emapSamplingRate")
    def inverted(r): r[1]["emapReportDescription"][0]["emapSamplingRate"].update(emapMinPeriod="PT2H")
    def status_only(r): r.pop(1)

    for change in (repeat_specifier, repeat_rid, data_name, no_rate, inverted, status_only):
        expect_answer(trace, await peer.register_report(variant(change)), "EMAP-6.4.2-04",
                      name="emapRegisteredReport", code="454")


@emap_test("TC-U-6.4.2-03", requirements=["EMAP-6.4.2-05", "EMAP-6.4.4-04"], applies=UPPER_ROLES)
async def test_new_metadata_ends_requests(lower, trace, stimulus):
    """New L metadata without the specifier U requested ends that request: L's report for it is answered 452."""
    peer = await lower(pull=False)
    if answer_of(trace, await peer.register_report(), "EMAP-6.4.2-05").response_code != "200":
        raise Inconclusive("precondition: the lower EMA's metadata was not accepted")
    old_status = peer.metadata[0]
    await act(stimulus, "request-report", lower_status_request(peer))
    request = await peer.receive("emapCreateReport", timeout=peer.prompt)
    if request is None:
        raise Inconclusive("no emapCreateReport reached the lower EMA after the accepted request-report")
    renamed = copy.deepcopy(peer.metadata)
    renamed[0]["reportSpecifierID"] = peer.ids("rs-status-new")
    if answer_of(trace, await peer.register_report(renamed), "EMAP-6.4.2-05").response_code != "200":
        raise Inconclusive("the replacement metadata was not accepted")
    report_request_id = request.body["emapReportRequest"][0]["reportRequestID"]
    report = B.data_report(report_request_id, old_status["reportSpecifierID"], "TELEMETRY_STATUS",
                           [B.data_interval(utc_now(), "PT0S",
                                            [B.report_payload(old_status["emapReportDescription"][0]["rID"])])])
    expect_answer(trace, await peer.update_report([report]), "EMAP-6.4.2-05", name="emapUpdatedReport",
                  code="452")


@emap_test("TC-U-6.4.2-04", requirements=["EMAP-6.4.2-06"], applies=UPPER_ROLES)
async def test_metadata_request(lower, trace):
    """A METADATA request of L is answered by U's emapRegisterReport carrying its reportRequestID; L metadata
    naming an unknown reportRequestID gets 452."""
    peer = await lower(pull=False)
    report_request_id = peer.ids("rq-meta")
    await _request(peer, trace, "EMAP-6.4.2-06", B.report_request(report_request_id, "METADATA"))
    answer = await peer.receive("emapRegisterReport", timeout=2 * peer.prompt)
    if answer is None:
        raise Inconclusive(f"no emapRegisterReport followed the METADATA request {report_request_id!r}")
    if answer.body.get("reportRequestID") != report_request_id:
        raise fail("EMAP-6.4.2-06", f"the emapRegisterReport answering METADATA request {report_request_id!r} "
                                    f"carries reportRequestID {answer.body.get('reportRequestID')!r}")
    expect_answer(trace, await peer.register_report(report_request_id=peer.ids("rq-unknown")), "EMAP-6.4.2-06",
                  name="emapRegisteredReport", code="452")


@emap_test("TC-U-6.4.3-01", requirements=["EMAP-6.4.3-02"], applies=U_REPORTER)
async def test_report_request_454(lower, trace):
    """reportRequestID "0", repeated or reused, missing or extra specifierPayload, a readingType other than
    x-notApplicable, and zero-only constraints of HISTORY reports are answered 454."""
    peer = await lower()
    spec, r_ids, _ = _offered(trace, peer, "METADATA_TELEMETRY_")
    used = peer.ids("rq")
    await _request(peer, trace, "EMAP-6.4.3-02", B.report_request(used, spec, r_ids[:1]))
    twice = peer.ids("rq")
    metadata_with_payload = B.report_request(peer.ids("rq"), "METADATA")
    metadata_with_payload["reportSpecifier"]["specifierPayload"] = [{"rID": r_ids[0],
                                                                     "readingType": "x-notApplicable"}]
    wrong_reading = B.report_request(peer.ids("rq"), spec, r_ids[:1])
    wrong_reading["reportSpecifier"]["specifierPayload"][0]["readingType"] = "Direct Read"
    cases = [[B.report_request("0", spec, r_ids[:1])],
             [B.report_request(twice, spec, r_ids[:1]), B.report_request(twice, spec, r_ids[:1])],
             [B.report_request(used, spec, r_ids[:1])],
             [B.report_request(peer.ids("rq"), spec)],
             [metadata_with_payload], [wrong_reading]]
    try:
        history, history_ids, _ = _offered(trace, peer, "METADATA_HISTORY_")
        cases.append([B.report_request(peer.ids("rq"), history, history_ids[:1], granularity="PT1S")])
    except Inconclusive:
        pass
    for requests in cases:
        await _request(peer, trace, "EMAP-6.4.3-02", *requests, code="454")


@emap_test("TC-U-6.4.3-02", requirements=["EMAP-6.4.3-03"], applies=UPPER_ROLES)
async def test_report_request_452(lower, trace):
    """An unknown or case-flipped reportSpecifierID, and an rID not in the named report, are answered 452."""
    peer = await lower()
    cases = [(peer.ids("rs-unknown"), [peer.ids("r")])]
    offered = upper_metadata(trace, peer.ven_id)
    if offered:
        spec = offered[0]["reportSpecifierID"]
        r_id = offered[0]["emapReportDescription"][0]["rID"]
        cases += [(flip_case(spec), [r_id]), (spec, [peer.ids("r-unknown")]), (spec, [flip_case(r_id)])]
    for specifier, rids in cases:
        await _request(peer, trace, "EMAP-6.4.3-03", B.report_request(peer.ids("rq"), specifier, rids), code="452")


@emap_test("TC-U-6.4.3-03", requirements=["EMAP-6.4.3-04"], applies=U_REPORTER)
async def test_report_request_461(lower, trace):
    """A granularity outside the sampling range, and a periodic METADATA request, are answered 461."""
    peer = await lower()
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    high = parse_duration(rate.get("emapMaxPeriod", "PT0S"))
    if not high:
        raise Inconclusive(f"the telemetry metadata {spec!r} declares no sampling range")
    await _request(peer, trace, "EMAP-6.4.3-04",
                   B.report_request(peer.ids("rq"), spec, r_ids[:1], granularity=format_duration(high * 2),
                                    back_duration=format_duration(high * 4)), code="461")
    await _request(peer, trace, "EMAP-6.4.3-04",
                   B.report_request(peer.ids("rq"), "METADATA", back_duration="PT10S"), code="461")


@emap_test("TC-U-6.4.3-04", requirements=["EMAP-6.4.3-05"], applies=U_REPORTER)
async def test_report_requests_all_or_nothing(lower, trace):
    """A create-report with a good and a bad request creates nothing; the code follows 452, 454, 461 over all
    requests of the message."""
    peer = await lower(pull=False)
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    high = parse_duration(rate.get("emapMaxPeriod", "PT1H"))
    good = peer.ids("rq-good")
    bad_452 = B.report_request(peer.ids("rq"), peer.ids("rs-unknown"), r_ids[:1])
    bad_454 = B.report_request("0", spec, r_ids[:1])
    bad_461 = B.report_request(peer.ids("rq"), spec, r_ids[:1], granularity=format_duration(high * 2),
                               back_duration=format_duration(high * 4))
    await _request(peer, trace, "EMAP-6.4.3-05", B.report_request(good, spec, r_ids[:1]), bad_452, code="452")
    await _request(peer, trace, "EMAP-6.4.3-05", bad_461, bad_454, code="454")
    await _request(peer, trace, "EMAP-6.4.3-05", bad_461, bad_452, code="452")
    created = await _request(peer, trace, "EMAP-6.4.3-05", B.report_request(peer.ids("rq"), spec, r_ids[:1]))
    if good in _pending(created) or _reports_for(trace, peer, good):
        raise fail("EMAP-6.4.3-05", f"request {good!r} of a rejected emapCreateReport was created")


@emap_test("TC-U-6.4.3-05", requirements=["EMAP-6.4.3-06"], applies=U_REPORTER)
async def test_one_shot_report(lower, trace):
    """A one-shot request gets exactly one report within T_PROMPT of the emapCreatedReport, then ends."""
    peer = await lower(pull=False)
    spec, r_ids, _ = _offered(trace, peer, "METADATA_TELEMETRY_")
    one_shot = peer.ids("rq")
    await _request(peer, trace, "EMAP-6.4.3-06", B.report_request(one_shot, spec, r_ids[:1]))
    created = _created_at(trace, peer, one_shot)
    reports = await _await_reports(peer, trace, one_shot, 2, 2 * peer.prompt)
    if not reports or reports[0][0].t - created.t > peer.prompt:
        raise fail("EMAP-6.4.3-06", f"no report for one-shot request {one_shot!r} within {peer.prompt:.1f} s")
    if len(reports) > 1:
        raise fail("EMAP-6.4.3-06", f"one-shot request {one_shot!r} got {len(reports)} reports")


@emap_test("TC-U-6.4.3-06", requirements=["EMAP-6.4.3-07"], applies=U_REPORTER)
async def test_periodic_reports(lower, trace):
    """A periodic request gets its k-th report between S + k*B and S + k*B + T_PROMPT."""
    peer = await lower(pull=False)
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    periodic = peer.ids("rq")
    await _request(peer, trace, "EMAP-6.4.3-07", B.report_request(periodic, spec, r_ids[:1],
                                                                   granularity=_periodic_granularity(rate),
                                                                   back_duration=PERIOD_S))
    start = _created_at(trace, peer, periodic).t
    reports = await _await_reports(peer, trace, periodic, 2, 2 * PERIOD_S + peer.prompt)
    await peer.cancel_report([periodic])
    tolerance = peer.timing.tolerance_s
    for k in (1, 2):
        due = start + k * PERIOD_S
        if len(reports) < k:
            raise fail("EMAP-6.4.3-07", f"report {k} of periodic request {periodic!r} did not arrive by "
                                        f"{due + peer.prompt - start:.1f} s after the emapCreatedReport")
        at = reports[k - 1][0].t
        if not due - tolerance <= at <= due + peer.prompt:
            raise fail("EMAP-6.4.3-07", f"report {k} arrived {at - start:.2f} s after the emapCreatedReport; "
                                        f"due between {k * PERIOD_S:g} s and {k * PERIOD_S + peer.prompt:g} s")


@emap_test("TC-U-6.4.3-07", requirements=["EMAP-6.4.3-08"], applies=U_REPORTER)
async def test_concurrent_requests(lower, trace):
    """Two concurrent one-shot requests for the same metadata are each served with their own report."""
    peer = await lower(pull=False)
    spec, r_ids, _ = _offered(trace, peer, "METADATA_TELEMETRY_")
    first, second = peer.ids("rq"), peer.ids("rq")
    await _request(peer, trace, "EMAP-6.4.3-08", B.report_request(first, spec, r_ids[:1]))
    await _request(peer, trace, "EMAP-6.4.3-08", B.report_request(second, spec, r_ids[:1]))
    for report_request_id in (first, second):
        if not await _await_reports(peer, trace, report_request_id, 1, 2 * peer.prompt):
            raise fail("EMAP-6.4.3-08", f"request {report_request_id!r} got no report while another request for "
                                        "the same metadata was served")


@emap_test("TC-U-6.4.4-01", requirements=["EMAP-6.4.4-01"], applies=U_REPORTER)
async def test_no_report_after_cancel(lower, trace):
    """After a periodic request is cancelled (no final report) U sends no report for it."""
    peer = await lower(pull=False)
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    periodic = peer.ids("rq")
    await _request(peer, trace, "EMAP-6.4.4-01", B.report_request(periodic, spec, r_ids[:1],
                                                                   granularity=_periodic_granularity(rate),
                                                                   back_duration=PERIOD_S))
    await _await_reports(peer, trace, periodic, 1, PERIOD_S + peer.prompt)
    expect_answer(trace, await peer.cancel_report([periodic]), "EMAP-6.4.4-01", name="emapCanceledReport")
    cancelled_at = trace.elapsed()
    await _await_reports(peer, trace, periodic, 99, PERIOD_S + peer.prompt)
    late = [record for record, _ in _reports_for(trace, peer, periodic) if record.t > cancelled_at]
    if late:
        raise fail("EMAP-6.4.4-01", f"U sent a report for cancelled request {periodic!r} "
                                    f"{late[0].t - cancelled_at:.2f} s after the emapCanceledReport")


async def _reported(lower, trace, requirement: str) -> tuple:
    """A push-mode lower EMA with one one-shot and one periodic request served by U (two periodic reports)."""
    peer = await lower(pull=False)
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    one_shot, periodic = peer.ids("rq"), peer.ids("rq")
    requests = [B.report_request(one_shot, spec, r_ids),
                B.report_request(periodic, spec, r_ids, granularity=_periodic_granularity(rate),
                                 back_duration=PERIOD_S)]
    created = answer_of(trace, await peer.create_report(requests), requirement)
    if created.response_code != "200":
        raise Inconclusive(f"the report requests were refused with {created.response_code}")
    await _await_reports(peer, trace, one_shot, 1, peer.prompt)
    await _await_reports(peer, trace, periodic, 2, 2 * PERIOD_S + peer.prompt)
    await peer.cancel_report([periodic])
    return peer, {r["reportRequestID"]: r for r in requests}, one_shot, periodic


@emap_test("TC-U-6.4.4-02", requirements=["EMAP-6.4.4-02", "EMAP-6.4.4-03"], applies=U_REPORTER)
async def test_data_report_content(lower, trace):
    """Data reports carry the request's IDs, the metadata reportName without METADATA_, ordered intervals, a
    payload for every rID, in the payload member of the report kind."""
    peer, requests, _, _ = await _reported(lower, trace, "EMAP-6.4.4-02")
    messages = messages_to(trace, peer, UPDATE)
    if not messages:
        raise Inconclusive("U sent no report")
    for requirement in ("EMAP-6.4.4-02", "EMAP-6.4.4-03"):
        for _, message in messages:
            found = rule_violations(data_report_rules(message.body, requests), requirement)
            if found:
                raise fail(requirement, f"emapUpdateReport {message.request_id!r} at {found[0].pointer}: "
                                        f"{found[0].text}")


@emap_test("TC-U-6.4.4-04", requirements=["EMAP-6.4.4-05"], applies=U_REPORTER)
async def test_report_intervals(lower, trace):
    """One-shot report: one sample ending at generation; k-th periodic report: B/granularity intervals of
    length granularity ending at S + k*B."""
    peer, requests, one_shot, periodic = await _reported(lower, trace, "EMAP-6.4.4-05")
    tolerance = peer.timing.tolerance_s
    for record, report in _reports_for(trace, peer, one_shot)[:1]:
        intervals = report["intervals"]["interval"]
        end = parse_datetime(intervals[-1]["dtstart"]).timestamp() + parse_duration(intervals[-1]["duration"])
        if len(intervals) != 1 or abs(end - generated_at(record).timestamp()) > tolerance:
            raise fail("EMAP-6.4.4-05", f"one-shot report has {len(intervals)} intervals ending "
                                        f"{end - generated_at(record).timestamp():+.2f} s from its generation")
    specifier = requests[periodic]["reportSpecifier"]
    granularity = parse_duration(specifier["granularity"])
    start = generated_at(_created_at(trace, peer, periodic)).timestamp()
    for k, (_, report) in enumerate(_reports_for(trace, peer, periodic)[:2], start=1):
        intervals = report["intervals"]["interval"]
        expected = max(1, round(PERIOD_S / granularity))
        end = parse_datetime(intervals[-1]["dtstart"]).timestamp() + parse_duration(intervals[-1]["duration"])
        if len(intervals) != expected or abs(end - (start + k * PERIOD_S)) > tolerance:
            raise fail("EMAP-6.4.4-05", f"periodic report {k} has {len(intervals)} intervals (expected {expected}) "
                                        f"ending {end - start:.2f} s after S (expected {k * PERIOD_S:g} s)")


@emap_test("TC-U-6.4.4-03", requirements=["EMAP-6.4.4-04"], applies=UPPER_ROLES)
async def test_requester_checks_reports(lower, trace, stimulus):
    """As requester U answers L's report naming an unknown request, a wrong specifier or an rID outside the
    request with 452, and a matching report with 200."""
    peer = await lower(pull=False)
    if answer_of(trace, await peer.register_report(), "EMAP-6.4.4-04").response_code != "200":
        raise Inconclusive("precondition: the lower EMA's metadata was not accepted")
    await act(stimulus, "request-report", lower_status_request(peer))
    request = await peer.receive("emapCreateReport", timeout=peer.prompt)
    if request is None:
        raise Inconclusive("no emapCreateReport reached the lower EMA after the accepted request-report")
    asked = request.body["emapReportRequest"][0]
    report_request_id = asked["reportRequestID"]
    specifier = asked["reportSpecifier"]["reportSpecifierID"]
    r_id = asked["reportSpecifier"]["specifierPayload"][0]["rID"]

    def report(rrid, spec, rid):
        return B.data_report(rrid, spec, "TELEMETRY_STATUS",
                             [B.data_interval(utc_now(), "PT0S", [B.report_payload(rid)])])

    for bad in (report(peer.ids("rq-unknown"), specifier, r_id), report(report_request_id, peer.ids("rs"), r_id),
                report(report_request_id, specifier, peer.ids("r-other"))):
        expect_answer(trace, await peer.update_report([bad]), "EMAP-6.4.4-04", name="emapUpdatedReport",
                      code="452")
    expect_answer(trace, await peer.update_report([report(report_request_id, specifier, r_id)]), "EMAP-6.4.4-04",
                  name="emapUpdatedReport", code="200")


@emap_test("TC-U-6.4.5-01", requirements=["EMAP-6.4.5-02"], applies=UPPER_ROLES)
async def test_cancel_unknown_request_452(lower, trace):
    """A cancel naming a request that is not active is answered 452 and cancels none of the named requests."""
    peer = await lower(pull=False)
    expect_answer(trace, await peer.cancel_report([peer.ids("rq-unknown")]), "EMAP-6.4.5-02",
                  name="emapCanceledReport", code="452")
    if not any(r.get("reportName", "").startswith("METADATA_TELEMETRY_") for r in upper_metadata(trace, peer.ven_id)):
        return  # U serves no requests (ICS-8): the unknown-ID case is all there is to check
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    periodic = peer.ids("rq")
    await _request(peer, trace, "EMAP-6.4.5-02", B.report_request(periodic, spec, r_ids[:1],
                                                                   granularity=_periodic_granularity(rate),
                                                                   back_duration=PERIOD_S))
    for names in ([periodic, peer.ids("rq-unknown")], [flip_case(periodic)]):
        expect_answer(trace, await peer.cancel_report(names), "EMAP-6.4.5-02", name="emapCanceledReport",
                      code="452")
    canceled = expect_answer(trace, await peer.cancel_report([periodic]), "EMAP-6.4.5-02",
                             name="emapCanceledReport", code=None)
    if canceled.response_code != "200":
        raise fail("EMAP-6.4.5-02", f"after cancels answered 452, cancelling {periodic!r} got "
                                    f"{canceled.response_code}: the request was cancelled by a rejected cancel")


@emap_test("TC-U-6.4.5-02", requirements=["EMAP-6.4.5-03"], applies=U_REPORTER)
async def test_cancel_report(lower, trace):
    """A cancel is answered 200: without reportToFollow the request leaves emapPendingReports at once; with it
    the request stays listed and its final report comes within T_PROMPT."""
    peer = await lower(pull=False)
    spec, r_ids, rate = _offered(trace, peer, "METADATA_TELEMETRY_")
    granularity = _periodic_granularity(rate)
    quiet, follow = peer.ids("rq"), peer.ids("rq")
    for rrid in (quiet, follow):
        await _request(peer, trace, "EMAP-6.4.5-03", B.report_request(rrid, spec, r_ids[:1],
                                                                       granularity=granularity,
                                                                       back_duration=3600))
    canceled = expect_answer(trace, await peer.cancel_report([quiet]), "EMAP-6.4.5-03", name="emapCanceledReport")
    if _pending(canceled) != {follow}:
        raise fail("EMAP-6.4.5-03", f"after cancelling {quiet!r} without reportToFollow, emapPendingReports lists "
                                    f"{sorted(_pending(canceled))}")
    before = trace.elapsed()
    posted = await peer.cancel_report([follow], report_to_follow=True)
    canceled = expect_answer(trace, posted, "EMAP-6.4.5-03", name="emapCanceledReport")
    if follow not in _pending(canceled):
        raise fail("EMAP-6.4.5-03", f"with reportToFollow, {follow!r} must stay in emapPendingReports until its "
                                    f"final report; listed: {sorted(_pending(canceled))}")
    answered = exchange_of(trace, posted).response.t
    final = [r for r, _ in await _await_reports(peer, trace, follow, 1, peer.prompt) if r.t >= before]
    if not final or final[0].t - answered > peer.prompt:
        raise fail("EMAP-6.4.5-03", f"no final report for {follow!r} within {peer.prompt:.1f} s of the "
                                    "emapCanceledReport")


@emap_test("TC-U-6.4.6-01", requirements=["EMAP-6.4.6-01"], applies=U_REPORTER)
async def test_report_messages_conform(lower, trace):
    """Every Report-service message U sends (metadata, answers, reports, errors) conforms to its schema."""
    peer, _, _, _ = await _reported(lower, trace, "EMAP-6.4.6-01")
    await peer.create_report([B.report_request(peer.ids("rq"), peer.ids("rs-unknown"), ["r"])])
    await peer.cancel_report([peer.ids("rq-unknown")])
    await peer.register_report()
    check_conformance(trace, "EMAP-6.4.6-01", "Report")


async def _u_request(peer, trace, stimulus, requirement: str):
    """Registered L metadata and U's emapCreateReport for L's status report (by stimulus); returns it."""
    if answer_of(trace, await peer.register_report(), requirement).response_code != "200":
        raise Inconclusive("precondition: the lower EMA's metadata was not accepted")
    await act(stimulus, "request-report", lower_status_request(peer))
    request = await peer.receive("emapCreateReport", timeout=peer.prompt)
    if request is None:
        raise Inconclusive("no emapCreateReport reached the lower EMA after the accepted request-report")
    return request


@emap_test("TC-U-6.4.3-08", requirements=["EMAP-6.4.3-01", "EMAP-6.4.1-01"], applies=UPPER_ROLES)
async def test_upper_requests_from_lower_metadata(lower, trace, stimulus):
    """As requester U asks only for reports L's registered metadata describes (or METADATA), with new
    reportRequestIDs other than "0"."""
    peer = await lower(pull=True)
    request = await _u_request(peer, trace, stimulus, "EMAP-6.4.3-01")
    offered = {m["reportSpecifierID"]: {d["rID"] for d in m["emapReportDescription"]} for m in peer.metadata}
    for item in request.body["emapReportRequest"]:
        specifier = item["reportSpecifier"]
        spec_id = specifier["reportSpecifierID"]
        r_ids = {p["rID"] for p in specifier.get("specifierPayload", [])}
        if item["reportRequestID"] == "0" or (spec_id != "METADATA" and not r_ids <= offered.get(spec_id, set())):
            raise fail("EMAP-6.4.3-01", f"U's request {item['reportRequestID']!r} names {spec_id!r}/"
                                        f"{sorted(r_ids)}, not in L's metadata {offered}")


@emap_test("TC-U-6.4.2-05", requirements=["EMAP-6.4.2-01", "EMAP-6.4.2-05", "EMAP-6.4.3-03"], applies=U_REPORTER)
async def test_upper_metadata_replaced(lower, trace, stimulus):
    """When U registers new metadata, it replaces the old at U: a request for a report U no longer offers is
    answered 452."""
    peer = await lower(pull=False)
    usage, r_ids, _ = _offered(trace, peer, "METADATA_TELEMETRY_USAGE")
    await act(stimulus, "register-report", {"venID": peer.ven_id, "reports": ["METADATA_TELEMETRY_STATUS"]})
    item = await peer.next_request("emapRegisterReport", timeout=peer.prompt)
    if item is None:
        raise fail("EMAP-6.4.2-01", "no emapRegisterReport reached the lower EMA after the accepted register-report")
    await peer.answered(item)
    names = [r["reportName"] for r in item.message.body["emapReport"]]
    if "METADATA_TELEMETRY_USAGE" in names:
        raise Inconclusive(f"the new metadata still offers a usage report ({names})")
    await _request(peer, trace, "EMAP-6.4.2-05", B.report_request(peer.ids("rq"), usage, r_ids[:1]), code="452")


@emap_test("TC-U-6.4.5-03", requirements=["EMAP-6.4.5-01", "EMAP-6.4.4-04"], applies=UPPER_ROLES)
async def test_upper_cancels_its_request(lower, trace, stimulus):
    """U's emapCancelReport names its active request; afterwards L's report for it is answered 452."""
    peer = await lower(pull=True)
    request = await _u_request(peer, trace, stimulus, "EMAP-6.4.5-01")
    asked = request.body["emapReportRequest"][0]
    await act(stimulus, "cancel-report", {"venID": peer.ven_id, "reportRequestID": asked["reportRequestID"]})
    cancel = await peer.receive("emapCancelReport", timeout=peer.prompt)
    if cancel is None:
        raise Inconclusive("no emapCancelReport reached the lower EMA after the accepted cancel-report")
    if cancel.body["reportRequestID"] != [asked["reportRequestID"]]:
        raise fail("EMAP-6.4.5-01", f"U's cancel names {cancel.body['reportRequestID']}, its request was "
                                    f"{asked['reportRequestID']!r}")
    specifier = asked["reportSpecifier"]
    report = B.data_report(asked["reportRequestID"], specifier["reportSpecifierID"], "TELEMETRY_STATUS",
                           [B.data_interval(utc_now(), "PT0S",
                                            [B.report_payload(specifier["specifierPayload"][0]["rID"])])])
    expect_answer(trace, await peer.update_report([report]), "EMAP-6.4.5-01", name="emapUpdatedReport",
                  code="452")
