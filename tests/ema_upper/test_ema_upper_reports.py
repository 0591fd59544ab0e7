"""Sample upper EMA as reporter and requester (6.4)."""

from __future__ import annotations

import asyncio
import time

from ema_upper_peer import code_of

from conformance.messages import build, rules, timefmt

STATUS_METADATA = build.metadata_report(
    "rs-status",
    "METADATA_TELEMETRY_STATUS",
    [
        build.report_description(
            "st-1", "x-resourceStatus", "x-notApplicable", sampling=("PT1S", "PT1M", False)
        )
    ],
)
USAGE_METADATA = build.metadata_report(
    "rs-usage",
    "METADATA_TELEMETRY_USAGE",
    [
        build.report_description(
            "pw-1",
            "usage",
            "Direct Read",
            item_base=build.item_base("powerReal"),
            sampling=("PT1S", "PT1M", False),
        )
    ],
)


async def test_create_report_checks_in_order(upper):
    """EMAP-6.4.3-02 to -05: 452 before 454 before 461 over all requests; nothing created on failure."""
    ven_id = await upper.registered_pull()

    async def code(*requests):
        return code_of(
            await upper.body("EiReport", build.create_report(f"cr-{time.monotonic_ns()}", ven_id, requests))
        )

    good = build.report_request("rq-1", "u-status", ["u-status-1"])
    assert await code(good, build.report_request("rq-2", "U-STATUS", ["u-status-1"])) == "452"
    assert await code(build.report_request("rq-3", "u-status", ["nope"])) == "452"
    assert await code(build.report_request("0", "u-status", ["u-status-1"])) == "454"
    assert await code(good, build.report_request("rq-1", "u-usage", ["u-power-1"])) == "454"
    assert await code(build.report_request("rq-4", "u-history", ["u-history-1"], granularity=60)) == "454"
    assert await code(build.report_request("rq-5", "u-usage", ["u-power-1"], granularity=7200)) == "461"
    assert await code(build.report_request("rq-6", "METADATA", back_duration=60)) == "461"
    answer = await upper.body("EiReport", build.create_report("cr-ok", ven_id, [good]))
    assert answer["emapCreatedReport"]["emapPendingReports"] == {"reportRequestID": ["rq-1"]}
    assert await code(build.report_request("rq-1", "u-usage", ["u-power-1"])) == "454"  # used before


async def test_one_shot_and_metadata_requests(upper):
    """EMAP-6.4.3-06, EMAP-6.4.2-06, EMAP-6.4.4-02/-05: exactly one report, then the request ends."""
    ven_id = await upper.registered_pull()
    requests = [
        build.report_request("rq-s", "u-status", ["u-status-1"]),
        build.report_request("rq-h", "u-history", ["u-history-1"]),
        build.report_request("rq-m", "METADATA"),
    ]
    await upper.body("EiReport", build.create_report("cr-1", ven_id, requests))
    status = (await upper.poll(ven_id))["emapUpdateReport"]
    history = (await upper.poll(ven_id))["emapUpdateReport"]
    metadata = (await upper.poll(ven_id))["emapRegisterReport"]
    assert rules.data_report_rules(status) == [] and rules.data_report_rules(history) == []
    interval = status["emapReport"][0]["intervals"]["interval"]
    assert len(interval) == 1 and interval[0]["duration"] == "PT0S"
    assert "emapPayloadResourceStatus" in interval[0]["emapReportPayload"][0]
    assert len(history["emapReport"][0]["intervals"]["interval"]) == 4
    assert metadata["reportRequestID"] == "rq-m"
    assert code_of(await upper.poll(ven_id)) == "200"
    cancel = await upper.body("EiReport", build.cancel_report("xr-1", ven_id, ["rq-s"]))
    assert (
        code_of(cancel) == "452"
        and cancel["emapCanceledReport"]["emapPendingReports"]["reportRequestID"] == []
    )


async def test_periodic_report_timing_and_cancel(upper):
    """EMAP-6.4.3-07: k-th report between S+kB and S+kB+T_PROMPT; EMAP-6.4.5-03 cancel without final report.
    """
    ven_id = await upper.registered_pull()
    request = build.report_request(
        "rq-p", "u-usage", ["u-power-1", "u-energy-1"], granularity=1, back_duration=1
    )
    sent = timefmt.utc_now()
    assert code_of(await upper.body("EiReport", build.create_report("cr-1", ven_id, [request]))) == "200"
    deadline = time.monotonic() + 5
    while True:
        answer = await upper.poll(ven_id)
        if "emapUpdateReport" in answer:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    report = answer["emapUpdateReport"]["emapReport"][0]
    intervals = report["intervals"]["interval"]
    assert [i["duration"] for i in intervals] == ["PT1S"]
    assert {p["rID"] for p in intervals[0]["emapReportPayload"]} == {"u-power-1", "u-energy-1"}
    start = timefmt.parse_datetime(intervals[0]["dtstart"])
    assert abs((start - sent).total_seconds()) < 0.5
    cancel = await upper.body("EiReport", build.cancel_report("xr-1", ven_id, ["rq-p"]))
    assert cancel["emapCanceledReport"]["emapPendingReports"]["reportRequestID"] == []


async def test_requester_side(upper):
    """EMAP-6.4.2-04 (454), -05, -06 (452), EMAP-6.4.4-04: L's metadata, U's request and L's reports."""
    ven_id = await upper.registered_pull()
    only_status = build.register_report("rr-1", ven_id, [STATUS_METADATA])
    assert code_of(await upper.body("EiReport", only_status)) == "454"  # EMAP-6.4.2-03
    unknown = build.register_report("rr-2", ven_id, [STATUS_METADATA, USAGE_METADATA], report_request_id="zz")
    assert code_of(await upper.body("EiReport", unknown)) == "452"
    full = build.register_report("rr-3", ven_id, [STATUS_METADATA, USAGE_METADATA])
    assert code_of(await upper.body("EiReport", full)) == "200"
    refused = await upper.stimulate("request-report", {"reportSpecifierID": "rs-nope"})
    assert refused["status"] == "refused"
    result = await upper.stimulate(
        "request-report",
        {
            "reportSpecifierID": "rs-usage",
            "reportRequestID": "u-1",
            "granularity": "PT1S",
            "reportBackDuration": 2,
        },
    )
    assert result["status"] == "accepted", result
    create = (await upper.poll(ven_id))["emapCreateReport"]
    assert create["emapReportRequest"][0]["reportSpecifier"]["specifierPayload"][0]["rID"] == "pw-1"
    created = build.created_report(create["requestID"], ven_id, ["u-1"])
    assert code_of(await upper.body("EiReport", created)) == "200"
    now = timefmt.utc_now()
    wrong_rid = build.data_report(
        "u-1",
        "rs-usage",
        "TELEMETRY_USAGE",
        [build.data_interval(now, 1, [build.report_payload("st-1", value=1.0)])],
    )
    assert code_of(await upper.body("EiReport", build.update_report("ur-1", ven_id, [wrong_rid]))) == "452"
    good = build.data_report(
        "u-1",
        "rs-usage",
        "TELEMETRY_USAGE",
        [build.data_interval(now, 1, [build.report_payload("pw-1", value=1.0)])],
    )
    assert code_of(await upper.body("EiReport", build.update_report("ur-2", ven_id, [good]))) == "200"
    assert (await upper.stimulate("cancel-report", {"reportRequestID": "u-1"}))["status"] == "accepted"
    cancel = (await upper.poll(ven_id))["emapCancelReport"]
    canceled = build.canceled_report(cancel["requestID"], ven_id, [])
    assert code_of(await upper.body("EiReport", canceled)) == "200"
    after = build.update_report("ur-3", ven_id, [good])
    assert code_of(await upper.body("EiReport", after)) == "452"
    assert (await upper.stimulate("cancel-report", {"reportRequestID": "u-1"}))["status"] == "refused"


async def test_withdrawn_metadata_ends_requests(upper):
    """EMAP-6.4.2-05 at U as reporter: L accepts new metadata without a specifier; L's request for it ends."""
    ven_id = await upper.registered_pull()
    periodic = build.report_request("rq-p", "u-usage", ["u-power-1"], granularity=60, back_duration=60)
    await upper.body("EiReport", build.create_report("cr-1", ven_id, [periodic]))
    assert (await upper.stimulate("register-report", {"reports": ["METADATA_TELEMETRY_STATUS"]}))[
        "status"
    ] == "accepted"
    metadata = (await upper.poll(ven_id))["emapRegisterReport"]
    assert [r["reportName"] for r in metadata["emapReport"]] == ["METADATA_TELEMETRY_STATUS"]
    await upper.body("EiReport", build.registered_report(metadata["requestID"], ven_id))
    cancel = await upper.body("EiReport", build.cancel_report("xr-1", ven_id, ["rq-p"]))
    assert code_of(cancel) == "452"
    assert (await upper.stimulate("register-report", {"reports": ["BOGUS"]}))["status"] == "refused"
