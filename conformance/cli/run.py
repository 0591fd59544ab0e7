"""``emap-conformance run``: one pytest run per profile, then one merged results.json when there are several.

Each profile's run writes its reports into the report directory (one profile) or into ``<report-dir>/<profile>/``
(several); the merged ``results.json`` then holds every run under ``"runs"`` and the exit status is the worst one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from .errors import EXIT_UNJUDGED, CliError
from .pytest_args import base_command

JUDGED_CODES = (0, 1)


def load_profiles(specs):
    """``[(spec, Profile)]`` for the given profile specs (all bundled profiles when none); raises CliError."""
    from conformance.profiles import ProfileError, bundled_profiles, load_profile

    try:
        return [(spec, load_profile(spec)) for spec in (specs or bundled_profiles())]
    except ProfileError as exc:
        raise CliError(str(exc)) from None


def check_inputs(args) -> list:
    """Check the options and load every profile before anything runs; raises CliError (one line)."""
    from conformance.plugin.options import SettingsError, check_iut
    if args.iut is not None and not args.profile:
        raise CliError("--iut needs --profile: the bundled profiles describe the sample EMA, not your device")
    if args.iut is not None:
        try:
            check_iut(args.iut, "--iut")
        except SettingsError as exc:
            raise CliError(str(exc)) from None
    if args.replay is not None:
        apply_replay(args)
    if args.baseline is not None:
        from conformance.report.baseline import load_baseline

        try:
            load_baseline(args.baseline)
        except (ValueError, OSError) as exc:
            raise CliError(f"--baseline: {exc}") from None
    return load_profiles(args.profile)


def apply_replay(args) -> None:
    """``--replay FILE``: run the saved case's test under its profile (unless given), the file passed to the fuzz
    test cases through the environment of the pytest runs."""
    from conformance.fuzz.replay import REPLAY_ENV, ReplayError, load

    try:
        data = load(args.replay)
    except ReplayError as exc:
        raise CliError(str(exc)) from None
    args.profile = args.profile or [data["profile"]]
    args.k = args.k or data["test"]
    os.environ[REPLAY_ENV] = str(Path(args.replay).resolve())


def pytest_command(args, profile_spec: str, out_dir: Path) -> list[str]:
    """The pytest command line of one profile's run."""
    cmd = base_command(args.cases) + ["--profile", profile_spec, "--report-dir", str(out_dir),
                                      "--seed", str(args.seed)]
    for option, value in (("--iut", args.iut), ("--baseline", args.baseline), ("-k", args.k),
                          ("--fuzz-examples", args.fuzz_examples), ("--fuzz-seconds", args.fuzz_seconds)):
        if value is not None:
            cmd += [option, str(value)]
    if args.strict:
        cmd.append("--emap-strict")
    return cmd + list(args.pytest_args)


def run_dirs(profiles, report_dir: Path) -> list[Path]:
    """One output directory per profile: the report directory itself, or a subdirectory named after each."""
    if len(profiles) == 1:
        return [report_dir]
    dirs, used = [], set()
    for profile in profiles:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", profile.name) or "profile"
        unique, n = name, 1
        while unique in used:
            n += 1
            unique = f"{name}-{n}"
        used.add(unique)
        dirs.append(report_dir / unique)
    return dirs


def merge(report_dir: Path, dirs: list[Path]) -> dict | None:
    """The multi-run results object of the runs that produced results (trace paths made relative to the top)."""
    runs = []
    for out in dirs:
        path = out / "results.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        prefix = out.relative_to(report_dir).as_posix()
        for test in data["tests"]:
            if test.get("trace"):
                test["trace"] = f"{prefix}/{test['trace']}"
        runs.append(data)
    if not runs:
        return None
    return {"suite": runs[0]["suite"], "started": min(r["started"] for r in runs),
            "finished": max(r["finished"] for r in runs), "runs": runs}


def write_merged(results: dict, report_dir: Path) -> None:
    from conformance.report import write_reports

    write_reports(results, report_dir)


def run(args) -> int:
    """Run the suite for each profile; exit status: the worst of the runs (0, 1 or 2)."""
    loaded = check_inputs(args)
    specs, profiles = [spec for spec, _ in loaded], [profile for _, profile in loaded]
    report_dir = Path(args.report_dir).resolve()
    dirs = run_dirs(profiles, report_dir)
    codes = []
    for spec, profile, out in zip(specs, profiles, dirs, strict=True):
        if len(profiles) > 1:
            print(f"== emap-conformance: profile {profile.name} -> {out}", flush=True)
        code = subprocess.call(pytest_command(args, spec, out))
        codes.append(code if code in JUDGED_CODES else EXIT_UNJUDGED)
    if len(profiles) > 1:
        merged = merge(report_dir, dirs)
        if merged is None:
            raise CliError(f"no profile run produced results in {report_dir}")
        write_merged(merged, report_dir)
        print(f"== emap-conformance: {len(merged['runs'])} runs merged into {report_dir / 'results.json'}; "
              f"exit status {max(codes)}", flush=True)
    return max(codes)
