"""The results file (results.json): its JSON Schema, validation, loading and helpers the renderers share."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path

import jsonschema

from conformance.verdict import Verdict

SCHEMA_FILE = "results.schema.json"
VERDICTS = tuple(v.value for v in Verdict)


class ResultsError(ValueError):
    """A results file or dict that does not match the results schema; ``str()`` is one line."""


@functools.cache
def results_schema() -> dict:
    """The Draft-7 JSON Schema of results.json shipped with the package."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(
        results_schema(), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def validate_results(results: dict, source: str = "results") -> None:
    """Raise ResultsError naming the first offending member (a JSON pointer) if ``results`` is invalid."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(results))
    if error is not None:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        raise ResultsError(f"{source}: {pointer}: {_one_line(error.message)}")


def load_results(path: Path) -> dict:
    """Read and validate a results file; every failure is a one-line ResultsError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {_one_line(str(exc))}") from None
    try:
        results = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    validate_results(results, source=str(path))
    return results


def runs_of(results: dict) -> list[dict]:
    """The run objects of a results dict: the single profile object or the members of ``runs``."""
    return results["runs"] if "runs" in results else [results]


def summarise(tests: list[dict]) -> dict[str, int]:
    """Count of tests per verdict, every verdict present (the ``summary`` member)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for test in tests:
        counts[test["verdict"]] += 1
    return counts


def run_verdict(run: dict) -> Verdict:
    """Worst verdict over a run's tests; a baseline problem counts as a failure (it fails the run)."""
    verdicts = [Verdict(t["verdict"]) for t in run["tests"]]
    if run.get("baseline_problems"):
        verdicts.append(Verdict.FAIL)
    return Verdict.worst(verdicts)


def overall_verdict(results: dict) -> Verdict:
    """Worst verdict over every run (not-applicable when nothing applied)."""
    return Verdict.worst(run_verdict(run) for run in runs_of(results))


def clause_key(clause: str) -> tuple:
    """Sort key putting clauses in binding order: 5 < 6.1 < 6.2.3 < 7.1.5 < 8 < A < B."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in clause.split("."))


_REQUIREMENT_CLAUSE = re.compile(r"^EMAP-(?P<clause>.+)-\d+$")


def clause_of_requirement(requirement_id: str) -> str:
    """The clause a requirement id belongs to (``EMAP-6.2.3-04`` -> ``6.2.3``)."""
    match = _REQUIREMENT_CLAUSE.match(requirement_id)
    return match.group("clause") if match else "?"


def _one_line(text: str) -> str:
    return " ".join(text.split())
