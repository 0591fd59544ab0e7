"""Mutation score of the suite: run each mutant's profile (limited to its tests' clauses) and judge whether a
test detected it, and whether a test of a requirement the mutant breaks did.

A test detects a mutant when it FAILs against the mutant and does not fail against the shipped sample EMA
(the clean run of the same selection). ERROR and INCONCLUSIVE are not detections: a lab cannot act on them.
A survivor is a gap in the suite, to be closed by a test, not by changing the mutant.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance.ema.mutants import Mutant, all_mutants
from conformance.selfcheck.runs import DEFAULT_RUN_TIMEOUT_S, RunResult, run_profile

#: One mutant per top-level clause (5, 6.1 to 6.6, 7.1, 8, A): the CI subset, run with narrow selections.
FAST = ("u-venid-shared", "u-opt-answer-type", "u-reregistration-new-ids", "u-events-unordered",
        "u-update-unknown-accepted", "u-cancel-unknown-opt", "u-push-poll-accepted", "t-method-400",
        "s-upper-unprotected-accepted", "u-opt-change-without-decision")

FAIL = "fail"


@dataclass
class Outcome:
    """What the suite made of one mutant."""

    name: str
    profile: str
    requirements: list[str]
    expected: list[str]
    summary: str
    detected_by: list[str] = field(default_factory=list)
    right_requirement_by: list[str] = field(default_factory=list)
    expected_verdicts: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    duration_s: float = 0.0

    @property
    def detected(self) -> bool:
        return bool(self.detected_by)

    @property
    def by_right_requirement(self) -> bool:
        return bool(self.right_requirement_by)


def judge(mutant: Mutant, profile: str, run: RunResult, clean: RunResult) -> Outcome:
    """The outcome of ``mutant`` from its run and the clean run of the same profile."""
    outcome = Outcome(mutant.name, profile, list(mutant.requirements), list(mutant.tests), mutant.summary,
                      problem=run.problem, duration_s=round(run.duration_s, 1))
    broken = set(mutant.requirements)
    for test, verdict in run.verdicts.items():
        if verdict != FAIL or clean.verdicts.get(test) == FAIL:
            continue
        outcome.detected_by.append(test)
        if broken & set(run.requirements.get(test, ())):
            outcome.right_requirement_by.append(test)
    for test in mutant.tests:
        outcome.expected_verdicts[test] = _verdict_of(test, run)
    return outcome


def _verdict_of(test: str, run: RunResult) -> str:
    verdicts = [v for t, v in run.verdicts.items() if t == test or t.startswith(test + "[")]
    if not verdicts:
        return "not run"
    return FAIL if FAIL in verdicts else verdicts[0]


def select(names=None, *, fast: bool = False, profiles=None) -> list[Mutant]:
    """The mutants to run: named ones, the FAST subset, or all; only those exercised by ``profiles``."""
    chosen = all_mutants()
    wanted = set(names or ()) | (set(FAST) if fast else set())
    if wanted:
        unknown = wanted - {m.name for m in chosen}
        if unknown:
            raise ValueError(f"unknown mutant(s): {', '.join(sorted(unknown))}")
        chosen = [m for m in chosen if m.name in wanted]
    if profiles:
        chosen = [m for m in chosen if set(m.profiles) & set(profiles)]
    return chosen


def profile_of(mutant: Mutant, profiles=None) -> str:
    """The profile a mutant is run with: its first one among ``profiles`` (default: its first)."""
    return next(p for p in mutant.profiles if not profiles or p in profiles)


def run_zoo(mutants: list[Mutant], out_dir: Path, *, profiles=None, jobs: int = 1, seed: int = 0,
            timeout: float = DEFAULT_RUN_TIMEOUT_S, narrow: bool = False, progress=print) -> list[Outcome]:
    """Run the clean selection of each profile once, then every mutant; returns the outcomes in zoo order.
    ``narrow``: run only the tests each mutant must fail, not the rest of their clauses."""
    plan = [(m, profile_of(m, profiles)) for m in mutants]

    def selection_of(mutant: Mutant) -> str:
        return mutant.narrow_selection if narrow else mutant.selection

    selections: dict[str, set[str]] = {}
    for mutant, profile in plan:
        selections.setdefault(profile, set()).add(selection_of(mutant))
    clean = {}
    for profile, parts in sorted(selections.items()):
        selection = " or ".join(sorted(parts))
        clean[profile] = run_profile(profile, out_dir / "clean" / profile, selection=selection, seed=seed,
                                     timeout=timeout)
        failing = sorted(t for t, v in clean[profile].verdicts.items() if v == FAIL)
        progress(f"clean {profile}: {len(clean[profile].verdicts)} tests, {len(failing)} fail against the "
                 f"shipped EMA{': ' + ', '.join(failing) if failing else ''}"
                 + (f"; PROBLEM {clean[profile].problem}" if clean[profile].problem else ""))

    def one(item):
        mutant, profile = item
        run = run_profile(profile, out_dir / "mutants" / mutant.name, mutant=mutant.name,
                          selection=selection_of(mutant), seed=seed, timeout=timeout)
        outcome = judge(mutant, profile, run, clean[profile])
        progress(line_of(outcome))
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = list(pool.map(one, plan))
    write_outcomes(outcomes, out_dir / "mutation.json")
    return outcomes


def line_of(outcome: Outcome) -> str:
    if outcome.by_right_requirement:
        state = "killed"
    elif outcome.detected:
        state = "killed (other requirement)"
    else:
        state = "SURVIVED"
    by = ", ".join(outcome.right_requirement_by or outcome.detected_by) or "-"
    extra = f" PROBLEM: {outcome.problem}" if outcome.problem else ""
    return f"{outcome.name:36} {state:27} by {by} ({outcome.duration_s:g} s){extra}"


def score(outcomes: list[Outcome]) -> dict:
    """Counts and percentages: detected, detected by a test of a broken requirement, survivors."""
    total = len(outcomes)
    detected = sum(o.detected for o in outcomes)
    right = sum(o.by_right_requirement for o in outcomes)

    def pct(n: int) -> float:
        return round(100.0 * n / total, 1) if total else 0.0

    return {"mutants": total, "detected": detected, "detected_pct": pct(detected), "right_requirement": right,
            "right_requirement_pct": pct(right)}


def report(outcomes: list[Outcome]) -> str:
    """The printed mutation score with the survivors and the mutants caught only by other requirements."""
    s = score(outcomes)
    lines = [f"mutation score: {s['detected']}/{s['mutants']} detected ({s['detected_pct']} %), "
             f"{s['right_requirement']}/{s['mutants']} by a test of the broken requirement "
             f"({s['right_requirement_pct']} %)"]
    survivors = [o for o in outcomes if not o.detected]
    if survivors:
        lines.append(f"survivors ({len(survivors)}): coverage gaps of the suite")
        lines += [_gap(o) for o in survivors]
    other = [o for o in outcomes if o.detected and not o.by_right_requirement]
    if other:
        lines.append(f"detected only by tests of other requirements ({len(other)}):")
        lines += [_gap(o) + f"; detected by {', '.join(o.detected_by)}" for o in other]
    return "\n".join(lines)


def _gap(o: Outcome) -> str:
    expected = ", ".join(f"{t}={v}" for t, v in o.expected_verdicts.items())
    problem = f"; PROBLEM: {o.problem}" if o.problem else ""
    return f"  {o.name} [{o.profile}] breaks {' '.join(o.requirements)} ({o.summary}); expected {expected}{problem}"


def write_outcomes(outcomes: list[Outcome], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"score": score(outcomes), "mutants": [asdict(o) for o in outcomes]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
