"""Running one fuzz test case against an upper-EMA or a lower-EMA IUT: fuzz within the budget, or replay a saved
case.

A failure raises ``Fail`` whose reason is the problem (requirement id first) followed by the one-line command that
replays the saved, shrunk case.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from functools import partial

from conformance.fuzz import replay
from conformance.fuzz.cases import FuzzCase
from conformance.fuzz.lowermachine import LowerProcedureModel, fuzz_lower_sequences
from conformance.fuzz.lowertarget import LowerBounds, LowerTarget
from conformance.fuzz.machine import ProcedureModel, fuzz_sequences
from conformance.fuzz.runner import Budget, Finding, fuzz
from conformance.fuzz.target import UpperTarget
from conformance.peer import LowerPeer
from conformance.verdict import Fail, Inconclusive

UPPER_ROLES = 'role in ("upper", "intermediate")'
LOWER_PUSH = 'role in ("lower", "intermediate") and mode == "push"'
LOWER_PULL = 'role in ("lower", "intermediate") and mode == "pull"'
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


@asynccontextmanager
async def lower_target(link, profile):
    """A started ``LowerTarget`` on the test's link to the (registered) lower-EMA IUT; stopped at the end."""
    await link.registered()
    bounds = LowerBounds(poll=link.poll_period + link.prompt, answer=link.prompt + link.exchange_timeout,
                         exchange=link.exchange_timeout, silence=link.timing.ack_timeout_s,
                         hold=link.timing.ack_timeout_s)
    target = LowerTarget(link.peer, reregister=partial(_register_again, link), bounds=bounds,
                         max_payload=int(profile.pics.get("max_payload", 65536)))
    try:
        await target.start()
        yield target
    finally:
        await target.stop()


async def _register_again(link) -> None:
    """After a case ended the registration: the create-registration stimulus, then the IUT's post-registration
    exchanges (Inconclusive when the IUT does not register)."""
    await link.act("create-registration", {})
    if not await link.peer.wait_for(lambda: link.peer.registered, link.prompt + link.exchange_timeout):
        raise Inconclusive("the IUT did not register again on the create-registration stimulus")
    await link.settled()


async def replay_cases(target, saved: dict) -> None:
    """Re-run the saved cases in order (each followed by the liveness probe); Fail at the first wrong answer."""
    for data in saved.get("cases", []):
        outcome = await target.run(FuzzCase.from_dict(data))
        problem = outcome.problem or await target.probe()
        if problem:
            raise Fail(f"{problem} (replayed {saved['test']})")


async def fuzz_upper(strategy, *, emap_case, emap_run, fuzz_budget, fuzz_stats, iut, trace, timing, profile):
    """The body of a message/state/CoAP fuzz test against an upper-EMA IUT."""
    await _fuzz_target(upper_target(iut, trace, timing, profile), strategy, emap_case=emap_case, emap_run=emap_run,
                       fuzz_budget=fuzz_budget, fuzz_stats=fuzz_stats, trace=trace, timeout=step_timeout(timing))


async def fuzz_lower(strategy, *, emap_case, emap_run, fuzz_budget, fuzz_stats, link, profile):
    """The body of a message/state/poll-reply/CoAP fuzz test against a lower-EMA IUT."""
    timeout = step_timeout(link.timing) + 2 * link.answer_timeout  # a case may end in a re-registration
    await _fuzz_target(lower_target(link, profile), strategy, emap_case=emap_case, emap_run=emap_run,
                       fuzz_budget=fuzz_budget, fuzz_stats=fuzz_stats, trace=link.trace, timeout=timeout)


async def _fuzz_target(started, strategy, *, emap_case, emap_run, fuzz_budget, fuzz_stats, trace, timeout):
    saved = replay.requested(emap_case.id)
    async with started as target:
        if saved is not None:
            await replay_cases(target, saved)
            return
        stats = fuzz_stats.target(emap_case.id)
        finding = await fuzz(strategy, target, budget_of(fuzz_budget), stats, timeout=timeout)
        trace.note(f"fuzz: {stats.examples} cases, answers {dict(stats.answers)}")
        history = list(target.history)[:-1]
    if finding is not None:
        raise report_finding(finding, case_id=emap_case.id, emap_run=emap_run, stats=fuzz_stats, history=history)


async def fuzz_sequences_upper(*, emap_case, emap_run, fuzz_budget, fuzz_stats, iut, trace, timing):
    """The body of the procedure-sequence fuzz test: the state machine, or the replay of saved steps."""
    peer = LowerPeer(trace=trace, timing=timing, iut_uri=iut.base_uri, name="fuzz-seq")
    model = ProcedureModel(peer)
    try:
        await peer.start()
        await peer.serve()
        found = await _sequences(model, partial(fuzz_sequences, model), emap_case=emap_case,
                                 fuzz_budget=fuzz_budget, fuzz_stats=fuzz_stats, trace=trace,
                                 timeout=step_timeout(timing))
    finally:
        await peer.stop()
    _report_sequence(found, case_id=emap_case.id, emap_run=emap_run, fuzz_stats=fuzz_stats)


async def fuzz_sequences_lower(*, emap_case, emap_run, fuzz_budget, fuzz_stats, link, profile):
    """The body of the procedure-sequence fuzz test against a push-mode lower-EMA IUT: the state machine, or the
    replay of saved steps, on the test's link."""
    timing = link.timing
    # a step may wait for a stimulus, the IUT's request and its follow-up, a re-registration and its settling
    timeout = step_timeout(timing) + 4 * link.answer_timeout + link.stimulus.timeout_s
    async with lower_target(link, profile) as target:
        model = LowerProcedureModel(target, partial(_stimulus_status, link.stimulus),
                                    lifetime=timing.exchange_lifetime - timing.tolerance_s)
        try:
            found = await _sequences(model, partial(fuzz_lower_sequences, model), emap_case=emap_case,
                                     fuzz_budget=fuzz_budget, fuzz_stats=fuzz_stats, trace=link.trace,
                                     timeout=timeout)
        finally:
            await model.clear()  # the clause test cases that follow see none of the machine's events
    _report_sequence(found, case_id=emap_case.id, emap_run=emap_run, fuzz_stats=fuzz_stats)


async def _stimulus_status(stimulus, action: str, args: dict) -> str:
    return (await stimulus.stimulate(action, {"role": "lower", **args})).status


async def _sequences(model, fuzz_call, *, emap_case, fuzz_budget, fuzz_stats, trace, timeout):
    """Replay the saved steps (Fail at the first problem), or fuzz: the shrunk failing sequence or None."""
    saved = replay.requested(emap_case.id)
    if saved is not None:
        problem = await model.replay(saved.get("steps", []))
        if problem:
            raise Fail(f"{problem} (replayed {saved['test']})")
        return None
    stats = fuzz_stats.target(emap_case.id)
    found = await fuzz_call(budget_of(fuzz_budget), stats, timeout=timeout)
    trace.note(f"fuzz: {stats.examples} procedure steps")
    return found


def _report_sequence(found, *, case_id, emap_run, fuzz_stats) -> None:
    if found is not None:
        finding, steps = found
        raise report_finding(finding, case_id=case_id, emap_run=emap_run, stats=fuzz_stats, steps=steps)
