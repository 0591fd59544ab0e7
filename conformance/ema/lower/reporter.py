"""A lower EMA as reporter (6.4): its metadata, the checks on `emapCreateReport` and `emapCancelReport`, and the
schedule and content of its reports.

EMAP-6.4.2-02/-03 (metadata), EMAP-6.4.3-02 to -07 (checks 452, 454, 461 in that order; one-shot within
T_PROMPT; periodic k-th report at S + k·B), EMAP-6.4.4-01/-02/-03/-05 (report content), EMAP-6.4.5-02/-03
(cancel, `reportToFollow`), EMAP-6.4.1-03 (`emapPendingReports`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from conformance.ema.upper import report_content
from conformance.messages import build, timefmt
from conformance.messages.rules import report_request_rules


def _offer(name: str) -> dict:
    """The metadata report this lower EMA offers under metadata `reportName` ``name`` (Table 6.4-1)."""
    if name == "METADATA_TELEMETRY_STATUS":
        return build.metadata_report("rs-status", name, [build.report_description(
            "status-1", "x-resourceStatus", "x-notApplicable", sampling=("PT1S", "PT1H", True))])
    if name == "METADATA_TELEMETRY_USAGE":
        return build.metadata_report("rs-usage", name, [
            build.report_description("power-1", "usage", "Direct Read", item_base=build.item_base("powerReal"),
                                     sampling=report_content.SAMPLING),
            build.report_description("energy-1", "usage", "Direct Read",
                                     item_base=build.item_base("energyReal", scale="k"), sampling=report_content.SAMPLING)])
    return build.metadata_report("rs-history", name, [build.report_description(
        "energy-h", "usage", "Direct Read", item_base=build.item_base("energyReal", scale="k"))],
        duration=report_content.HISTORY_DURATION_S)


MIN_PERIOD = 1.0
"""Shortest `reportBackDuration` served (EMAP-6.4.3-04 "may answer 461"): the shortest sampling period."""
MAX_INTERVALS = 10000
"""Most intervals per periodic report (bounded memory; larger reports go block-wise, EMAP-7.1.1-04)."""

OFFERABLE = ("METADATA_TELEMETRY_STATUS", "METADATA_TELEMETRY_USAGE", "METADATA_HISTORY_USAGE")
REQUIRED = ("METADATA_TELEMETRY_STATUS", "METADATA_TELEMETRY_USAGE")  # EMAP-6.4.2-03


def declared_offer(names) -> tuple[str, ...]:
    """The metadata reports to offer from the declared ones (ICS-8): those this EMA can offer, with TELEMETRY_STATUS
    and TELEMETRY_USAGE added when any is offered (EMAP-6.4.2-03)."""
    offered = tuple(name for name in OFFERABLE if name in set(names))
    return tuple(dict.fromkeys(REQUIRED + offered)) if offered else ()


def offer_names(names) -> tuple[str, ...]:
    """Metadata report names from stimulus values (`TELEMETRY_STATUS` or `METADATA_TELEMETRY_STATUS`);
    ValueError naming a report this EMA cannot offer."""
    result = []
    for name in names:
        full = name if str(name).startswith("METADATA_") else f"METADATA_{name}"
        if full not in OFFERABLE:
            raise ValueError(f"cannot offer report {name!r} (offers {', '.join(OFFERABLE)})")
        if full not in result:
            result.append(full)
    return tuple(result)


class Refusal(Exception):
    """A check of Table 6.1-4 failed: ``code`` and a description."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclass
class Serving:
    """One active report request of the upper EMA at this reporter."""

    request_id: str
    specifier_id: str
    metadata_name: str
    rids: tuple[str, ...]
    granularity: float
    back: float
    window: tuple[datetime, float] | None
    start_wall: datetime
    start_mono: float
    sent: int = 0
    final: bool = False
    armed: bool = False
    """Set once the `emapCreatedReport` has been sent: no report goes before it."""

    @property
    def one_shot(self) -> bool:
        return self.back == 0

    def due(self) -> float:
        """Monotonic time the next report is due (EMAP-6.4.3-06/-07)."""
        if not self.armed:
            return float("inf")
        if self.one_shot or self.final:
            return 0.0
        return self.start_mono + (self.sent + 1) * self.back


@dataclass
class Reporter:
    """Metadata offered and the upper EMA's requests served (reset per Table 6.2-2)."""

    offered: tuple[str, ...] = OFFERABLE
    metadata: list[dict] = field(default_factory=list)
    serving: dict[str, Serving] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)

    def reset(self, *, new_registration: bool) -> None:
        """Table 6.2-2: metadata and requests end; used `reportRequestID`s survive only a re-registration."""
        self.metadata = []
        self.serving.clear()
        if new_registration:
            self.used_ids.clear()

    def publish(self, names: tuple[str, ...] | None = None) -> list[dict]:
        """New metadata reports (fresh `createdDateTime`); they become the metadata the checks use."""
        if names is not None:
            self.offered = names
        self.metadata = [_offer(name) for name in self.offered]
        return self.metadata

    def withdraw_missing(self) -> None:
        """End requests naming a specifier or rID absent from the current metadata (EMAP-6.4.2-05)."""
        for request_id, serving in list(self.serving.items()):
            if serving.specifier_id == "METADATA":
                continue
            report = self._report(serving.specifier_id)
            if report is None or not set(serving.rids) <= _rids(report):
                del self.serving[request_id]

    def pending(self) -> list[str]:
        return list(self.serving)

    def is_active(self, request_id: str) -> bool:
        return request_id in self.serving

    def _report(self, specifier_id: str) -> dict | None:
        return next((r for r in self.metadata if r["reportSpecifierID"] == specifier_id), None)

    # emapCreateReport (EMAP-6.4.3-02 to -05)

    def create(self, body: dict) -> list[str]:
        """Accept the requests of an `emapCreateReport` body as a whole or raise Refusal (452, 454, 461)."""
        requests = body["emapReportRequest"]
        for request in requests:  # step 4: IDs
            specifier = request["reportSpecifier"]
            sid = specifier["reportSpecifierID"]
            if sid == "METADATA":
                continue
            report = self._report(sid)
            if report is None:
                raise Refusal("452", f"reportSpecifierID {sid!r} is not in my registered metadata")
            for payload in specifier.get("specifierPayload") or ():
                if payload["rID"] not in _rids(report):
                    raise Refusal("452", f"rID {payload['rID']!r} is not in metadata report {sid!r}")
        ids = [request["reportRequestID"] for request in requests]
        for request_id in ids:  # step 5: 454
            if request_id in self.used_ids:
                raise Refusal("454", f"reportRequestID {request_id!r} was used before in this registration")
        violations = [v for v in report_request_rules(body, {r["reportSpecifierID"]: r for r in self.metadata})
                      if v.code == "454"]
        if violations:
            raise Refusal("454", f"{violations[0].pointer}: {violations[0].text}")
        for request in requests:  # step 6: 461
            specifier = request["reportSpecifier"]
            sid, granularity = specifier["reportSpecifierID"], _seconds(specifier["granularity"])
            if sid == "METADATA":
                if _seconds(specifier["reportBackDuration"]):
                    raise Refusal("461", "only one-shot METADATA requests are served")
                continue
            back = _seconds(specifier["reportBackDuration"])
            if back and (back < MIN_PERIOD or granularity and back / granularity > MAX_INTERVALS):
                raise Refusal("461", f"reportBackDuration {specifier['reportBackDuration']} is not served with "
                                     f"granularity {specifier['granularity']} (at least PT1S, at most "
                                     f"{MAX_INTERVALS} intervals per report)")
            if granularity:
                for description in self._report(sid)["emapReportDescription"]:
                    rate = description.get("emapSamplingRate")
                    named = {p["rID"] for p in specifier["specifierPayload"]}
                    if rate and description["rID"] in named and not (
                            _seconds(rate["emapMinPeriod"]) <= granularity <= _seconds(rate["emapMaxPeriod"])):
                        raise Refusal("461", f"granularity {specifier['granularity']} is outside the sampling "
                                             f"range of rID {description['rID']!r}")
        now_wall, now_mono = timefmt.utc_now(), time.monotonic()
        for request in requests:
            self.used_ids.add(request["reportRequestID"])
            self.serving[request["reportRequestID"]] = self._serving(request, now_wall, now_mono)
        return ids

    def _serving(self, request: dict, now_wall: datetime, now_mono: float) -> Serving:
        specifier = request["reportSpecifier"]
        sid = specifier["reportSpecifierID"]
        window = None
        start_wall = now_wall
        interval = specifier.get("reportInterval")
        if interval:
            dtstart = timefmt.parse_datetime(interval["properties"]["dtstart"])
            window = (dtstart, _seconds(interval["properties"]["duration"]))
            start_wall = max(now_wall, dtstart)
        name = "METADATA" if sid == "METADATA" else self._report(sid)["reportName"]
        return Serving(request["reportRequestID"], sid, name,
                       tuple(p["rID"] for p in specifier.get("specifierPayload") or ()),
                       _seconds(specifier["granularity"]), _seconds(specifier["reportBackDuration"]), window,
                       start_wall, now_mono + (start_wall - now_wall).total_seconds())

    def started(self, request_ids: list[str]) -> None:
        """The `emapCreatedReport` was sent now: S of EMAP-6.4.3-07 starts now (or at the window start)."""
        now_wall, now_mono = timefmt.utc_now(), time.monotonic()
        for request_id in request_ids:
            serving = self.serving.get(request_id)
            if serving is not None:
                serving.armed = True
                offset = max(0.0, (serving.start_wall - now_wall).total_seconds())
                serving.start_wall = now_wall + timedelta(seconds=offset)
                serving.start_mono = now_mono + offset

    # emapCancelReport (EMAP-6.4.5-02/-03)

    def cancel(self, body: dict) -> None:
        ids = body["reportRequestID"]
        for request_id in ids:
            if request_id not in self.serving:
                raise Refusal("452", f"reportRequestID {request_id!r} is not an active request")
        for request_id in ids:
            if body["reportToFollow"]:
                self.serving[request_id].final = True
            else:
                del self.serving[request_id]

    # Sending (EMAP-6.4.4-01/-02/-05)

    def next_due(self) -> float | None:
        due = min((s.due() for s in self.serving.values()), default=float("inf"))
        return None if due == float("inf") else due

    def take_due(self, now_mono: float) -> list[tuple[Serving, dict | None]]:
        """The requests whose report is due, each with its data report (None for a `METADATA` request, answered
        by `emapRegisterReport`); a request ends with its last report."""
        due = []
        for request_id, serving in list(self.serving.items()):
            if serving.due() > now_mono:
                continue
            last = serving.one_shot or serving.final
            try:
                report = None if serving.metadata_name == "METADATA" else self._data_report(serving)
                serving.sent += 1
                if serving.window and serving.window[1] and not last:
                    end = serving.start_wall + timedelta(seconds=serving.sent * serving.back)
                    last = end >= serving.window[0] + timedelta(seconds=serving.window[1])
            except OverflowError:  # a window beyond the representable dates: nothing more to report
                del self.serving[request_id]
                continue
            if last:
                del self.serving[request_id]
            due.append((serving, report))
        return due

    def _data_report(self, serving: Serving) -> dict:
        """The data report of EMAP-6.4.4-02/-05 (window shapes and payloads shared with the upper role)."""
        now = timefmt.utc_now()
        report = self._report(serving.specifier_id)
        if serving.metadata_name.startswith("METADATA_HISTORY_"):
            windows = report_content.history_windows(report, serving.window, now)
        elif serving.one_shot or serving.final:
            windows = report_content.windows_ending(now, serving.granularity, 1)
        else:
            end = serving.start_wall + timedelta(seconds=(serving.sent + 1) * serving.back)
            count = max(1, round(serving.back / serving.granularity)) if serving.granularity else 1
            windows = report_content.windows_ending(end, serving.granularity, count)
        total = (windows[-1][0] - windows[0][0]).total_seconds() + windows[-1][1]
        return build.data_report(serving.request_id, serving.specifier_id, report_content.data_name(report),
                                 report_content.intervals(report, list(serving.rids), windows), created=now,
                                 duration=total)


def _rids(report: dict) -> set[str]:
    return {d["rID"] for d in report["emapReportDescription"]}


def _seconds(duration: str) -> float:
    return timefmt.parse_duration(duration)
