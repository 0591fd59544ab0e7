"""Seeded, deterministic fault plans for the wire tap: drop, duplicate, delay, reorder, truncate, corrupt, RST.

The same seed and the same sequence of datagrams always give the same decisions: each rule owns a random stream
derived from (seed, rule index) and draws from it once per datagram of its direction, whether or not it fires.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ACTIONS = ("drop", "duplicate", "delay", "reorder", "truncate", "corrupt", "rst")


@dataclass(frozen=True)
class FaultRule:
    """One fault. Fires on datagram number `nth` (1-based, per direction; int or tuple), or with probability
    `fraction`, or on every datagram when neither is given; `direction` None means both directions.
    `delay` (s) is for delay/reorder (reorder: longest hold), `length` for truncate, `count` for corrupt."""

    action: str
    direction: str | None = None
    nth: int | tuple[int, ...] | None = None
    fraction: float | None = None
    delay: float = 0.0
    length: int = 4
    count: int = 1

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; expected one of {', '.join(ACTIONS)}")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fault fraction must be within [0, 1], not {self.fraction}")

    def selects(self, index: int, draw: float) -> bool:
        if self.nth is not None:
            return index in ((self.nth,) if isinstance(self.nth, int) else self.nth)
        if self.fraction is not None:
            return draw < self.fraction
        return True


@dataclass
class FaultOutcome:
    """What to do with one datagram: deliver `data` `copies` times after `delay` seconds (optionally held back
    behind the next datagram), or drop it, or answer it with RST, or answer it with the crafted datagram `reply`
    (the original is then not delivered). `labels` describe the faults for the trace."""

    data: bytes
    drop: bool = False
    rst: bool = False
    reply: bytes | None = None
    copies: int = 1
    delay: float = 0.0
    hold: float | None = None
    labels: list[str] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        return "; ".join(self.labels) or None


class FaultPlan:
    """Deterministic fault decisions for a stream of datagrams."""

    def __init__(self, seed: int, rules=()):
        self.seed = seed
        self.rules = tuple(rules)
        self._rngs = [random.Random(f"{seed}/{i}") for i in range(len(self.rules))]
        self._counts: dict[str, int] = {}

    def decide(self, direction: str, data: bytes) -> FaultOutcome:
        """Decide the fate of the next datagram travelling in `direction`."""
        index = self._counts[direction] = self._counts.get(direction, 0) + 1
        out = FaultOutcome(bytes(data))
        for rule, rng in zip(self.rules, self._rngs, strict=True):
            if rule.direction not in (None, direction):
                continue
            draw = rng.random()
            if rule.selects(index, draw):
                self._apply(rule, rng, out)
        return out

    @staticmethod
    def _apply(rule: FaultRule, rng: random.Random, out: FaultOutcome) -> None:
        if rule.action == "drop":
            out.drop = True
            out.labels.append("dropped")
        elif rule.action == "rst":
            out.rst = True
            out.labels.append("answered with RST by the tap")
        elif rule.action == "duplicate":
            out.copies += 1
            out.labels.append("duplicated")
        elif rule.action == "delay":
            out.delay += rule.delay
            out.labels.append(f"delayed {rule.delay:g} s")
        elif rule.action == "reorder":
            out.hold = rule.delay or 1.0
            out.labels.append("reordered")
        elif rule.action == "truncate":
            out.data = out.data[:rule.length]
            out.labels.append(f"truncated to {len(out.data)} bytes")
        elif rule.action == "corrupt" and out.data:
            buf = bytearray(out.data)
            positions = sorted(rng.sample(range(len(buf)), min(rule.count, len(buf))))
            for pos in positions:
                buf[pos] ^= rng.randrange(1, 256)
            out.data = bytes(buf)
            out.labels.append(f"corrupted bytes {positions}")
