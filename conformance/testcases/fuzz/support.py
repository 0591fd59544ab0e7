"""Running one fuzz test case against an upper-EMA IUT: fuzz within the budget, or replay a saved case.

A failure raises ``Fail`` whose reason is the problem (requirement id first) followed by the one-line command that
replays the saved, shrunk case.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from conformance.fuzz import replay
from conformance.fuzz.cases import FuzzCase
from conformance.fuzz.machine import ProcedureModel, fuzz_sequences
from conformance.fuzz.runner import Budget, Finding, fuzz
from conformance.fuzz.target import UpperTarget
from conformance.peer import LowerPeer
from conformance.verdict import Fail

UPPER_ROLES = 'role in ("upper", "intermediate")'
PROBLEM_LIMIT = 220


def budget_of(fuzz_budget) -> Budget:
    return Budget(fuzz_budget.examples, fuzz_budget.seconds, fuzz_budget.seed)


def step_timeout(timing) -> float:
    """Bound of one case in the worker thread: the case's exchange, the liveness probe, a re-registration."""
    return 4 * (timing.max_transmit_wait + timing.tolerance_s) + 5


@asynccontextmanager
async def upper_target(iut, trace, timing, profile):
    """A started ``UpperTarget`` with its own registered lower EMA; stopped at the end."""
    peer = LowerPeer(trace=trace, timing=timing, iut_uri=iut.base_uri, name="fuzz")
    target = UpperTarget(peer, max_payload=int(profile.pics.get("max_payload", 65536)),
                         silence_s=timing.ack_timeout_s)
    try:
        await target.start()
        yield target
    finally:
        await target.stop()
        await peer.stop()


def report_finding(finding: Finding, *, case_id: str, emap_run, stats, history=(), steps=None) -> Fail:
    """Save the replay file (the cases that led to the failure, the shrunk failing one last), record the finding,
    and the Fail to raise (problem | replay command)."""
    profile = str(emap_run.profile.path or emap_run.profile.name)  # what --replay loads the profile from
    cases = None if steps is not None else [case.to_dict() for case in (*history, finding.case)]
    path = replay.save(emap_run.settings.report_dir, case_id, profile=profile, seed=emap_run.settings.seed,
                       problem=finding.problem, sent=finding.sent, cases=cases, steps=steps)
    line = replay.command(path)
    stats.findings.append({"test": case_id, "detail": finding.problem, "replay": line})
    problem = finding.problem if len(finding.problem) <= PROBLEM_LIMIT else finding.problem[:PROBLEM_LIMIT] + "..."
    return Fail(f"{problem} | replay: {line}")


async def replay_cases(target: UpperTarget, saved: dict) -> None:
    """Re-run the saved cases in order (each followed by the liveness probe); Fail at the first wrong answer."""
    for data in saved.get("cases", []):
        outcome = await target.run(FuzzCase.from_dict(data))
        problem = outcome.problem or await target.probe()
        if problem:
            raise Fail(f"{problem} (replayed {saved['test']})")


async def fuzz_upper(strategy, *, emap_case, emap_run, fuzz_budget, fuzz_stats, iut, trace, timing, profile):
    """The body of a message/state/CoAP fuzz test against an upper-EMA IUT."""
    saved = replay.requested(emap_case.id)
    async with upper_target(iut, trace, timing, profile) as target:
        if saved is not None:
            await replay_cases(target, saved)
            return
        stats = fuzz_stats.target(emap_case.id)
        finding = await fuzz(strategy, target, budget_of(fuzz_budget), stats, timeout=step_timeout(timing))
        trace.note(f"fuzz: {stats.examples} cases, answers {dict(stats.answers)}")
        history = list(target.history)[:-1]
    if finding is not None:
        raise report_finding(finding, case_id=emap_case.id, emap_run=emap_run, stats=fuzz_stats, history=history)


async def fuzz_sequences_upper(*, emap_case, emap_run, fuzz_budget, fuzz_stats, iut, trace, timing):
    """The body of the procedure-sequence fuzz test: the state machine, or the replay of saved steps."""
    saved = replay.requested(emap_case.id)
    peer = LowerPeer(trace=trace, timing=timing, iut_uri=iut.base_uri, name="fuzz-seq")
    model = ProcedureModel(peer)
    try:
        await peer.start()
        await peer.serve()
        if saved is not None:
            problem = await model.replay(saved.get("steps", []))
            if problem:
                raise Fail(f"{problem} (replayed {saved['test']})")
            return
        stats = fuzz_stats.target(emap_case.id)
        found = await fuzz_sequences(model, budget_of(fuzz_budget), stats, timeout=step_timeout(timing))
        trace.note(f"fuzz: {stats.examples} procedure steps")
    finally:
        await peer.stop()
    if found is not None:
        finding, steps = found
        raise report_finding(finding, case_id=emap_case.id, emap_run=emap_run, stats=fuzz_stats, steps=steps)
