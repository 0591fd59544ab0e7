"""What the upper EMA reports as reporter: its metadata (EMAP-6.4.2-02) and its data reports (EMAP-6.4.4-02,
-03, -05). Values are synthetic (the sample EMA measures nothing): status online, constant power and energy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conformance.messages import build

HISTORY_DURATION_S = 86400.0
SAMPLING = ("PT1S", "PT1H", False)
GREENBUTTON_FEED = '<feed xmlns="http://www.w3.org/2005/Atom"><title>sample usage</title></feed>'


def _descriptions(report_name: str) -> tuple[str, float, list[dict]]:
    """``(reportSpecifierID, buffered duration, descriptions)`` of one metadata report of Table 6.4-1."""
    power = build.item_base("powerReal")
    energy = build.item_base("energyReal", scale="k")
    if report_name == "METADATA_TELEMETRY_STATUS":
        return (
            "u-status",
            0.0,
            [
                build.report_description(
                    "u-status-1", "x-resourceStatus", "x-notApplicable", sampling=SAMPLING
                )
            ],
        )
    if report_name == "METADATA_TELEMETRY_USAGE":
        return (
            "u-usage",
            0.0,
            [
                build.report_description(
                    "u-power-1", "usage", "Direct Read", item_base=power, sampling=SAMPLING
                ),
                build.report_description(
                    "u-energy-1", "usage", "Direct Read", item_base=energy, sampling=SAMPLING
                ),
            ],
        )
    if report_name == "METADATA_HISTORY_USAGE":
        return (
            "u-history",
            HISTORY_DURATION_S,
            [build.report_description("u-history-1", "usage", "Direct Read", item_base=energy)],
        )
    if report_name == "METADATA_HISTORY_GREENBUTTON":
        return (
            "u-greenbutton",
            HISTORY_DURATION_S,
            [build.report_description("u-gb-1", "usage", "Direct Read")],
        )
    slug = report_name[2:] or "x"
    return (
        f"u-{slug}",
        0.0,
        [build.report_description(f"u-{slug}-1", "reading", "Direct Read", sampling=SAMPLING)],
    )


def metadata(report_names, now: datetime) -> list[dict]:
    """U's metadata reports for the offered ``report_names`` (`METADATA_…` or `x-…`), in that order."""
    reports = []
    for name in dict.fromkeys(report_names):
        specifier, duration, descriptions = _descriptions(name)
        reports.append(build.metadata_report(specifier, name, descriptions, duration=duration, created=now))
    return reports


def data_name(metadata_report: dict) -> str:
    """The data `reportName`: the metadata name without `METADATA_` (EMAP-6.4.4-02)."""
    name = metadata_report["reportName"]
    return name[len("METADATA_") :] if name.startswith("METADATA_") else name


def is_history(metadata_report: dict) -> bool:
    return data_name(metadata_report).startswith("HISTORY_")


def _payloads(metadata_report: dict, r_ids: list[str], step: int) -> list[dict]:
    kinds = {d["rID"]: d["reportType"] for d in metadata_report["emapReportDescription"]}
    payloads = []
    for r_id in r_ids:
        if kinds.get(r_id) == "x-resourceStatus":
            payloads.append(build.report_payload(r_id, online=True, manual_override=False))
        else:
            payloads.append(build.report_payload(r_id, value=1000.0 + step))
    return payloads


def intervals(metadata_report: dict, r_ids: list[str], windows: list[tuple[datetime, float]]) -> list[dict]:
    """Data intervals over ``windows`` (``(start, length seconds)``), with the payload member of Table 6.4-1.
    """
    gb = data_name(metadata_report) == "HISTORY_GREENBUTTON"
    return [
        build.data_interval(
            start,
            length,
            () if gb else _payloads(metadata_report, r_ids, n),
            uid=str(n),
            gb_feed=GREENBUTTON_FEED if gb else None,
        )
        for n, (start, length) in enumerate(windows)
    ]


def windows_ending(end: datetime, granularity: float, count: int) -> list[tuple[datetime, float]]:
    """``count`` consecutive intervals of ``granularity`` ending at ``end``; one instantaneous sample when the
    granularity is zero (EMAP-6.4.4-05)."""
    if granularity == 0:
        return [(end, 0.0)]
    start = end - timedelta(seconds=granularity * count)
    return [(start + timedelta(seconds=granularity * n), granularity) for n in range(count)]


def history_windows(
    metadata_report: dict, window: tuple[datetime, float] | None, now: datetime
) -> list[tuple[datetime, float]]:
    """Four equal intervals covering the request's window, or the buffered duration ending now
    (EMAP-6.4.4-05)."""
    if window is not None and window[1] > 0:
        start, length = window
    else:
        length = HISTORY_DURATION_S
        start = now - timedelta(seconds=length)
    quarter = length / 4
    return [(start + timedelta(seconds=quarter * n), quarter) for n in range(4)]
