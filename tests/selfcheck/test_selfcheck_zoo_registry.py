"""The mutant zoo's declarations: enough mutants, spread over clauses and profiles, naming real requirement ids
and real test cases, and each one applicable to the current sample EMA."""

import re
import subprocess
import sys
from pathlib import Path

from conformance.catalogue import load_catalogue
from conformance.ema.mutants import all_mutants
from conformance.ema.mutants.registry import PROFILES
from conformance.selfcheck.zoo import FAST

TESTCASES = Path(__file__).resolve().parents[2] / "conformance" / "testcases"
CASE_ID = re.compile(r'@emap_test\(\s*"([^"]+)"')
CLAUSES = ("5", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "7.1", "8", "A")


def case_ids() -> set[str]:
    return {m for path in TESTCASES.rglob("test_*.py") for m in CASE_ID.findall(path.read_text("utf-8"))}


def top_clause(clause: str) -> str:
    return clause if clause in ("5", "A") else ".".join(clause.split(".")[:2])


def test_at_least_fifty_mutants_with_unique_names():
    names = [m.name for m in all_mutants()]
    assert len(names) >= 50
    assert len(set(names)) == len(names)


def test_requirements_exist_in_catalogue():
    known = set(load_catalogue().ids)
    unknown = {m.name: r for m in all_mutants() for r in m.requirements if r not in known}
    assert not unknown


def test_expected_tests_exist():
    cases = case_ids()
    missing = {m.name: t for m in all_mutants() for t in m.tests if t not in cases}
    assert not missing


def test_every_clause_and_profile_role_is_covered():
    clauses = {top_clause(m.clause) for m in all_mutants()}
    assert set(CLAUSES) <= clauses
    profiles = {p for m in all_mutants() for p in m.profiles}
    assert set(PROFILES) == profiles


def test_fast_subset_has_one_mutant_per_clause():
    chosen = [m for m in all_mutants() if m.name in FAST]
    assert len(chosen) == len(FAST)
    assert {top_clause(m.clause) for m in chosen} == set(CLAUSES)


def test_every_mutant_applies_to_the_current_sample_ema():
    """Each patch target still exists (applied one after the other in one fresh process)."""
    code = ("from conformance.ema.mutants import all_mutants\n"
            "bad = []\n"
            "for m in all_mutants():\n"
            "    try:\n"
            "        m.apply()\n"
            "    except Exception as exc:\n"
            "        bad.append(f'{m.name}: {type(exc).__name__}: {exc}')\n"
            "print('\\n'.join(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_selection_names_the_clauses_of_the_expected_tests():
    mutant = next(m for m in all_mutants() if m.name == "t-reply-205")
    assert mutant.selection == "TC-T-7.1.1- or TC-T-7.1.4-"
