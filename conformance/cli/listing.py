"""``emap-conformance list``: the test plan (test id, requirement ids, applicability per profile); sends nothing.

The test cases are collected once by pytest (``--collect-only`` with the plugin writing the plan as JSON); each
case's ``applies`` expression is then evaluated against every profile.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from .errors import EXIT_UNJUDGED, CliError
from .pytest_args import base_command
from .run import load_profiles

OUTPUT_TAIL_LINES = 15


def collect_plan(cases: str, keyword: str | None) -> list[dict]:
    """The collected test cases: ``[{"id", "requirements", "clause", "applies", "purpose", "nodeid"}]``."""
    with tempfile.TemporaryDirectory() as tmp:
        plan_file = Path(tmp) / "plan.json"
        cmd = base_command(cases) + ["--collect-only", "-q", "--emap-plan", str(plan_file)]
        if keyword:
            cmd += ["-k", keyword]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not plan_file.exists():
            tail = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()][-OUTPUT_TAIL_LINES:]
            raise CliError(f"collecting the test cases failed (pytest exit {proc.returncode}): " + " | ".join(tail))
        return json.loads(plan_file.read_text(encoding="utf-8"))


def applicability(expr: str, profile) -> tuple[bool | None, str]:
    """(applicable, note): ``None`` and the error text when the expression cannot be evaluated."""
    from conformance.profiles import ProfileError, applies

    try:
        return (True, "") if applies(expr, profile) else (False, expr)
    except ProfileError as exc:
        return None, str(exc)


def plan_for(profile, plan: list[dict]) -> list[dict]:
    rows = []
    for entry in plan:
        if not profile.selects(entry["id"]):  # the profile's top-level ``cases`` leave it out
            rows.append({**entry, "applicable": False, "note": "not among the profile's cases"})
            continue
        ok, note = applicability(entry["applies"], profile)
        rows.append({**entry, "applicable": ok, "note": note})
    return rows


def print_text(profile, rows: list[dict]) -> None:
    applicable = sum(1 for row in rows if row["applicable"])
    mode = f", mode {profile.mode}" if profile.mode else ""
    print(f"# profile {profile.name} (role {profile.role}{mode}): {applicable} of {len(rows)} test cases apply")
    width = max((len(row["id"]) for row in rows), default=0)
    for row in rows:
        state = {True: "applicable", False: "not applicable", None: "error"}[row["applicable"]]
        note = f"  [{row['note']}]" if row["note"] else ""
        print(f"{row['id']:<{width}}  {state:<14}  {', '.join(row['requirements'])}  {row['purpose']}{note}")


def list_plan(args) -> int:
    """Print the plan for each profile (all bundled profiles when none is given)."""
    loaded = load_profiles(args.profile)
    plan = collect_plan(args.cases, args.k)
    if not plan:
        raise CliError("no test cases collected")
    tables = [(profile, plan_for(profile, plan)) for _, profile in loaded]
    if args.json:
        print(json.dumps([{"profile": profile.name, "role": profile.role, "mode": profile.mode, "tests": rows}
                          for profile, rows in tables], indent=1))
    else:
        for index, (profile, rows) in enumerate(tables):
            if index:
                print()
            print_text(profile, rows)
    broken = any(row["applicable"] is None for _, rows in tables for row in rows)
    return EXIT_UNJUDGED if broken else 0
