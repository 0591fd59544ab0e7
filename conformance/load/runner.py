"""Runs a load plan: N simulated lower EMAs against an upper-EMA IUT for a bounded time; returns the ``load``
section of results.json (see docs/load.md for its shape)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections import Counter, defaultdict

from conformance.load.checks import Checker
from conformance.load.plan import LoadPlan, resolve_target
from conformance.load.simulated import PushSite, Shared, SimulatedLower
from conformance.load.stats import LoadStats
from conformance.messages import build as B
from conformance.peer.base import PeerError
from conformance.transport import TransmissionParams

SETTLE_S = 1.0
PREFLIGHT_S = 15.0


class IutUnreachable(RuntimeError):
    """No exchange with the IUT succeeded."""


def transmission(timing) -> TransmissionParams:
    return TransmissionParams(timing.ack_timeout_s, timing.ack_random_factor, timing.max_retransmit)


class LoadRun:
    """Build with a plan, ``await run()`` once; ``members`` are the simulated lower EMAs."""

    def __init__(self, plan: LoadPlan, *, stimulus=None, progress=None):
        self.plan = plan
        self.stimulus = stimulus
        self.progress = progress or (lambda text: None)
        self.members: list[SimulatedLower] = []
        self.stimuli: dict[str, Counter] = defaultdict(Counter)
        self.measured_s: float | None = None  # time from the first start to the stop signal

    async def run(self) -> dict:
        plan = self.plan
        host, port, path = resolve_target(plan.iut)
        rng = random.Random(plan.seed)
        shared = Shared(
            target=(host, port),
            base_path=path,
            timing=plan.timing,
            checker=Checker(),
            stats=LoadStats(plan.seed),
            inflight=asyncio.Semaphore(plan.max_inflight),
            stop=asyncio.Event(),
            rates=plan.mix.rates,
            ends_at=plan.duration_s,
        )
        pushes = [plan.mix.is_push(i) for i in range(plan.lower_emas)]
        if any(pushes):
            local = "::1" if ":" in host else "127.0.0.1"
            shared.push = await PushSite.start(local, transmission(plan.timing))
        run_tag = secrets.token_hex(2)
        wall_start = time.time()
        try:
            for index, push in enumerate(pushes):
                member = SimulatedLower(
                    index,
                    shared,
                    pull=not push,
                    full_check=index < plan.full_checks,
                    rng=random.Random(rng.getrandbits(64)),
                    run_tag=run_tag,
                )
                await member.start()
                self.members.append(member)
            await self._preflight(self.members[0])
            self.progress(f"{len(self.members)} simulated lower EMAs ({sum(pushes)} push) against {plan.iut}")
            await self._drive(shared)
        finally:
            for member in self.members:
                await member.stop()
            if shared.push is not None:
                await shared.push.stop()
        return self.section(shared, wall_start, time.time())

    async def _drive(self, shared: Shared) -> None:
        plan = self.plan
        count = len(self.members)
        lives = [
            asyncio.create_task(self._staggered(member, plan.ramp * i / count))
            for i, member in enumerate(self.members)
        ]
        helpers = [asyncio.create_task(self._events(shared))] if self.stimulus and plan.events_every_s else []
        await asyncio.sleep(plan.duration_s)
        shared.stop.set()
        self.measured_s = shared.stats.stop_at = shared.now()
        grace = plan.timing.max_transmit_wait + plan.timing.tolerance_s + SETTLE_S
        await _finish(lives + helpers, grace)
        if plan.leave:
            await _finish([asyncio.create_task(member.leave()) for member in self.members], grace)

    async def _preflight(self, member: SimulatedLower) -> None:
        """One `emapQueryRegistration` (changes nothing at U, EMAP-6.2.2) before the building starts, so an
        unreachable IUT is reported at once instead of after every lower EMA's retransmissions."""
        try:
            await member.post(
                "EiRegisterParty",
                B.query_registration(member.ids("q")),
                timeout=min(member.exchange_timeout, PREFLIGHT_S),
            )
        except PeerError as exc:
            raise IutUnreachable(f"{self.plan.iut} does not answer: {exc}") from None

    async def _staggered(self, member: SimulatedLower, delay: float) -> None:
        await member.pause(delay)
        await member.live()

    async def _events(self, shared: Shared) -> None:
        """Ask the IUT (stimulus adaptor) to create an event for a random registered lower EMA,
        periodically."""
        rng = random.Random(self.plan.seed + 1)
        while not shared.stop.is_set():
            await asyncio.sleep(self.plan.events_every_s)
            registered = [m for m in self.members if m.registered]
            if not registered:
                continue
            target = rng.choice(registered)
            outcome = await self.stimulus.stimulate(
                "create-event", {"venID": target.ven_id, "responseRequired": "always", "startAfter_s": 600}
            )
            self.stimuli["create-event"][outcome.status] += 1

    def section(self, shared: Shared, started: float, finished: float) -> dict:
        """The ``load`` section: plan, population, measurements and violations."""
        plan = self.plan
        measured = self.measured_s if self.measured_s is not None else shared.now()
        figures = shared.stats.summary(measured)
        registered = sum(1 for m in self.members if m.registrations)
        if figures["exchanges"] and not any(
            outcome.startswith("2.") for r in figures["resources"].values() for outcome in r["outcomes"]
        ):
            raise IutUnreachable(f"no exchange with {plan.iut} succeeded ({figures['exchanges']} tried)")
        return {
            "iut": plan.iut,
            "lower_emas": plan.lower_emas,
            "push_emas": sum(plan.mix.is_push(i) for i in range(plan.lower_emas)),
            "mix": plan.mix.as_dict(),
            "seed": plan.seed,
            "duration_s": round(measured, 3),
            "wall_s": round(finished - started, 3),
            "ramp_s": round(plan.ramp, 3),
            "max_inflight": plan.max_inflight,
            "full_check_emas": plan.full_checks,
            "registered": registered,
            "registrations": sum(m.registrations for m in self.members),
            "never_registered": plan.lower_emas - registered,
            **figures,
            "simulator_errors": sum(m.internal_errors for m in self.members),
            "stimuli": {action: dict(counter) for action, counter in self.stimuli.items()},
            "violations": shared.checker.summary(),
        }


async def _finish(tasks: list[asyncio.Task], grace: float) -> None:
    """Wait up to ``grace`` s for ``tasks``, then cancel the rest."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()


async def run_load(plan: LoadPlan, *, stimulus=None, progress=None) -> dict:
    """Run ``plan``; the ``load`` section (raises PlanError for a bad plan, IutUnreachable)."""
    return await LoadRun(plan, stimulus=stimulus, progress=progress).run()
