"""What a load run does: the IUT address (loopback or a private test network only), the number of simulated
lower EMAs, the pull/push mix and activity rates, its time and load bounds."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from conformance.peer.base import PeerError, parse_base_uri
from conformance.profiles.model import Timing

MAX_LOWER_EMAS = 10_000
MAX_DURATION_S = 3600.0
DEFAULT_MIX = {"pull": 0.8, "push": 0.2, "opt": 0.1, "report": 0.05, "event": 0.1}
SHARES = ("pull", "push")
RATES = ("opt", "report", "event")


class PlanError(ValueError):
    """A bad load option; ``str()`` is one line naming the option."""


@dataclass(frozen=True)
class Mix:
    """Share of pull- and push-mode lower EMAs, and per-period chances of each L-initiated activity."""

    pull: float = DEFAULT_MIX["pull"]
    push: float = DEFAULT_MIX["push"]
    opt: float = DEFAULT_MIX["opt"]
    report: float = DEFAULT_MIX["report"]
    event: float = DEFAULT_MIX["event"]

    @classmethod
    def parse(cls, text: str | None) -> Mix:
        """``"pull=0.8,push=0.2,opt=0.1,report=0.05,event=0.1"``; omitted items keep their defaults."""
        values = dict(DEFAULT_MIX)
        for item in (text or "").split(","):
            if not item.strip():
                continue
            name, sep, number = item.partition("=")
            name = name.strip()
            if not sep or name not in values:
                raise PlanError(
                    f"--mix: {item.strip()!r} is not NAME=NUMBER with NAME in {', '.join(values)}"
                )
            try:
                values[name] = float(number)
            except ValueError:
                raise PlanError(f"--mix: {name}: {number.strip()!r} is not a number") from None
            if not 0 <= values[name] <= 1:
                raise PlanError(f"--mix: {name}: {values[name]:g} is not between 0 and 1")
        if values["pull"] + values["push"] <= 0:
            raise PlanError("--mix: pull and push are both 0")
        if sum(values[name] for name in RATES) > 1:
            raise PlanError("--mix: opt + report + event exceeds 1 (they are chances per period)")
        total = values["pull"] + values["push"]
        values["pull"], values["push"] = values["pull"] / total, values["push"] / total
        return cls(**values)

    def is_push(self, index: int) -> bool:
        """Pull and push lower EMAs interleaved evenly, deterministic by index."""
        return int((index + 1) * self.push) > int(index * self.push)

    @property
    def rates(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in RATES}

    def as_dict(self) -> dict[str, float]:
        return {name: round(getattr(self, name), 4) for name in SHARES + RATES}


def allowed_address(host: str) -> bool:
    """Loopback, private (RFC 1918, RFC 4193) or link-local: the user's own test network."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def resolve_target(uri: str) -> tuple[str, int, tuple[str, ...]]:
    """(address, port, base path) of the IUT base URI; PlanError unless every address of the host is
    allowed."""
    try:
        host, port, path = parse_base_uri(uri)
    except PeerError as exc:
        raise PlanError(f"--iut: {exc}") from None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)}
    except OSError as exc:
        raise PlanError(f"--iut: cannot resolve {host!r}: {exc}") from None
    refused = sorted(a for a in addresses if not allowed_address(a))
    if refused:
        raise PlanError(
            f"--iut: {host} resolves to {', '.join(refused)}: load runs only against loopback or "
            "private test-network addresses"
        )
    chosen = sorted(addresses, key=lambda a: ":" in a)[0]  # prefer IPv4
    return chosen, port, path


@dataclass(frozen=True)
class LoadPlan:
    """One load run. ``full_check_emas``: how many lower EMAs get the full checks (default all up to 50, then
    50); ``ramp_s``: spread of the start times (default N/50 s, at most half the duration: a registration is
    five exchanges, so the default keeps the registration burst near 250 exchanges/s)."""

    iut: str
    lower_emas: int
    duration_s: float
    mix: Mix = field(default_factory=Mix)
    seed: int = 0
    timing: Timing = field(default_factory=Timing)
    full_check_emas: int | None = None
    ramp_s: float | None = None
    max_inflight: int = 256
    events_every_s: float | None = None
    leave: bool = True

    def __post_init__(self):
        if not 1 <= self.lower_emas <= MAX_LOWER_EMAS:
            raise PlanError(f"--lower-emas: {self.lower_emas} is not between 1 and {MAX_LOWER_EMAS}")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise PlanError(f"--duration: {self.duration_s:g} s is not in (0, {MAX_DURATION_S:g}]")
        if self.full_check_emas is not None and self.full_check_emas < 0:
            raise PlanError("--full-checks: must be >= 0")
        if self.max_inflight < 1:
            raise PlanError("--max-inflight: must be >= 1")
        if self.ramp_s is not None and self.ramp_s < 0:
            raise PlanError("--ramp: must be >= 0")
        if self.events_every_s is not None and self.events_every_s <= 0:
            raise PlanError("--events-every: must be > 0")

    @property
    def full_checks(self) -> int:
        chosen = 50 if self.full_check_emas is None else self.full_check_emas
        return min(self.lower_emas, chosen)

    @property
    def ramp(self) -> float:
        if self.ramp_s is not None:
            return self.ramp_s
        return min(self.lower_emas / 50, self.duration_s / 2)
