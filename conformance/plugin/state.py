"""The state of one conformance run inside pytest: settings, profile, collected cases, outcomes, results."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from conformance.verdict import Verdict

from .options import Settings, SettingsError, read_settings
from .results import EXIT_UNJUDGED, Outcome, entry_of, refresh, rfc3339

SUITE_NAME = "emap-conformance"
RUN_KEY = pytest.StashKey["EmapRun"]()


def trace_name(tc_id: str) -> str:
    """Relative path of a test's trace file: ``trace/<id>.jsonl`` with unsafe characters replaced."""
    return f"trace/{re.sub(r'[^A-Za-z0-9._-]', '_', tc_id)}.jsonl"


def check_cases(cases, catalogue) -> list[str]:
    """Problems of the collected test case definitions: unknown requirement ids, duplicate ids, no docstring."""
    known = set(catalogue.ids)
    problems, seen = [], {}
    for nodeid, case in cases:
        unknown = [req for req in case.requirements if req not in known]
        if unknown:
            problems.append(f"{case.id} ({nodeid}): unknown requirement id(s) {', '.join(unknown)}")
        if case.id in seen:
            problems.append(f"{case.id}: used by both {seen[case.id]} and {nodeid}")
        seen.setdefault(case.id, nodeid)
        if not case.purpose:
            problems.append(f"{case.id} ({nodeid}): no docstring (its first line states the purpose)")
    return problems


class EmapRun:
    """Everything the plugin knows about the current run; stored in ``config.stash[RUN_KEY]``."""

    def __init__(self):
        self.settings: Settings | None = None
        self.profile = None
        self.catalogue = None
        self.baseline = None
        self.peer = None
        self.active = False
        self.cases: dict = {}
        self.outcomes: dict[str, Outcome] = {}
        self.iut = None
        self.embedded = None  # the EmbeddedEma when the suite started the sample EMA
        self.aborted: str | None = None
        self.started = datetime.now(UTC)
        self.summary: dict | None = None  # set when the results are written
        self.tests: list[dict] = []
        self.status: int | None = None
        self.warning: str | None = None
        self.fuzz_stats = None  # set by the fuzz test cases: results.json "fuzz"

    @property
    def iut_setting(self) -> str:
        """The effective IUT: the option/environment/ini value, else the profile's PIXIT iut."""
        return self.settings.iut or self.profile.iut

    def prepare(self, config, *, need_profile: bool) -> None:
        """Read the settings and load catalogue, profile, baseline; on bad input end the run with status 2."""
        try:
            self._prepare(config, need_profile)
        except (SettingsError, ValueError, OSError) as exc:
            pytest.exit(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, returncode=EXIT_UNJUDGED)

    def _prepare(self, config, need_profile: bool) -> None:
        from conformance.catalogue import load_catalogue

        if self.settings is None:
            self.settings = read_settings(config)
        if self.catalogue is None:
            self.catalogue = load_catalogue()
        if not need_profile or self.profile is not None:
            return
        if self.settings.profile is None:
            raise SettingsError("--profile: no profile given (a TOML file or a bundled name)")
        from conformance.profiles import load_profile

        from .iut_access import IutError, external_uris, peer_endpoint

        self.profile = load_profile(self.settings.profile)
        embedded = self.iut_setting == "embedded"
        try:
            if not embedded:
                external_uris(self.profile.role, self.iut_setting)
            self.peer = peer_endpoint(self.profile, embedded)
        except IutError as exc:
            raise SettingsError(str(exc)) from None
        if self.settings.baseline is not None:
            self.baseline = self._load_baseline(self.settings.baseline)

    @staticmethod
    def _load_baseline(path: Path):
        try:
            from conformance.report.baseline import load_baseline
        except ImportError as exc:
            raise SettingsError(f"--baseline: waivers are not available in this installation ({exc})") from None
        return load_baseline(path)

    def abort(self, message: str):
        """Stop the whole run now: it cannot be judged (exit status 2)."""
        self.aborted = message
        pytest.exit(message, returncode=EXIT_UNJUDGED)

    def results(self, *, stopped_on_request: bool = False, not_run: str = "the run stopped early") -> dict:
        """The results object (interfaces.md section 2); baseline waivers applied when a baseline was given.

        A test that never ended is an error (the run was aborted or interrupted), except after a stop the user
        asked for (``-x``, ``--maxfail``): then it is left out, like a deselected test.
        """
        from conformance import __version__

        levels = {req.id: req.level for req in self.catalogue}
        tests = []
        for nodeid, case in self.cases.items():
            outcome = self.outcomes.get(nodeid)
            if outcome is None and stopped_on_request and not self.aborted:
                continue
            if outcome is None:
                outcome = Outcome(Verdict.ERROR, f"not run: {self.aborted or not_run}")
            tests.append(entry_of(case, outcome, levels, self.settings.strict))
        iut = self.iut
        results = {
            "suite": {"name": SUITE_NAME, "version": __version__},
            "iut": {"uri": iut.uri if iut else self._configured_uri(), "role": self.profile.role,
                    "mode": self.profile.mode, "embedded": self.iut_setting == "embedded"},
            "profile": self.profile.as_dict(),
            "started": rfc3339(self.started),
            "finished": rfc3339(datetime.now(UTC)),
            "seed": self.settings.seed,
            "strict": self.settings.strict,
            "aborted": self.aborted,
            "tests": tests,
        }
        if self.fuzz_stats is not None:
            results["fuzz"] = self.fuzz_stats.as_dict()
        refresh(results, self.catalogue)
        if self.baseline is not None:
            from conformance.report.baseline import apply_baseline

            apply_baseline(results, self.baseline, date.today())  # records results["baseline_problems"]
            refresh(results, self.catalogue)
        return results

    def _configured_uri(self) -> str | None:
        value = self.iut_setting
        return None if value in ("embedded", "external") else value

    def write(self, results: dict) -> str | None:
        """Write results.json, then every other report; returns a warning line when only results.json exists."""
        out = self.settings.report_dir
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        try:
            from conformance.report import write_reports
        except ImportError as exc:
            return f"report rendering unavailable ({exc}); wrote {out / 'results.json'} only"
        write_reports(results, out)
        return None
