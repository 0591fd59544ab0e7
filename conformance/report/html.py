"""conformance.html: one self-contained page (inline CSS, JS, SVG) rendered with jinja2 from results."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime

import jinja2

from conformance.catalogue import load_catalogue
from conformance.report.load_view import load_view
from conformance.report.results import (
    clause_key,
    clause_of_requirement,
    overall_verdict,
    run_verdict,
    runs_of,
)
from conformance.report.traces import LoadedTrace, chart_rows, round_trips

TEMPLATE = "conformance.html.j2"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ms"] = lambda value: "\u2013" if value is None else f"{value:.1f}"
    return env


def render_html(results: dict, traces: list[list[LoadedTrace]]) -> str:
    """The report page for ``results``; ``traces`` holds each run's loaded traces, parallel to its tests."""
    titles = _catalogue_titles()
    pairs = zip(runs_of(results), traces, strict=True)
    runs = [_run_view(index, run, run_traces, titles) for index, (run, run_traces) in enumerate(pairs)]
    context = {
        "verdict": overall_verdict(results).value,
        "runs": runs,
        "suite": runs[0]["suite"],
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "titles": titles,
    }
    return _environment().get_template(TEMPLATE).render(context)


def _run_view(index: int, run: dict, run_traces: list[LoadedTrace], titles: dict[str, str]) -> dict:
    anchor = f"run{index + 1}"
    tests = [
        {
            **test,
            "anchor": f"{anchor}-{test['id']}",
            "rows": chart_rows(loaded.trace) if loaded.trace else [],
            "trace_unavailable": loaded.unavailable,
        }
        for test, loaded in zip(run["tests"], run_traces, strict=True)
    ]
    profile_json = json.dumps(run["profile"], indent=2, ensure_ascii=False, sort_keys=True)
    return {
        "waivers": [],
        "baseline_problems": [],
        **run,
        "anchor": anchor,
        "verdict": run_verdict(run).value,
        "tests": tests,
        "matrix": _matrix(run, anchor),
        "round_trips": round_trips([loaded.trace for loaded in run_traces if loaded.trace]),
        "advisories": [(t["id"], text) for t in run["tests"] for text in t.get("advisories", [])],
        "profile_json": profile_json,
        "profile_data_uri": "data:application/json;base64,"
        + base64.b64encode(profile_json.encode()).decode(),
        "profile_file": f"profile-{run['profile']['name']}.json",
        "fuzz_view": _fuzz_view(run["fuzz"]) if "fuzz" in run else None,
        "load_view": load_view(run["load"], titles) if "load" in run else None,
    }


def _matrix(run: dict, anchor: str) -> list[dict]:
    """Clause -> requirement -> tests -> verdict, clauses in binding order; untested requirements included."""
    tests_of: dict[str, list[str]] = {}
    for test in run["tests"]:
        for requirement_id in test["requirements"]:
            tests_of.setdefault(requirement_id, []).append(test["id"])
    verdict_of = {t["id"]: t["verdict"] for t in run["tests"]}
    clauses: dict[str, list[dict]] = {}
    for requirement in run["requirements"]:
        clause = requirement.get("clause") or clause_of_requirement(requirement["id"])
        test_ids = requirement.get("tests", tests_of.get(requirement["id"], []))
        clauses.setdefault(clause, []).append(
            {
                **requirement,
                "tests": [(tid, f"{anchor}-{tid}", verdict_of.get(tid, "not-tested")) for tid in test_ids],
            }
        )
    return [
        {"clause": clause, "requirements": reqs, "counts": Counter(r["verdict"] for r in reqs)}
        for clause, reqs in sorted(clauses.items(), key=lambda item: clause_key(item[0]))
    ]


def _fuzz_view(fuzz: dict) -> dict:
    """Scalar statistics as name/value pairs; lists of objects as tables (columns in first-seen order)."""
    scalars = [(key, value) for key, value in fuzz.items() if not isinstance(value, list | dict)]
    tables = []
    for key, value in fuzz.items():
        if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
            columns = list(dict.fromkeys(column for row in value for column in row))
            rows = [[row.get(column, "") for column in columns] for row in value]
            tables.append({"name": key, "columns": columns, "rows": rows})
    return {"scalars": scalars, "tables": tables}


def _catalogue_titles() -> dict[str, str]:
    """Requirement titles from the catalogue, shown next to ids the results do not title themselves."""
    return {requirement.id: requirement.title for requirement in load_catalogue()}
