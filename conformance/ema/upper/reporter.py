"""The upper EMA as reporter (6.4): L's report requests (EMAP-6.4.3-02 to -08), the reports U sends for them
(EMAP-6.4.4-01 to -05) and L's cancels (EMAP-6.4.5-02, -03)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from conformance.ema.upper import report_content
from conformance.ema.upper.ids import IdSource
from conformance.ema.upper.links import Link
from conformance.ema.upper.outbound import Outgoing
from conformance.messages import build, timefmt
from conformance.messages.rules import RuleViolation, report_request_rules

log = logging.getLogger("conformance.ema.upper.reporter")

METADATA = "METADATA"

Send = Callable[[Link, Outgoing], bool]
Failure = tuple[str, str]


@dataclass(eq=False)
class ServedRequest:
    """A report request of L that U serves (active from U's 200 `emapCreatedReport`, EMAP-6.4.1-02)."""

    report_request_id: str
    specifier_id: str
    r_ids: list[str]
    granularity: float
    back: float
    window: tuple[datetime, float] | None
    metadata: dict | None
    created_at: datetime
    active: bool = True
    task: asyncio.Task | None = None

    def end(self) -> None:
        self.active = False
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()


def first_failure(violations: list[RuleViolation], code: str) -> Failure | None:
    """The first of ``violations`` a receiver answers with ``code``, as ``(code, description)``."""
    for violation in violations:
        if violation.code == code:
            return code, f"{violation.text} ({violation.requirement_id} at {violation.pointer})"
    return None


def window_of(specifier: dict) -> tuple[datetime, float] | None:
    """``(dtstart, duration seconds)`` of a `reportInterval`, or None."""
    interval = specifier.get("reportInterval")
    if interval is None:
        return None
    props = interval["properties"]
    return timefmt.parse_datetime(props["dtstart"]), timefmt.parse_duration(props["duration"])


def _find(metadata: list[dict], specifier_id: str) -> dict | None:
    return next((m for m in metadata if m["reportSpecifierID"] == specifier_id), None)


def _rate(metadata_report: dict, r_id: str) -> tuple[float, float] | None:
    for description in metadata_report["emapReportDescription"]:
        if description["rID"] == r_id and "emapSamplingRate" in description:
            rate = description["emapSamplingRate"]
            return timefmt.parse_duration(rate["emapMinPeriod"]), timefmt.parse_duration(
                rate["emapMaxPeriod"]
            )
    return None


class Reporter:
    """Serves the report requests of every lower EMA; reports leave through ``send``."""

    def __init__(self, ids: IdSource, send: Send, *, max_active: int = 256, max_used: int = 65536) -> None:
        self.ids = ids
        self.send = send
        self.max_active = max_active
        self.max_used = max_used

    @staticmethod
    def pending(link: Link) -> list[str]:
        """L's requests active at U (EMAP-6.4.1-03)."""
        return [rid for rid, request in link.l_requests.items() if request.active]

    # emapCreateReport (Table 6.1-4 steps 4 to 6 over all requests, EMAP-6.4.3-05)
    def check_create(self, link: Link, body: dict) -> Failure | None:
        requests = body["emapReportRequest"]
        for request in requests:
            specifier = request["reportSpecifier"]
            spec_id = specifier["reportSpecifierID"]
            if spec_id == METADATA:
                continue
            metadata = _find(link.u_metadata, spec_id)
            if metadata is None:
                return "452", f"reportSpecifierID {spec_id!r} is not in U's registered metadata"
            known = {d["rID"] for d in metadata["emapReportDescription"]}
            for payload in specifier.get("specifierPayload", []):
                if payload["rID"] not in known:
                    return "452", f"rID {payload['rID']!r} is not in metadata report {spec_id!r}"
        by_specifier = {m["reportSpecifierID"]: m for m in link.u_metadata}
        failure = first_failure(report_request_rules(body, by_specifier), "454")
        if failure is not None:
            return failure
        for request in requests:
            if request["reportRequestID"] in link.l_used_request_ids:
                return (
                    "454",
                    f"reportRequestID {request['reportRequestID']!r} was already used in this registration",
                )
        for request in requests:
            specifier = request["reportSpecifier"]
            spec_id = specifier["reportSpecifierID"]
            granularity = timefmt.parse_duration(specifier["granularity"])
            if spec_id == METADATA:
                if timefmt.parse_duration(specifier["reportBackDuration"]):
                    return "461", "only one-shot METADATA requests are served"
                continue
            metadata = _find(link.u_metadata, spec_id)
            for payload in specifier["specifierPayload"]:
                rate = _rate(metadata, payload["rID"])
                if granularity and rate is not None and not rate[0] <= granularity <= rate[1]:
                    return "461", (
                        f"granularity {specifier['granularity']} outside the sampling range of "
                        f"rID {payload['rID']!r}"
                    )
        if (
            len(self.pending(link)) + len(requests) > self.max_active
            or len(link.l_used_request_ids) + len(requests) > self.max_used
        ):
            return "461", (
                f"cannot serve more: at most {self.max_active} active requests and "
                f"{self.max_used} reportRequestIDs per registration"
            )
        return None

    def create(self, link: Link, body: dict, now: datetime) -> list[ServedRequest]:
        """Record the requests of an accepted `emapCreateReport` (they are active from now)."""
        created = []
        for request in body["emapReportRequest"]:
            specifier = request["reportSpecifier"]
            spec_id = specifier["reportSpecifierID"]
            served = ServedRequest(
                request["reportRequestID"],
                spec_id,
                [p["rID"] for p in specifier.get("specifierPayload", [])],
                timefmt.parse_duration(specifier["granularity"]),
                timefmt.parse_duration(specifier["reportBackDuration"]),
                window_of(specifier),
                None if spec_id == METADATA else _find(link.u_metadata, spec_id),
                now,
            )
            link.l_used_request_ids.add(served.report_request_id)
            link.l_requests[served.report_request_id] = served
            created.append(served)
        return created

    def start(self, link: Link, requests: list[ServedRequest]) -> None:
        """Begin reporting: a one-shot report now (EMAP-6.4.3-06), periodic ones on time (EMAP-6.4.3-07)."""
        for request in requests:
            if request.back == 0:
                self.send_final(link, request)
            else:
                request.task = asyncio.get_running_loop().create_task(self._periodic(link, request))

    async def _periodic(self, link: Link, request: ServedRequest) -> None:
        start = request.created_at
        if request.window is not None:
            start = max(start, request.window[0])
        window_end = None
        if request.window is not None and request.window[1] > 0:
            window_end = request.window[0] + timedelta(seconds=request.window[1])
        count = max(1, round(request.back / request.granularity)) if request.granularity else 1
        k = 1
        while request.active and link.active:
            due = start + timedelta(seconds=k * request.back)
            await asyncio.sleep(max(0.0, (due - timefmt.utc_now()).total_seconds()))
            if not (request.active and link.active):
                return
            final = window_end is not None and due >= window_end
            windows = report_content.windows_ending(due, request.granularity, count)
            self._send_report(link, request, windows, final=final)
            k += 1

    def send_final(self, link: Link, request: ServedRequest) -> None:
        """The report with which a request ends: one-shot (EMAP-6.4.4-05) or after a cancel (EMAP-6.4.5-03).
        """
        now = timefmt.utc_now()
        if request.metadata is None:
            self._end(link, request)
            self.send(link, self.register_report(link, now, report_request_id=request.report_request_id))
            return
        if report_content.is_history(request.metadata):
            windows = report_content.history_windows(request.metadata, request.window, now)
        else:
            windows = report_content.windows_ending(now, request.granularity, 1)
        self._send_report(link, request, windows, final=True)

    def _send_report(self, link: Link, request: ServedRequest, windows, *, final: bool) -> None:
        now = timefmt.utc_now()
        data = build.data_report(
            request.report_request_id,
            request.specifier_id,
            report_content.data_name(request.metadata),
            report_content.intervals(request.metadata, request.r_ids, windows),
            created=now,
            report_id=self.ids.new("rpt"),
        )
        envelope = build.update_report(self.ids.new("ur"), link.ven_id, [data])
        if final:  # the last report counts as sent while the request is active (EMAP-6.4.4-01)
            self._end(link, request)
            item = Outgoing("emapUpdateReport", envelope, epoch=link.epoch)
        else:
            item = Outgoing(
                "emapUpdateReport", envelope, still_valid=lambda: request.active, epoch=link.epoch
            )
        self.send(link, item)

    @staticmethod
    def _end(link: Link, request: ServedRequest) -> None:
        request.end()
        if link.l_requests.get(request.report_request_id) is request:
            del link.l_requests[request.report_request_id]

    def register_report(self, link: Link, now: datetime, *, report_request_id: str | None = None) -> Outgoing:
        """U's `emapRegisterReport` of its offered metadata (EMAP-6.2.3-11, EMAP-6.4.2-01, -06)."""
        metadata = report_content.metadata(link.offered or (), now)
        envelope = build.register_report(self.ids.new("rr"), link.ven_id, metadata, report_request_id)
        return Outgoing("emapRegisterReport", envelope, context={"metadata": metadata}, epoch=link.epoch)

    def metadata_accepted(self, link: Link, metadata: list[dict]) -> None:
        """L accepted U's metadata: L's requests naming withdrawn reports or rIDs end (EMAP-6.4.2-05)."""
        for request in list(link.l_requests.values()):
            if request.metadata is None:
                continue
            current = _find(metadata, request.specifier_id)
            known = {d["rID"] for d in current["emapReportDescription"]} if current else set()
            if current is None or not set(request.r_ids) <= known:
                self._end(link, request)

    # emapCancelReport (EMAP-6.4.5-02, -03)
    @staticmethod
    def check_cancel(link: Link, body: dict) -> Failure | None:
        for rid in body["reportRequestID"]:
            request = link.l_requests.get(rid)
            if request is None or not request.active:
                return "452", f"reportRequestID {rid!r} is not an active request of this lower EMA"
        return None

    def cancel(self, link: Link, body: dict) -> list[ServedRequest]:
        """End the requests, or, with `reportToFollow`, return them for their final report."""
        requests = [link.l_requests[rid] for rid in dict.fromkeys(body["reportRequestID"])]
        if body["reportToFollow"]:
            return requests
        for request in requests:
            self._end(link, request)
        return []
