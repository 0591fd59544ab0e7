"""Judging a mutant from run results, the printed score, and the flake comparison (no runs needed)."""

from conformance.ema.mutants.registry import Mutant
from conformance.selfcheck.flake import differences
from conformance.selfcheck.runs import RunResult, read_results
from conformance.selfcheck.zoo import judge, report, score

MUTANT = Mutant("m", ("EMAP-6.5.3-02",), ("TC-U-6.5.3-02",), ("upper",), "cancel keeps the opt", lambda: None)


def result(verdicts: dict, requirements: dict | None = None) -> RunResult:
    return RunResult(verdicts=verdicts, requirements=requirements or {})


REQS = {"TC-U-6.5.3-02": ("EMAP-6.5.3-02",), "TC-U-6.5.3-01": ("EMAP-6.5.3-01",)}


def test_fail_of_a_broken_requirement_test_kills_by_the_right_requirement():
    outcome = judge(MUTANT, "upper", result({"TC-U-6.5.3-02": "fail", "TC-U-6.5.3-01": "pass"}, REQS),
                    result({"TC-U-6.5.3-02": "pass", "TC-U-6.5.3-01": "pass"}))
    assert outcome.detected and outcome.by_right_requirement
    assert outcome.expected_verdicts == {"TC-U-6.5.3-02": "fail"}


def test_fail_of_another_requirement_test_detects_only():
    outcome = judge(MUTANT, "upper", result({"TC-U-6.5.3-02": "pass", "TC-U-6.5.3-01": "fail"}, REQS),
                    result({}))
    assert outcome.detected and not outcome.by_right_requirement


def test_a_test_failing_against_the_clean_ema_detects_nothing():
    outcome = judge(MUTANT, "upper", result({"TC-U-6.5.3-02": "fail"}, REQS), result({"TC-U-6.5.3-02": "fail"}))
    assert not outcome.detected


def test_error_is_not_a_detection_and_parametrized_ids_count():
    outcome = judge(MUTANT, "upper", result({"TC-U-6.5.3-02[a]": "error", "TC-U-6.5.3-02[b]": "pass"}, {}),
                    result({}))
    assert not outcome.detected
    assert outcome.expected_verdicts == {"TC-U-6.5.3-02": "error"}


def test_score_and_report_name_the_survivor():
    killed = judge(MUTANT, "upper", result({"TC-U-6.5.3-02": "fail"}, REQS), result({}))
    survivor = judge(MUTANT, "upper", result({"TC-U-6.5.3-02": "pass"}, REQS), result({}))
    assert score([killed, survivor]) == {"mutants": 2, "detected": 1, "detected_pct": 50.0,
                                         "right_requirement": 1, "right_requirement_pct": 50.0}
    text = report([killed, survivor])
    assert text.splitlines()[0].startswith("mutation score: 1/2 detected (50.0 %)")
    assert "m [upper] breaks EMAP-6.5.3-02 (cancel keeps the opt); expected TC-U-6.5.3-02=pass" in text


def test_flake_differences_list_changed_and_missing_verdicts():
    runs = [result({"A": "pass", "B": "fail"}), result({"A": "pass", "B": "pass", "C": "pass"})]
    assert differences(runs) == ["B: fail / pass", "not collected in every run (1): C"]
    assert differences([result({"A": "pass"})] * 3) == []


def test_missing_results_file_is_a_problem(tmp_path):
    assert "no readable results.json" in read_results(tmp_path / "results.json").problem
