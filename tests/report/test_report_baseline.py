"""Baseline waivers: waived failures, expiry, unexpected passes, errors never waived, file validation."""

from __future__ import annotations

import json
from datetime import date

import pytest
from report_samples import sample_run

from conformance.report import validate_results
from conformance.report.baseline import Baseline, BaselineError, Waiver, apply_baseline, load_baseline

TODAY = date(2026, 11, 26)
FAILING, PASSING, ERRORED = "TC-U-6.2.2-01", "TC-U-6.2.1-01", "TC-U-7.1.4-01"


def _baseline(*waivers: Waiver) -> Baseline:
    return Baseline(path=None, waivers=waivers)


def _test(results: dict, test_id: str) -> dict:
    return next(t for t in results["tests"] if t["id"] == test_id)


def test_listed_failure_is_waived_with_both_reasons(results):
    problems = apply_baseline(
        results, _baseline(Waiver(FAILING, "vendor ticket 17", date(2027, 1, 31))), TODAY
    )
    assert problems == []
    test = _test(results, FAILING)
    assert test["verdict"] == "waived"
    assert test["reason"] == "EMAP-6.2.2-01: expected 2.04, got 4.00"
    assert test["waiver"] == {"reason": "vendor ticket 17", "expires": "2027-01-31"}
    assert results["waivers"] == [
        {
            "test": FAILING,
            "reason": "vendor ticket 17",
            "expires": "2027-01-31",
            "verdict": "fail",
            "test_reason": test["reason"],
        }
    ]
    assert results["summary"]["fail"] == 0 and results["summary"]["waived"] == 1
    verdicts = {r["id"]: r["verdict"] for r in results["requirements"]}
    assert verdicts["EMAP-6.2.2-01"] == verdicts["EMAP-6.2.2-02"] == "waived"
    validate_results(results)


def test_waiver_is_valid_on_its_expiry_date(results):
    assert apply_baseline(results, _baseline(Waiver(FAILING, "r", TODAY)), TODAY) == []
    assert _test(results, FAILING)["verdict"] == "waived"


def test_expired_waiver_keeps_the_failure_and_is_a_problem(results):
    problems = apply_baseline(results, _baseline(Waiver(FAILING, "r", date(2026, 11, 25))), TODAY)
    assert problems == [f"{FAILING} (profile upper): the baseline waiver expired on 2026-11-25"]
    assert _test(results, FAILING)["verdict"] == "fail"
    assert results["baseline_problems"] == problems
    validate_results(results)


def test_baselined_test_that_passes_is_a_problem(results):
    problems = apply_baseline(results, _baseline(Waiver(PASSING, "r", date(2027, 1, 1))), TODAY)
    assert problems == [f"{PASSING} (profile upper): passes but is listed in the baseline; remove the entry"]
    assert _test(results, PASSING)["verdict"] == "pass"


def test_error_is_never_waived(results):
    assert apply_baseline(results, _baseline(Waiver(ERRORED, "r", date(2027, 1, 1))), TODAY) == []
    assert _test(results, ERRORED)["verdict"] == "error"
    assert results["waivers"] == [] and results["summary"]["error"] == 1


def test_profile_scoped_waiver_applies_only_to_its_run():
    results = {"runs": [sample_run("upper"), sample_run("intermediate")]}
    _test(results["runs"][1], FAILING)["verdict"] = "pass"
    problems = apply_baseline(
        results, _baseline(Waiver(FAILING, "r", date(2027, 1, 1), profile="upper")), TODAY
    )
    assert problems == []
    assert _test(results["runs"][0], FAILING)["verdict"] == "waived"
    assert _test(results["runs"][1], FAILING)["verdict"] == "pass"


def test_unscoped_waiver_checks_every_run():
    results = {"runs": [sample_run("upper"), sample_run("intermediate")]}
    _test(results["runs"][1], FAILING)["verdict"] = "pass"
    problems = apply_baseline(results, _baseline(Waiver(FAILING, "r", date(2027, 1, 1))), TODAY)
    assert problems == [
        f"{FAILING} (profile intermediate): passes but is listed in the baseline; remove the entry"
    ]


def test_load_toml_and_json_baselines(tmp_path):
    toml_file = tmp_path / "baseline.toml"
    toml_file.write_text(
        f'[[waivers]]\ntest = "{FAILING}"\nreason = "known"\nexpires = 2027-01-31\nprofile = "upper"\n'
    )
    json_file = tmp_path / "baseline.json"
    json_file.write_text(
        json.dumps(
            {"waivers": [{"test": FAILING, "reason": "known", "expires": "2027-01-31", "profile": "upper"}]}
        )
    )
    expected = (Waiver(FAILING, "known", date(2027, 1, 31), "upper"),)
    assert load_baseline(toml_file).waivers == expected
    assert load_baseline(json_file).waivers == expected
    assert load_baseline(str(json_file)).path == json_file


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("b.toml", '[[waivers]]\ntest = "TC-X"\nreason = "r"\n', "waivers[0]: missing 'expires'"),
        (
            "b.toml",
            '[[waivers]]\ntest = "TC-X"\nreason = "r"\nexpires = 2027-01-01T10:00:00\n',
            "waivers[0].expires: ",
        ),
        (
            "b.toml",
            '[[waivers]]\ntest = "TC-X"\nreason = ""\nexpires = 2027-01-01\n',
            "waivers[0].reason: must be a non-empty string",
        ),
        (
            "b.toml",
            '[[waivers]]\ntest = "X"\nreason = "r"\nexpires = 2027-01-01\n',
            "waivers[0].test: 'X' is not",
        ),
        (
            "b.toml",
            '[[waivers]]\ntest = "TC-X"\nreason = "r"\nexpires = 2027-01-01\nticket = 4\n',
            "waivers[0]: unknown member 'ticket'",
        ),
        (
            "b.toml",
            '[[waivers]]\ntest = "TC-X"\nreason = "r"\nexpires = 2027-01-01\n' * 2,
            "waivers[1]: TC-X is listed twice",
        ),
        ("b.toml", "waivers = [", "not TOML"),
        ("b.toml", "other = 1\n", "the top level must hold only a 'waivers' list"),
        (
            "b.json",
            '{"waivers": [{"test": "TC-X", "reason": "r", "expires": "2027-02-30"}]}',
            "waivers[0].expires: '2027-02-30' is not a date",
        ),
        (
            "b.json",
            '{"waivers": [{"test": "TC-X", "reason": "r", "expires": "20270201"}]}',
            "waivers[0].expires: '20270201' is not a date",
        ),
        ("b.json", '{"waivers": {}}', "waivers: must be a list"),
        ("b.json", '{"waivers": [', "not JSON"),
        ("b.yaml", "waivers: []", "unknown baseline format '.yaml'"),
    ],
)
def test_bad_baseline_file_gives_one_line_error_naming_file_and_entry(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_missing_baseline_file(tmp_path):
    with pytest.raises(BaselineError, match="cannot read"):
        load_baseline(tmp_path / "absent.toml")
