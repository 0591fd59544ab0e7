"""Fuzzing the sample upper EMA in-process with small budgets: content, state rules, CoAP options, sequences;
and a saved failing case replays."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import EMA_ARGS, started_target, stop_target
from test_fuzz_fragile import FragileUpper

from conformance.ema import main as ema_main
from conformance.ema.main import RunningEma, config_from_args
from conformance.ema.role import SingleRoleAgent
from conformance.fuzz import replay, strategies
from conformance.fuzz.cases import FuzzCase
from conformance.fuzz.machine import ProcedureModel, fuzz_sequences
from conformance.fuzz.runner import Budget, fuzz
from conformance.fuzz.stats import FuzzStats, TargetStats

SMALL = Budget(15, None, 0)


@pytest.mark.parametrize("strategy", [
    strategies.message_cases("emapCreatePartyRegistration"),
    strategies.message_cases("emapCreateOpt"),
    strategies.message_cases("emapCreatedReport"),
    strategies.state_cases(),
    strategies.coap_cases("options"),
], ids=["create-registration", "create-opt", "created-report", "state", "coap-options"])
async def test_sample_ema_survives(target, strategy):
    stats = TargetStats("t")
    finding = await fuzz(strategy, target, SMALL, stats, timeout=30)
    assert finding is None, finding.problem
    assert stats.examples >= SMALL.examples and not stats.failures


async def test_procedure_sequences_match_the_model(target):
    stats = TargetStats("seq")
    found = await fuzz_sequences(ProcedureModel(target.peer), Budget(8, None, 0), stats, timeout=30)
    assert found is None, found[0].problem
    assert sum(v for k, v in stats.cases.items() if k.startswith("step:")) > 8


async def test_seconds_budget_stops_sending(target):
    stats = TargetStats("t")
    await fuzz(strategies.message_cases("emapPoll"), target, Budget(10_000, 0.5, 0), stats, timeout=30)
    assert stats.examples < 10_000


def test_stats_shape():
    stats = FuzzStats(7, 25, None)
    one = stats.target("TC-F-X")
    one.cases["valid:emapPoll"] += 2
    one.answers["2.04/200"] += 2
    data = stats.as_dict()
    assert data["seed"] == 7 and data["cases_sent"] == 2
    assert data["cases_by_type"] == [{"type": "valid:emapPoll", "cases": 2}]
    assert data["targets"][0]["name"] == "TC-F-X"


async def test_saved_case_replays_against_a_fresh_iut(tmp_path, monkeypatch, timing):
    monkeypatch.setattr(ema_main, "build_agent", lambda config: SingleRoleAgent(FragileUpper(config),
                                                                                config.bind.path))
    case = FuzzCase("valid", "EiEvent", {"emapRequestEvent": {"eiRequestEvent": {
        "requestID": "0", "venID": "$live:venID", "replyLimit": 65536}}})
    path = replay.save(tmp_path, "TC-F-MSG[emapRequestEvent]", profile="upper", seed=0, problem="p", sent=b"",
                       cases=[case.to_dict()])
    saved = replay.load(path)
    assert replay.command(path) == f"emap-conformance run --replay {path}"
    ema = RunningEma(config_from_args(EMA_ARGS))
    target = await started_target(ema, timing)
    try:
        outcome = await target.run(FuzzCase.from_dict(saved["cases"][0]))
    finally:
        await stop_target(target, ema)
    assert outcome.answer.code == "5.00" and outcome.problem


def test_bad_replay_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(replay.ReplayError, match="not JSON"):
        replay.load(bad)
    bad.write_text('{"format": "other"}')
    with pytest.raises(replay.ReplayError, match="not a fuzz replay file"):
        replay.load(bad)
    with pytest.raises(replay.ReplayError, match="replay file"):
        replay.load(tmp_path / "missing.json")
