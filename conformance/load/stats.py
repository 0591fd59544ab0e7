"""Load measurements: throughput, latency percentiles per resource, outcomes by code, a per-second timeline.

Latencies are kept in a bounded reservoir per resource (uniform sample, seeded), so a long run with thousands
of lower EMAs keeps a fixed memory footprint while its percentiles stay unbiased.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

RESERVOIR = 50_000
CHART_BINS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0-100) of already sorted values; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Reservoir:
    """At most ``size`` values, a uniform sample of all values offered (Vitter's algorithm R)."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng = size, rng
        self.values: list[float] = []
        self.seen = 0

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        slot = self.rng.randrange(self.seen)
        if slot < self.size:
            self.values[slot] = value


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class LoadStats:
    """Collects one record per exchange; ``summary(duration_s)`` is the ``load`` results section's numbers."""

    def __init__(self, seed: int = 0, reservoir: int = RESERVOIR):
        self._rng = random.Random(seed)
        self._reservoir = reservoir
        self.latency: dict[str, Reservoir] = {}
        self.count: Counter = Counter()
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.retransmissions = 0
        self.timeline: dict[int, list] = {}  # second -> [exchanges, failures, latency reservoir]
        self.stop_at = math.inf  # run time of the stop signal: later exchanges count apart from the rates
        self.after_stop: Counter = Counter()

    def record(
        self, resource: str, outcome: str, latency_s: float | None, t: float, retransmitted: int = 0
    ) -> None:
        """One exchange on ``resource`` that ended with ``outcome`` ("2.04/200", "2.04/463", "4.00",
        "timeout"...) ``latency_s`` after its first transmission, ``t`` s after the run started."""
        self.count[resource] += 1
        if t >= self.stop_at:
            self.after_stop[resource] += 1
        self.outcomes[resource][outcome] += 1
        self.retransmissions += retransmitted
        second = int(t)
        slot = self.timeline.get(second)
        if slot is None:
            slot = self.timeline[second] = [0, 0, Reservoir(2000, self._rng)]
        slot[0] += 1
        if not is_success(outcome):
            slot[1] += 1
        if latency_s is not None:
            slot[2].add(latency_s)
            reservoir = self.latency.get(resource)
            if reservoir is None:
                reservoir = self.latency[resource] = Reservoir(self._reservoir, self._rng)
            reservoir.add(latency_s)

    def summary(self, duration_s: float) -> dict:
        """Totals and per-resource figures (latencies in ms; rates per second of ``duration_s`` count the
        exchanges begun before the stop signal, ``after_stop`` the others: the final cancellations)."""
        duration_s = max(duration_s, 1e-9)
        resources = {}
        for resource in sorted(self.count):
            values = sorted(self.latency[resource].values) if resource in self.latency else []
            measured = self.count[resource] - self.after_stop[resource]
            resources[resource] = {
                "exchanges": self.count[resource],
                "per_s": round(measured / duration_s, 2),
                "latency_ms": {
                    "p50": _ms(percentile(values, 50)),
                    "p90": _ms(percentile(values, 90)),
                    "p99": _ms(percentile(values, 99)),
                    "max": _ms(values[-1] if values else None),
                    "mean": _ms(sum(values) / len(values) if values else None),
                },
                "histogram_ms": histogram(values),
                "outcomes": dict(sorted(self.outcomes[resource].items())),
            }
        total = sum(self.count.values())
        failures = sum(
            n
            for counter in self.outcomes.values()
            for outcome, n in counter.items()
            if not is_success(outcome)
        )
        by_code: Counter = Counter()
        for counter in self.outcomes.values():
            by_code.update({outcome: n for outcome, n in counter.items() if not is_success(outcome)})
        after_stop = sum(self.after_stop.values())
        return {
            "exchanges": total,
            "per_s": round((total - after_stop) / duration_s, 2),
            "after_stop": after_stop,
            "failed": failures,
            "retransmissions": self.retransmissions,
            "errors_by_code": dict(sorted(by_code.items())),
            "resources": resources,
            "timeline": self._timeline(),
        }

    def _timeline(self) -> list[dict]:
        rows = []
        for second in sorted(self.timeline):
            count, failed, reservoir = self.timeline[second]
            values = sorted(reservoir.values)
            rows.append(
                {
                    "t": second,
                    "exchanges": count,
                    "failed": failed,
                    "p50_ms": _ms(percentile(values, 50)),
                    "p99_ms": _ms(percentile(values, 99)),
                }
            )
        return rows


def histogram(sorted_values: list[float]) -> list[dict]:
    """Counts of latencies per bin: ``{"le_ms": bound, "count": n}``; the last bin (``le_ms`` None) is
    open."""
    counts = [0] * (len(CHART_BINS_MS) + 1)
    index = 0
    for value in sorted_values:
        ms = value * 1000
        while index < len(CHART_BINS_MS) and ms > CHART_BINS_MS[index]:
            index += 1
        counts[index] += 1
    bounds = list(CHART_BINS_MS) + [None]
    return [{"le_ms": bound, "count": n} for bound, n in zip(bounds, counts, strict=True) if n]


def is_success(outcome: str) -> bool:
    """An exchange succeeded when it got 2.04 with responseCode 200, a request of U (a poll reply, the
    `emapDistributeEvent` answering `emapRequestEvent`), or an empty 2.04 (an accepted step two)."""
    return outcome in SUCCESSES


SUCCESSES = frozenset({"2.04/200", "2.04/request", "2.04/empty"})
