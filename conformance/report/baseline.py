"""Baseline of accepted failures (waivers) and the gating rules that keep it honest.

A baseline file lists known failures a lab or vendor accepts for a while, each with a reason and an
expiry date:

    [[waivers]]
    test = "TC-U-6.2.2-01"
    reason = "firmware 1.2 omits the diagnostic payload; fixed in 1.3"
    expires = 2027-01-31
    profile = "upper"        # optional: only waive it in runs of this profile

(or the same as JSON: ``{"waivers": [{"test": ..., "reason": ..., "expires": "2027-01-31"}]}``).

Rules: a listed test that FAILS, in a run the entry applies to, before the entry expires, becomes WAIVED
(its reason kept, the waiver's reason added). An ERROR is never waived (it is a fault of the run, not a known
IUT defect). A listed test that PASSES and an expired entry are baseline problems: they fail the run, so the
file cannot go stale.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from conformance.report.results import runs_of, summarise
from conformance.verdict import Verdict

_ENTRY_KEYS = {"test": True, "reason": True, "expires": True, "profile": False}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BaselineError(ValueError):
    """A baseline file that cannot be used; ``str()`` is one line naming the file and the entry."""


@dataclass(frozen=True)
class Waiver:
    """One baseline entry."""

    test: str
    reason: str
    expires: date
    profile: str | None = None

    def applies_to(self, profile_name: str) -> bool:
        return self.profile is None or self.profile == profile_name

    def expired(self, today: date) -> bool:
        """An entry is valid up to and including its expiry date."""
        return today > self.expires


@dataclass(frozen=True)
class Baseline:
    path: Path
    waivers: tuple[Waiver, ...]


def load_baseline(path: Path | str) -> Baseline:
    """Read and validate a TOML (``.toml``) or JSON (``.json``) baseline file; raises BaselineError."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, dict) or set(data) - {"waivers"}:
        raise BaselineError(f"{path}: the top level must hold only a 'waivers' list")
    entries = data.get("waivers", [])
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: waivers: must be a list of entries")
    waivers = tuple(_waiver(path, index, entry) for index, entry in enumerate(entries))
    seen = set()
    for index, waiver in enumerate(waivers):
        key = (waiver.test, waiver.profile)
        if key in seen:
            raise BaselineError(
                f"{path}: waivers[{index}]: {waiver.test} is listed twice for the same profile"
            )
        seen.add(key)
    return Baseline(path, waivers)


def apply_baseline(results: dict, baseline: Baseline, today: date) -> list[str]:
    """Waive the listed failures in ``results`` (in place); return the baseline problems (each fails the run).

    Records ``waivers`` and ``baseline_problems`` in every run, updates the ``summary`` and the verdicts of
    the requirements whose tests were waived.
    """
    all_problems = []
    for run in runs_of(results):
        profile_name = run["profile"]["name"]
        tests = {test["id"]: test for test in run["tests"]}
        waived, problems = [], []
        for waiver in baseline.waivers:
            if not waiver.applies_to(profile_name):
                continue
            test = tests.get(waiver.test)
            where = f"{waiver.test} (profile {profile_name})"
            if waiver.expired(today):
                problems.append(f"{where}: the baseline waiver expired on {waiver.expires.isoformat()}")
            elif test is None:
                continue
            elif test["verdict"] == Verdict.FAIL.value:
                _waive(test, waiver)
                waived.append(test)
            elif test["verdict"] == Verdict.PASS.value:
                problems.append(f"{where}: passes but is listed in the baseline; remove the entry")
        run["waivers"] = run.get("waivers", []) + [_waiver_record(test) for test in waived]
        run["baseline_problems"] = run.get("baseline_problems", []) + problems
        run["summary"] = summarise(run["tests"])
        _update_requirements(run, {rid for test in waived for rid in test["requirements"]})
        all_problems += problems
    return all_problems


def _waive(test: dict, waiver: Waiver) -> None:
    test["verdict"] = Verdict.WAIVED.value
    test["waiver"] = {"reason": waiver.reason, "expires": waiver.expires.isoformat()}


def _waiver_record(test: dict) -> dict:
    return {
        "test": test["id"],
        "reason": test["waiver"]["reason"],
        "expires": test["waiver"]["expires"],
        "verdict": Verdict.FAIL.value,
        "test_reason": test["reason"],
    }


def _update_requirements(run: dict, requirement_ids: set[str]) -> None:
    """Recompute the verdict of each named requirement as the worst verdict of its tests."""
    for requirement in run["requirements"]:
        if requirement["id"] in requirement_ids:
            verdicts = [Verdict(t["verdict"]) for t in run["tests"] if requirement["id"] in t["requirements"]]
            requirement["verdict"] = Verdict.worst(verdicts).value


def _read(path: Path):
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        if path.suffix == ".toml":
            return tomllib.loads(raw.decode("utf-8"))
        if path.suffix == ".json":
            return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise BaselineError(f"{path}: not TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    raise BaselineError(f"{path}: unknown baseline format '{path.suffix}' (use .toml or .json)")


def _waiver(path: Path, index: int, entry) -> Waiver:
    where = f"{path}: waivers[{index}]"
    if not isinstance(entry, dict):
        raise BaselineError(f"{where}: must be a table/object with test, reason, expires")
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise BaselineError(f"{where}: unknown member '{unknown[0]}' (allowed: {', '.join(_ENTRY_KEYS)})")
    for key, required in _ENTRY_KEYS.items():
        if required and key not in entry:
            raise BaselineError(f"{where}: missing '{key}'")
    for key in ("test", "reason", "profile"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise BaselineError(f"{where}.{key}: must be a non-empty string")
    if not entry["test"].startswith("TC-"):
        raise BaselineError(f"{where}.test: '{entry['test']}' is not a test id (TC-...)")
    return Waiver(entry["test"], entry["reason"], _date(where, entry["expires"]), entry.get("profile"))


def _date(where: str, value) -> date:
    if type(value) is date:
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BaselineError(f"{where}.expires: {value!r} is not a date (YYYY-MM-DD)")
