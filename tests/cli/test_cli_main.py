"""``emap-conformance``: list, run (one and several profiles), bad input, delegation to ema/report/stimulate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from conformance.cli.pytest_args import ASYNCIO_OVERRIDES, plugin_registered
from conformance.cli.run import pytest_command
from conformance.profiles import bundled_profiles, load_profile

VERDICTS = Path(__file__).parents[1] / "plugin" / "fake_suite" / "plugin_fake_verdicts.py"
FAST = ("-p", "no:hypothesispytest")


def emap(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAP_")}
    tail = ["--", *FAST] if args[0] == "run" else []
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args, *tail], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120, check=False)


def _sections(text: str) -> dict[str, list[str]]:
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("# profile "):
            current = sections.setdefault(line.split()[2], [])
        elif line.strip():
            current.append(line)
    return sections


def test_list_shows_every_bundled_profile(tmp_path):
    proc = emap("list", "--cases", str(VERDICTS), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    sections = _sections(proc.stdout)
    assert sorted(sections) == sorted(bundled_profiles())
    for name, rows in sections.items():
        assert len(rows) == 8
        row = next(r for r in rows if r.startswith("TC-F-NA-PROFILE "))
        profile = load_profile(name)
        runs = profile.selects("TC-F-NA-PROFILE") and profile.role not in ("upper", "intermediate")
        expected = "applicable" if runs else "not applicable"
        assert re.split(r"\s{2,}", row)[1] == expected, (name, row)
        assert "EMAP-5-03" in row


def test_list_json_with_selection(tmp_path):
    proc = emap("list", "--cases", str(VERDICTS), "--profile", "upper", "-k", "TC-F-PASS or TC-F-NA", "--json",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    [plan] = json.loads(proc.stdout)
    assert (plan["profile"], plan["role"]) == ("upper", "upper")
    rows = {row["id"]: row for row in plan["tests"]}
    assert sorted(rows) == ["TC-F-NA-PROFILE", "TC-F-NA-RAISED", "TC-F-PASS"]
    assert rows["TC-F-PASS"]["applicable"] is True and rows["TC-F-PASS"]["requirements"] == ["EMAP-6.2.3-04"]
    assert rows["TC-F-NA-PROFILE"]["applicable"] is False


@pytest.mark.parametrize("args", [
    ("list", "--profile", "no-such-profile"),
    ("run", "--profile", "no-such-profile"),
    ("run", "--profile", "upper", "--iut", "http://192.0.2.1/emap"),
    ("run", "--iut", "coap://192.0.2.1/emap"),
    ("run", "--profile", "upper", "--seed", "abc"),
    ("run", "--profile", "upper", "--fuzz-examples", "0"),
    ("run", "--profile", "upper", "--baseline", "missing.toml"),
    ("run", "--no-such-option"),
    ("run", "--replay", "missing-replay.json"),
])
def test_bad_input_is_one_line_and_2(tmp_path, args):
    proc = emap(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emap-conformance: error: "), proc.stderr
    assert not (tmp_path / "reports").exists()


@pytest.fixture(scope="module")
def two_profiles(tmp_path_factory):
    """One run of two fake cases under two profiles."""
    out = tmp_path_factory.mktemp("two")
    proc = emap("run", "--cases", str(VERDICTS), "-k", "TC-F-PASS or TC-F-NA-RAISED", "--profile", "upper",
                "--profile", "lower-pull", "--report-dir", str(out), cwd=out)
    return proc, out


def test_run_several_profiles_merges_results(two_profiles):
    proc, out = two_profiles
    assert proc.returncode == 0, proc.stdout + proc.stderr
    merged = json.loads((out / "results.json").read_text())
    assert [run["profile"]["name"] for run in merged["runs"]] == ["upper", "lower-pull"]
    for run in merged["runs"]:
        name = run["profile"]["name"]
        assert (out / name / "results.json").is_file()
        traced = next(t for t in run["tests"] if t["id"] == "TC-F-PASS")
        assert traced["trace"] == f"{name}/trace/TC-F-PASS.jsonl" and (out / traced["trace"]).is_file()
        assert {t["id"]: t["verdict"] for t in run["tests"]} == {"TC-F-PASS": "pass",
                                                                  "TC-F-NA-RAISED": "not-applicable"}
    assert (out / "conformance.html").is_file()


def test_run_exit_status_is_the_worst_of_the_profiles(tmp_path):
    proc = emap("run", "--cases", str(VERDICTS), "-k", "TC-F-NA-PROFILE", "--profile", "upper",
                "--profile", "lower-pull", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2  # not applicable under upper (0); under lower-pull its body raises (error, 2)
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [run["tests"][0]["verdict"] for run in runs] == ["not-applicable", "error"]


def test_report_is_delegated(two_profiles, tmp_path):
    proc = emap("report", str(two_profiles[1] / "results.json"), "--out", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "conformance.html").is_file()


@pytest.mark.parametrize("command", ["ema", "stimulate", "load"])
def test_commands_are_delegated(tmp_path, command):
    proc = emap(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0 and f"emap-conformance {command}" in proc.stdout


def test_no_command_is_2(tmp_path):
    assert emap("--help", cwd=tmp_path).returncode == 0
    assert subprocess.run([sys.executable, "-m", "conformance.cli.main"], capture_output=True,
                          check=False).returncode == 2


def test_pytest_command_of_a_run():
    args = Namespace(cases="conformance.testcases", seed=7, iut="coap://192.0.2.1/emap", baseline=None, k="TC-U",
                     fuzz_examples=None, fuzz_seconds=1.5, strict=True, pytest_args=["-x"])
    cmd = pytest_command(args, "upper", Path("/tmp/r"))
    assert cmd[1:5] == ["-m", "pytest", "--pyargs", "conformance.testcases"]
    for override in ASYNCIO_OVERRIDES:
        assert cmd[cmd.index(override) - 1] == "-o"
    joined = " ".join(cmd)
    assert "--profile upper --report-dir /tmp/r --seed 7" in joined and "--iut coap://192.0.2.1/emap" in joined
    assert "-k TC-U" in joined and "--fuzz-seconds 1.5" in joined and "--emap-strict" in joined
    assert cmd[-1] == "-x" and ("-p conformance.plugin" in joined) is not plugin_registered()


def test_replay_selects_the_saved_test_and_profile(tmp_path, monkeypatch):
    from conformance.cli.run import apply_replay
    from conformance.fuzz import replay

    monkeypatch.setenv(replay.REPLAY_ENV, "")  # restored after the test; apply_replay sets it
    path = replay.save(tmp_path, "TC-F-MSG[emapPoll]", profile="upper", seed=3, problem="p", sent=b"", cases=[])
    args = Namespace(replay=str(path), profile=None, k=None)
    apply_replay(args)
    assert args.profile == ["upper"] and args.k == "TC-F-MSG[emapPoll]"
    assert os.environ[replay.REPLAY_ENV] == str(path.resolve())
