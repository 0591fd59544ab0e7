"""Flake check: full runs of a profile against the shipped sample EMA must agree.

Runs with the same seed must give identical verdicts; runs with different seeds may differ only in what the
fuzz statistics count (examples, targets), never in a verdict.
"""

from __future__ import annotations

from pathlib import Path

from conformance.selfcheck.runs import DEFAULT_RUN_TIMEOUT_S, RunResult, run_profile


def differences(runs: list[RunResult]) -> list[str]:
    """One line per test whose verdict is not the same in every run, then one line naming the tests that not
    every run collected (the test tree changed between runs: not a flake, but the runs do not compare)."""
    tests = sorted(set().union(*(r.verdicts for r in runs)))
    lines, partial = [], []
    for test in tests:
        verdicts = [r.verdicts.get(test) for r in runs]
        if None in verdicts:
            partial.append(test)
        elif len(set(verdicts)) > 1:
            lines.append(f"{test}: {' / '.join(verdicts)}")
    if partial:
        lines.append(f"not collected in every run ({len(partial)}): {', '.join(partial)}")
    return lines


def flake_check(profile: str, out_dir: Path, *, runs: int = 5, seed: int = 0,
                timeout: float = DEFAULT_RUN_TIMEOUT_S, progress=print) -> list[str]:
    """``runs`` runs with ``seed``, then ``runs`` with seeds ``seed+1...``; returns the problems found (none:
    the check passed)."""
    problems = []
    for label, seeds in (("same seed", [seed] * runs), ("different seeds", [seed + 1 + n for n in range(runs)])):
        results = []
        for n, run_seed in enumerate(seeds):
            result = run_profile(profile, out_dir / profile / f"{label.replace(' ', '-')}-{n}", seed=run_seed,
                                 timeout=timeout)
            progress(f"{profile} {label} run {n + 1}/{runs} (seed {run_seed}): {_tally(result)} "
                     f"in {result.duration_s:.0f} s" + (f"; PROBLEM {result.problem}" if result.problem else ""))
            if result.problem:
                problems.append(f"{profile} {label} run {n + 1}: {result.problem}")
            results.append(result)
        problems += [f"{profile} {label}: {line}" for line in differences(results)]
    return problems


def _tally(result: RunResult) -> str:
    counts: dict[str, int] = {}
    for verdict in result.verdicts.values():
        counts[verdict] = counts.get(verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no verdicts"
