"""A sample upper EMA and a sample lower EMA run against each other in-process, every datagram between them
recorded by WireTaps in one Trace (imported by the ema_pair tests).

Direction in the trace: ``to-iut`` is towards the upper EMA (sent by L), ``from-iut`` away from it (sent by U):
the tap in front of the upper EMA relays ``to-iut``, the one in front of a push-mode lower EMA's resources
``from-iut``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.main import RunningEma
from conformance.ema.stimulate import stimulate
from conformance.transport.ports import unshared_port
from conformance.transport.tap import WireTap
from conformance.transport.trace import FROM_IUT, TO_IUT, Trace, TraceRecord

FAST = dict(t_prompt=2.0, poll_freq=1.0, ack_timeout=0.3, ack_random_factor=1.0, max_retransmit=1,
            backoff_initial=0.5, backoff_cap=2.0)
TOLERANCE_S = 1.0
HOST = "127.0.0.1"
TRACE_POLL_S = 0.02
"""How often a wait looks at the trace again (the trace has no change notification)."""


def sender_of(record: TraceRecord) -> str:
    """"L" for a datagram towards the upper EMA, "U" for one away from it."""
    return "L" if record.direction == TO_IUT else "U"


def _config(role: str, **extra) -> EmaConfig:
    return EmaConfig(role=role, bind=Endpoint(HOST, 0, ("emap",)), control=Endpoint(HOST, 0),
                     vtn_id=f"vtn-{role}", **FAST, **extra)


@dataclass
class Pair:
    """Both EMAs, their taps and the trace; ``mode`` is the lower EMA's registration mode."""

    mode: str
    trace: Trace = field(default_factory=lambda: Trace("ema-pair"))
    upper: RunningEma | None = None
    lower: RunningEma | None = None
    taps: list[WireTap] = field(default_factory=list)

    @property
    def bound(self) -> float:
        """Longest wait for one procedure step: a poll period, T_PROMPT, an exchange with a separate response
        (EMAP-7.1.1-03) and the binding's 1 s measurement tolerance."""
        config = self.upper.config
        return config.poll_freq + config.t_prompt + 2 * config.max_transmit_wait + TOLERANCE_S

    async def start(self) -> None:
        self.upper = RunningEma(_config("upper"))
        await self.upper.start()
        upper_tap = await self._tap((HOST, urlsplit(self.upper.ready["upper"]).port), TO_IUT)
        extra = {"upper": f"coap://{upper_tap.uri_authority}/emap", "mode": self.mode}
        if self.mode == "push":
            port = unshared_port(HOST)
            lower_tap = await self._tap((HOST, port), FROM_IUT)
            extra.update(lower_bind=Endpoint(HOST, port, ("emapl",)),
                         transport_address=f"coap://{lower_tap.uri_authority}/emapl")
        self.lower = RunningEma(_config("lower", **extra))
        await self.lower.start()

    async def _tap(self, target: tuple[str, int], towards: str) -> WireTap:
        tap = await WireTap.start(target=target, trace=self.trace, listen=(HOST, 0), towards_target=towards)
        self.taps.append(tap)
        return tap

    async def stop(self) -> None:
        for running in (self.lower, self.upper):
            if running is not None:
                await running.stop()
        for tap in self.taps:
            await tap.stop()

    async def act(self, side: str, action: str, args: dict | None = None) -> None:
        """Run a stimulus action through the EMA's control resource (as the stimulus adaptor does)."""
        running = self.upper if side == "U" else self.lower
        status, detail = await stimulate(running.ready["control"], action, args or {}, timeout=self.bound)
        assert status == "accepted", f"{side} {action} {args}: {status}: {detail}"

    def mark(self) -> int:
        """Position in the trace: what a step causes is looked for after it."""
        return len(self.trace.records)

    async def expect(self, since: int, steps: list[tuple[str, str]], what: str) -> None:
        """Wait until the messages ``steps`` ((sender, message name), in this order, others in between allowed)
        appear in the trace after record ``since``, each within ``bound`` of the previous one."""
        deadline = time.monotonic() + self.bound * max(1, len(steps))
        while True:
            found, missing = _subsequence(self.trace, since, steps)
            if missing is None:
                return
            if time.monotonic() > deadline:
                seen = [(sender_of(r), m.name) for r, m in self.trace.messages() if r.seq >= since]
                raise AssertionError(f"{what}: {missing} not seen after {found}; trace since: {seen}")
            await asyncio.sleep(TRACE_POLL_S)


def _subsequence(trace: Trace, since: int, steps: list[tuple[str, str]]):
    """(steps matched, first step missing or None) matching ``steps`` in order against the trace's messages."""
    wanted = iter(steps)
    step = next(wanted, None)
    matched = []
    for record, message in trace.messages():
        if step is None:
            break
        if record.seq >= since and (sender_of(record), message.name) == step:
            matched.append(step)
            step = next(wanted, None)
    return matched, step
