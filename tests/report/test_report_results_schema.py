"""The results JSON Schema (Draft 7) and validation of results before any report is written."""

from __future__ import annotations

import jsonschema
import pytest
from report_samples import sample_run

from conformance.report import ResultsError, results_schema, validate_results, write_reports


def test_schema_is_a_valid_draft7_schema():
    jsonschema.Draft7Validator.check_schema(results_schema())
    assert results_schema()["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_single_run_and_multi_run_results_validate(results):
    validate_results(results)
    validate_results({"runs": [results, sample_run("lower-pull")]})


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda r: r["tests"][0].update(verdict="passed"), "/tests/0/verdict"),
        (lambda r: r["tests"][1].pop("reason"), "/tests/1"),
        (lambda r: r["requirements"][0].update(verdict="unknown"), "/requirements/0/verdict"),
        (lambda r: r["requirements"][0].update(id="REQ-1"), "/requirements/0/id"),
        (lambda r: r["summary"].pop("waived"), "/summary"),
        (lambda r: r.update(started="yesterday"), "/started"),
        (lambda r: r["iut"].update(role="middle"), "/iut/role"),
        (lambda r: r.update(seed="1"), "/seed"),
    ],
)
def test_an_invalid_member_is_named_in_one_line(results, change, pointer):
    change(results)
    with pytest.raises(ResultsError) as info:
        validate_results(results)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"results: {pointer}")


def test_empty_runs_is_invalid():
    with pytest.raises(ResultsError, match="^results: /runs: "):
        validate_results({"runs": []})


def test_write_reports_refuses_invalid_results_and_writes_nothing(results, tmp_path):
    results["tests"][0]["verdict"] = "ok"
    with pytest.raises(ResultsError):
        write_reports(results, tmp_path / "out")
    assert not (tmp_path / "out").exists()
