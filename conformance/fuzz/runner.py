"""Driving hypothesis against an IUT that lives on the running event loop.

Hypothesis runs synchronous test functions; the IUT is reached through asyncio. ``fuzz()`` therefore runs the
hypothesis engine in a worker thread (``in_engine_thread``) and each example hands its exchange back to the event
loop with ``asyncio.run_coroutine_threadsafe`` (bounded wait). The loop stays free meanwhile, so the
peer's server side, the taps and the embedded IUT keep working. This works under pytest-asyncio with session
loop scope, where hypothesis' own async support (one loop per example) cannot share the session's peer.

Determinism: ``@seed(budget.seed)``, ``database=None``, no deadline; the same seed draws the same cases as long
as the IUT answers the same way. Budgets: ``examples`` (hypothesis ``max_examples``) and ``seconds`` (checked
between chunks of examples, so a found failure is always shrunk).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky, HypothesisDeprecationWarning, HypothesisException
from hypothesis.internal.conjecture import providers

from .cases import FuzzCase
from .stats import TargetStats

CHUNK = 25
#: Examples per fuzz test of a default run: enough to find and shrink a crash on one field value of a message
#: (tests/fuzz/test_fuzz_fragile.py) while all fuzz tests of a profile stay within about a minute.
DEFAULT_EXAMPLES = 50


@dataclass(frozen=True)
class Budget:
    """How much to fuzz: examples per fuzz test, optional seconds per fuzz test, and the seed."""

    examples: int
    seconds: float | None
    seed: int


@dataclass(frozen=True)
class Finding:
    """The (shrunk) failing case of a fuzz test and what was wrong."""

    case: FuzzCase
    problem: str
    sent: bytes


class CaseFailed(AssertionError):
    def __init__(self, finding: Finding):
        super().__init__(finding.problem)
        self.finding = finding


class Bridge:
    """Runs coroutines on ``loop`` from the hypothesis worker thread, each bounded by ``timeout`` seconds."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float):
        self.loop = loop
        self.timeout = timeout

    def __call__(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)


def hypothesis_settings(budget: Budget, **overrides) -> settings:
    """The settings of every fuzz property: seeded, no database, no deadline, quiet, generate + shrink."""
    return settings(max_examples=budget.examples, database=None, deadline=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
                    report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False, **overrides)


async def in_engine_thread(run) -> None:
    """Run the hypothesis engine ``run`` in a worker thread, drawing from the suite's strategies only.

    While it draws a case, aiocoap on the event loop (retransmission timers) may use the global ``random``, which
    hypothesis would take for a strategy using it and warn about; that warning is switched off (the filter is
    process-wide and outlives the call)."""
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies",
                            category=HypothesisDeprecationWarning)
    with _no_local_constants():
        await asyncio.to_thread(run)


@contextlib.contextmanager
def _no_local_constants():
    """hypothesis mixes constants found in the source of every loaded module outside site-packages into one
    draw in twenty: what a seed draws would then depend on which modules a run happened to import and on how
    the suite is installed. For the duration of a fuzz run it gets none (hypothesis internals, pinned version;
    without them the run stays correct, only less reproducible across runs importing other modules)."""
    get, cache = getattr(providers, "_get_local_constants", None), getattr(providers, "CONSTANTS_CACHE", None)
    if get is None or cache is None:
        yield
        return
    empty = type(providers._local_constants)()
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = get
        cache.cache.clear()


async def fuzz(strategy, target, budget: Budget, stats: TargetStats, *, timeout: float) -> Finding | None:
    """Run ``budget.examples`` cases drawn from ``strategy`` against ``target`` (``check(case)``: the case, then
    the liveness probe); the shrunk failing case, or None.

    With a seconds budget the examples run in chunks of CHUNK (one hypothesis run each, seeded ``seed + chunk
    number``) until the examples or the seconds are spent; without one, in a single run."""
    bridge = Bridge(asyncio.get_running_loop(), timeout)
    started = time.monotonic()
    remaining = budget.examples
    chunk = 0
    try:
        while remaining > 0:
            size = remaining if budget.seconds is None else min(CHUNK, remaining)
            finding = await _run_chunk(strategy, target, bridge, Budget(size, None, budget.seed + chunk), stats)
            if finding is not None:
                stats.failures += 1
                return finding
            remaining -= size
            chunk += 1
            if budget.seconds is not None and time.monotonic() - started >= budget.seconds:
                break
    finally:
        stats.examples = sum(stats.cases.values())
        stats.duration_s = time.monotonic() - started
    return None


async def _run_chunk(strategy, target, bridge: Bridge, budget: Budget, stats: TargetStats) -> Finding | None:
    found: list[Finding] = []

    def body(case: FuzzCase) -> None:
        outcome, problem = bridge(target.check(case))  # the case and the liveness probe: one hand-over
        stats.cases[case.label] += 1
        stats.answers[outcome.answer_key] += 1
        if problem:
            finding = Finding(case, problem, outcome.sent)
            found.append(finding)
            raise CaseFailed(finding)

    prop = hypothesis_settings(budget)(hypothesis_seed(budget.seed)(given(strategy)(body)))
    try:
        await in_engine_thread(prop)
    except CaseFailed as exc:
        return exc.finding
    except (Flaky, HypothesisException, BaseExceptionGroup):
        if not found:
            raise
        return found[-1]
    return None
