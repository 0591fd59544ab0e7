"""Fuzz statistics of a run (results.json ``fuzz``): cases per message type, answers by code, failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class TargetStats:
    """One fuzz test case's counters."""

    name: str
    examples: int = 0
    cases: Counter = field(default_factory=Counter)  # case label -> count
    answers: Counter = field(default_factory=Counter)  # answer key ("4.00", "2.04/452", "silence") -> count
    failures: int = 0
    duration_s: float = 0.0

    def as_dict(self) -> dict:
        return {"name": self.name, "examples": self.examples, "cases": sum(self.cases.values()),
                "failures": self.failures, "duration_s": round(self.duration_s, 3)}


@dataclass
class FuzzStats:
    """All fuzz test cases of a run; ``as_dict()`` is the ``fuzz`` member of results.json."""

    seed: int
    budget_examples: int
    budget_seconds: float | None
    targets: list[TargetStats] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)

    def target(self, name: str) -> TargetStats:
        stats = TargetStats(name)
        self.targets.append(stats)
        return stats

    def as_dict(self) -> dict:
        cases = Counter()
        answers = Counter()
        for target in self.targets:
            cases.update(target.cases)
            answers.update(target.answers)
        out = {
            "seed": self.seed,
            "examples": sum(t.examples for t in self.targets),
            "cases_sent": sum(cases.values()),
            "budget_examples": self.budget_examples,
            "duration_s": round(sum(t.duration_s for t in self.targets), 3),
            "failures": sum(t.failures for t in self.targets),
            "targets": [t.as_dict() for t in self.targets],
            "cases_by_type": [{"type": k, "cases": v} for k, v in sorted(cases.items())],
            "answers_by_code": [{"code": k, "answers": v} for k, v in sorted(answers.items())],
            "findings": list(self.findings),
        }
        if self.budget_seconds is not None:
            out["budget_seconds"] = self.budget_seconds
        return out
