"""What the procedure-sequence fuzzers of both IUT roles share (TC-F-SEQ, TC-F-LSEQ): steps as data
(``{"rule", "args"}``) run by a ``SequenceModel``, a hypothesis ``RuleBasedStateMachine`` base whose invariant is
the model's liveness probe, and ``run_sequences``, which runs a machine within a budget and returns the shrunk
failing sequence.
"""

from __future__ import annotations

import asyncio
import time

from hypothesis import seed as hypothesis_seed
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, run_state_machine_as_test

from .runner import CHUNK, Bridge, Budget, Finding, hypothesis_settings, in_engine_thread


class StepFailed(AssertionError):
    pass


class SequenceModel:
    """Steps as data: ``step(name, args)`` runs ``self._<name>(**args)`` (hyphens as underscores), counts it and
    keeps every failing step with the steps so far; ``replay()`` re-runs saved steps from ``reset()``."""

    def __init__(self):
        self.steps: list[dict] = []
        self.failures: list[tuple[str, list[dict]]] = []
        self.stats = None  # a TargetStats counting steps while fuzzing

    async def reset(self) -> None:
        self.steps = []

    async def probe(self) -> str | None:
        raise NotImplementedError

    async def step(self, name: str, args: dict) -> str | None:
        self.steps.append({"rule": name, "args": args})
        problem = await getattr(self, f"_{name.replace('-', '_')}")(**args)
        if self.stats is not None:
            self.stats.cases[f"step:{name}"] += 1
            self.stats.answers["wrong" if problem else "as modelled"] += 1
        if problem:
            self.failures.append((problem, list(self.steps)))
        return problem

    async def replay(self, steps: list[dict]) -> str | None:
        """Re-run saved steps from ``reset()``; the first problem (a step's or the liveness probe's)."""
        await self.reset()
        for item in steps:
            problem = await self.step(item["rule"], item.get("args", {})) or await self.probe()
            if problem:
                return problem
        return None


def procedures(model: SequenceModel, bridge: Bridge) -> type[RuleBasedStateMachine]:
    """The base of a machine driving ``model`` through ``bridge``: every sequence starts from ``reset()``, every
    step is followed by the liveness probe; subclasses add the rules, each calling ``self._do(name, **args)``."""

    class Procedures(RuleBasedStateMachine):
        def _do(self, name: str, **args) -> None:
            problem = bridge(model.step(name, args))
            if problem:
                raise StepFailed(problem)

        @initialize()
        def start(self):
            bridge(model.reset())

        @invariant()
        def alive(self):
            problem = bridge(model.probe())
            if problem:
                raise StepFailed(problem)

    return Procedures


async def run_sequences(machine_class, model: SequenceModel, budget: Budget, stats, *, timeout: float,
                        steps: int) -> tuple[Finding, list[dict]] | None:
    """Run ``budget.examples`` sequences of the machine ``machine_class(model, bridge)`` (at most ``steps`` steps
    each); the shrunk failing sequence and its steps, or None. A seconds budget is checked between chunks of
    CHUNK sequences (as in ``runner.fuzz``)."""
    machine = machine_class(model, Bridge(asyncio.get_running_loop(), timeout))
    started = time.monotonic()
    remaining, chunk = budget.examples, 0
    model.stats = stats
    try:
        while remaining > 0:
            size = remaining if budget.seconds is None else min(CHUNK, remaining)
            found = await _run_machine(machine, model, Budget(size, None, budget.seed + chunk), steps)
            if found is not None:
                stats.failures += 1
                return found
            remaining, chunk = remaining - size, chunk + 1
            if budget.seconds is not None and time.monotonic() - started >= budget.seconds:
                break
    finally:
        model.stats = None
        stats.examples = sum(stats.cases.values())
        stats.duration_s = time.monotonic() - started
    return None


async def _run_machine(machine, model: SequenceModel, budget: Budget, steps: int):
    def run() -> None:
        run_state_machine_as_test(hypothesis_seed(budget.seed)(machine),
                                  settings=hypothesis_settings(budget, stateful_step_count=steps))

    model.failures = []
    try:
        await in_engine_thread(run)
    except StepFailed as exc:  # the last run is hypothesis' replay of the shrunk sequence
        return Finding(None, str(exc), b""), list(model.steps)
    except Exception:
        if not model.failures:
            raise
        problem, steps_taken = model.failures[-1]
        return Finding(None, problem, b""), steps_taken
    return None
