"""The lower-EMA procedure-sequence machine (TC-F-LSEQ) against the sample lower EMA in-process: it passes the
sample, finds and shrinks the bug of each variant to one step, reports it with a replay line whose file re-runs
(EMAP_FUZZ_REPLAY), and draws the same steps for the same seed."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import pytest
from fuzz_ema_helpers import started_lower_target, stop_lower_target

from conformance.ema.lower import LowerEma
from conformance.fuzz import replay
from conformance.fuzz.lowermachine import LowerProcedureModel, fuzz_lower_sequences
from conformance.fuzz.runner import DEFAULT_EXAMPLES, Budget
from conformance.fuzz.stats import FuzzStats, TargetStats
from conformance.profiles import load_profile
from conformance.testcases.fuzz.support import _report_sequence, _sequences
from conformance.verdict import Fail

TIMING = load_profile("lower-push").timing
TIMEOUT = 30
CASE = SimpleNamespace(id="TC-F-LSEQ")


class RenewingLower(LowerEma):
    """Answers emapRequestReregistration 200, then registers anew without its registrationID (breaks
    EMAP-6.2.5-03)."""

    def process(self, message):
        reply, after = super().process(message)
        if message.name == "emapRequestReregistration" and after is not None:
            after = partial(self.register, pull=self.link.pull)
        return reply, after


class EagerLower(LowerEma):
    """Answers every event of an emapDistributeEvent, also those with emapResponseRequired never (breaks
    EMAP-6.3.2-07)."""

    def process(self, message):
        if message.name == "emapDistributeEvent":
            for event in message.body["emapEvent"]:
                event["emapResponseRequired"] = "always"
        return super().process(message)


MUTANTS = {
    "reregistration": (RenewingLower, "EMAP-6.2.5-03: the re-registration carries",
                       [{"rule": "request-reregistration", "args": {"own": True}}]),
    "event-responses": (EagerLower, "EMAP-6.3.2-07: expected 2.04 with emapResponse",
                        [{"rule": "distribute", "args": {"change": "new", "pick": 0, "always": False, "intervals": 1,
                                                         "number": 0}}]),
}


async def _model(lower_class=LowerEma, monkeypatch=None):
    target, ema = await started_lower_target("push", lower_class, monkeypatch)

    async def stimulate(action: str, args: dict) -> str:
        status, _ = await ema.agent.stimulate(action, args)
        return status

    return LowerProcedureModel(target, stimulate, lifetime=TIMING.exchange_lifetime - TIMING.tolerance_s), ema


def _recording(model: LowerProcedureModel) -> list[dict]:
    """Every step the model runs, across sequences."""
    seen: list[dict] = []
    step = model.step

    async def recorded(name, args):
        seen.append({"rule": name, "args": args})
        return await step(name, args)

    model.step = recorded
    return seen


async def test_sample_lower_passes_every_kind_of_step():
    model, ema = await _model()
    try:
        stats = TargetStats("seq")
        found = await fuzz_lower_sequences(model, Budget(DEFAULT_EXAMPLES, None, 0), stats, timeout=TIMEOUT)
    finally:
        await stop_lower_target(model.target, ema)
    assert found is None, found[0].problem
    rules = {label.removeprefix("step:") for label in stats.cases}
    assert rules == {"distribute", "create-report", "cancel-report", "register-report", "update-report",
                     "request-reregistration", "cancel-registration", "stimulus", "repeat"}
    assert set(stats.answers) == {"as modelled"}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
async def test_bug_found_shrunk_and_replayed(mutant, monkeypatch, tmp_path):
    lower_class, problem, shrunk = MUTANTS[mutant]
    model, ema = await _model(lower_class, monkeypatch)
    try:
        found = await fuzz_lower_sequences(model, Budget(DEFAULT_EXAMPLES, None, 0), TargetStats("seq"),
                                           timeout=TIMEOUT)
        assert found is not None
        finding, steps = found
        assert finding.problem.startswith(problem), finding.problem
        assert steps == shrunk
        run = SimpleNamespace(profile=SimpleNamespace(path=None, name="lower-push"),
                              settings=SimpleNamespace(report_dir=tmp_path, seed=0))
        with pytest.raises(Fail, match=r" \| replay: emap-conformance run --replay ") as failed:
            _report_sequence(found, case_id=CASE.id, emap_run=run, fuzz_stats=FuzzStats(0, DEFAULT_EXAMPLES, None))
        path = str(failed.value).rsplit("--replay ", 1)[1]
        assert replay.load(path)["steps"] == steps
        monkeypatch.setenv(replay.REPLAY_ENV, path)
        with pytest.raises(Fail, match=r"\(replayed TC-F-LSEQ\)$") as replayed:
            await _sequences(model, None, emap_case=CASE, fuzz_budget=None, fuzz_stats=None, trace=None,
                             timeout=TIMEOUT)
    finally:
        await stop_lower_target(model.target, ema)
    assert str(failed.value).startswith(problem) and str(replayed.value).startswith(problem)


async def test_same_seed_same_steps():
    model, ema = await _model()
    try:
        seen = _recording(model)
        runs = []
        for _ in range(2):
            seen.clear()
            assert await fuzz_lower_sequences(model, Budget(4, None, 7), TargetStats("seq"), timeout=TIMEOUT) is None
            runs.append(list(seen))
    finally:
        await stop_lower_target(model.target, ema)
    assert runs[0] == runs[1] and len(runs[0]) > 4
