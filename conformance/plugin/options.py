"""Command-line options of the plugin and their resolution into one ``Settings`` object.

The IUT comes from ``--iut``, else the environment variable ``EMAP_IUT``, else the ini value ``emap_iut``, else the
profile's PIXIT ``iut``. Values are checked here so that bad input ends the run with one line and exit status 2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_REPORT_DIR = "reports"
DEFAULT_FUZZ_EXAMPLES = 50  # finds the fragile-variant crash of tests/fuzz for every seed tried
DEFAULT_SEED = 0
IUT_ENV = "EMAP_IUT"
IUT_INI = "emap_iut"
IUT_KEYWORDS = ("embedded", "external")


class SettingsError(ValueError):
    """A bad option value; ``str()`` is one line naming the option."""


def add_options(parser) -> None:
    """Register the ``emap`` option group and the ``emap_iut`` ini value."""
    group = parser.getgroup("emap", "EMAP conformance")
    group.addoption("--iut", default=None, metavar="URI",
                    help="base URI of the IUT (coap://host[:port]/path); 'embedded' starts the sample EMA. "
                         f"Default: ${IUT_ENV}, ini {IUT_INI}, then the profile's PIXIT iut.")
    group.addoption("--profile", default=None, metavar="FILE_OR_NAME",
                    help="PICS/PIXIT profile: a TOML file or a bundled name (upper, lower-pull, lower-push, "
                         "intermediate).")
    group.addoption("--report-dir", default=None, metavar="DIR",
                    help=f"where results.json and the other reports go (default {DEFAULT_REPORT_DIR}/).")
    group.addoption("--seed", default=None, metavar="N",
                    help=f"seed of every randomised choice (fault plans, fuzzing); default {DEFAULT_SEED}.")
    group.addoption("--baseline", default=None, metavar="FILE", help="waiver file of known deviations.")
    group.addoption("--emap-strict", action="store_true", default=False,
                    help="failures of tests that check only should/may requirements fail the run too "
                         "('emap-conformance run --strict'; pytest's own --strict is a different option).")
    group.addoption("--fuzz-examples", default=None, metavar="N",
                    help=f"examples per property-based test (default {DEFAULT_FUZZ_EXAMPLES}).")
    group.addoption("--fuzz-seconds", default=None, metavar="S",
                    help="time budget per property-based test (default: no budget beyond the examples).")
    group.addoption("--emap-plan", default=None, metavar="FILE",
                    help="with --collect-only: write the collected test plan as JSON to FILE (used by "
                         "'emap-conformance list').")
    parser.addini(IUT_INI, "base URI of the IUT when neither --iut nor $EMAP_IUT is given", default="")


@dataclass(frozen=True)
class Settings:
    """The resolved plugin options."""

    iut: str | None  # None: use the profile's PIXIT iut
    profile: str | None
    report_dir: Path
    seed: int
    baseline: Path | None
    strict: bool
    fuzz_examples: int
    fuzz_seconds: float | None
    plan: Path | None


def requested(config) -> bool:
    """True when the command line asks for a conformance run, so bad values must be reported at once."""
    return bool(config.getoption("profile") or config.getoption("iut"))


def check_iut(value: str, source: str) -> str:
    """``value`` when it is ``embedded``, ``external`` or a coap/coaps URI with a host; else SettingsError."""
    if value in IUT_KEYWORDS:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SettingsError(f"{source}: {value!r} is not a URI ({exc})") from None
    if parts.scheme not in ("coap", "coaps"):
        raise SettingsError(f"{source}: {value!r} must be a coap:// or coaps:// URI, 'embedded' or 'external'")
    if not parts.hostname:
        raise SettingsError(f"{source}: {value!r} has no host")
    if parts.query or parts.fragment:
        raise SettingsError(f"{source}: {value!r} must not have a query or fragment")
    return value


def _number(value: str | None, option: str, kind, default, minimum):
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{option}: {value!r} is not a{'n integer' if kind is int else ' number'}") from None
    if number < minimum:
        raise SettingsError(f"{option}: {value!r} must be >= {minimum}")
    return number


def _iut(config) -> str | None:
    for value, source in ((config.getoption("iut"), "--iut"), (os.environ.get(IUT_ENV), IUT_ENV),
                          (config.getini(IUT_INI), f"ini {IUT_INI}")):
        if value:
            return check_iut(value, source)
    return None


def read_settings(config) -> Settings:
    """Resolve the options of ``config``; raises SettingsError naming the first bad one."""
    baseline = config.getoption("baseline")
    plan = config.getoption("emap_plan")
    return Settings(
        iut=_iut(config),
        profile=config.getoption("profile"),
        report_dir=Path(config.getoption("report_dir") or DEFAULT_REPORT_DIR),
        seed=_number(config.getoption("seed"), "--seed", int, DEFAULT_SEED, 0),
        baseline=Path(baseline) if baseline else None,
        strict=bool(config.getoption("emap_strict")),
        fuzz_examples=_number(config.getoption("fuzz_examples"), "--fuzz-examples", int, DEFAULT_FUZZ_EXAMPLES, 1),
        fuzz_seconds=_number(config.getoption("fuzz_seconds"), "--fuzz-seconds", float, None, 0.0),
        plan=Path(plan) if plan else None,
    )
