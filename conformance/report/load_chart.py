"""Geometry of the load charts of the HTML report: the ``timeline`` of a load run (one row per second) laid out
in SVG user units. The template draws the SVG from these numbers; nothing here writes markup."""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 18, 26, 40
X_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)
MAX_X_TICKS = 12
MARKERS_UP_TO = 120  # points per series below which each point also gets a dot
FLOOR_MS = 0.1  # the log axis starts at 0.1 ms at the lowest


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in user units
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    key: str  # class suffix the stylesheet colours and dashes the line by
    points: tuple[tuple[float, float], ...]

    @property
    def svg_points(self) -> str:
        """The ``points`` attribute of an SVG polyline."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)

    @property
    def dots(self) -> tuple[tuple[float, float], ...]:
        return self.points if len(self.points) <= MARKERS_UP_TO else ()


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    key: str
    title: str


@dataclass(frozen=True)
class Marker:
    """A vertical line across the plot at a moment of the run (end of the ramp, the stop signal)."""

    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    y_label: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[Series, ...] = ()
    bars: tuple[Bar, ...] = ()
    markers: tuple[Marker, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


class _XAxis:
    """Seconds of the run -> x; the axis spans every second of the timeline."""

    def __init__(self, timeline: list[dict], extra_s: float):
        self.span = max([row["t"] + 1 for row in timeline] + [math.ceil(extra_s), 1])
        self.scale = (WIDTH - RIGHT - LEFT) / self.span

    def x(self, seconds: float) -> float:
        return LEFT + seconds * self.scale

    def ticks(self) -> tuple[Tick, ...]:
        step = next((s for s in X_STEPS if self.span / s <= MAX_X_TICKS), X_STEPS[-1])
        return tuple(Tick(self.x(t), f"{t} s") for t in range(0, int(self.span) + 1, step))


def _markers(axis: _XAxis, ramp_s: float | None, stop_s: float | None) -> tuple[Marker, ...]:
    moments = (("ramp end", ramp_s), ("stop", stop_s))
    return tuple(Marker(axis.x(t), label) for label, t in moments if t)


def _ms_label(ms: float) -> str:
    return f"{ms / 1000:g} s" if ms >= 1000 else f"{ms:g} ms"


def latency_chart(timeline: list[dict], *, ramp_s: float | None = None, stop_s: float | None = None) -> Chart:
    """p50 and p99 latency per second of the run, on a logarithmic axis (decades of ms)."""
    axis = _XAxis(timeline, stop_s or 0)
    columns = (("p50", "p50_ms"), ("p99", "p99_ms"))
    values = [row[column] for row in timeline for _, column in columns if row[column] is not None]
    low = 10 ** math.floor(math.log10(max(min(values, default=1.0), FLOOR_MS)))
    high = 10 ** math.ceil(math.log10(max(max(values, default=1.0), FLOOR_MS)))
    if high <= low:
        high = low * 10
    decades = math.log10(high / low)
    bottom, top = HEIGHT - BOTTOM, TOP

    def y(ms: float) -> float:
        share = math.log10(max(ms, low) / low) / decades
        return bottom - share * (bottom - top)

    series = tuple(
        Series(
            name,
            name,
            tuple((axis.x(row["t"] + 0.5), y(row[column])) for row in timeline if row[column] is not None),
        )
        for name, column in columns
    )
    y_ticks = tuple(Tick(y(low * 10**k), _ms_label(low * 10**k)) for k in range(round(decades) + 1))
    return Chart(
        title="Latency per second of the run",
        y_label="latency (log scale)",
        x_ticks=axis.ticks(),
        y_ticks=y_ticks,
        series=series,
        markers=_markers(axis, ramp_s, stop_s),
    )


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def throughput_chart(
    timeline: list[dict], *, ramp_s: float | None = None, stop_s: float | None = None
) -> Chart:
    """Exchanges completed per second, stacked: succeeded, then failed."""
    axis = _XAxis(timeline, stop_s or 0)
    high = _nice_ceiling(max((row["exchanges"] for row in timeline), default=1))
    bottom, top = HEIGHT - BOTTOM, TOP
    unit = (bottom - top) / high
    width = max(axis.scale - 1, 0.5)
    bars = []
    for row in timeline:
        ok = row["exchanges"] - row["failed"]
        x = axis.x(row["t"]) + 0.5
        if ok:
            bars.append(Bar(x, bottom - ok * unit, width, ok * unit, "ok", f"{row['t']} s: {ok} succeeded"))
        if row["failed"]:
            bars.append(
                Bar(
                    x,
                    bottom - row["exchanges"] * unit,
                    width,
                    row["failed"] * unit,
                    "failed",
                    f"{row['t']} s: {row['failed']} failed",
                )
            )
    y_ticks = tuple(Tick(bottom - value * unit, f"{value:g}") for value in (0, high / 2, high))
    return Chart(
        title="Exchanges per second",
        y_label="exchanges / s",
        x_ticks=axis.ticks(),
        y_ticks=y_ticks,
        bars=tuple(bars),
        markers=_markers(axis, ramp_s, stop_s),
    )
