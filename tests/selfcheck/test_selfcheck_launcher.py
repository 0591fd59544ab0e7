"""The mutant launcher and the embedded-EMA switch: bad names are one-line errors, a mutant EMA starts."""

import subprocess
import sys

from conformance.plugin.embedded import MUTANT_ENV, EmbeddedEma, ema_command
from conformance.profiles import load_profile


def launch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.ema.mutants", *args], capture_output=True,
                          text=True, timeout=60)


def test_unknown_mutant_is_a_one_line_error():
    done = launch("no-such-mutant", "--", "--role", "upper")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "unknown mutant 'no-such-mutant'" in done.stderr


def test_list_names_every_mutant():
    done = launch("list")
    assert done.returncode == 0
    assert "u-opt-not-stored" in done.stdout
    assert len(done.stdout.splitlines()) >= 50


def test_ema_command_uses_the_mutant_named_in_the_environment(monkeypatch):
    profile = load_profile("upper")
    monkeypatch.delenv(MUTANT_ENV, raising=False)
    assert "conformance.ema.mutants" not in ema_command(profile, None)
    monkeypatch.setenv(MUTANT_ENV, "t-reply-205")
    cmd = ema_command(profile, None)
    assert cmd[1:5] == ["-m", "conformance.ema.mutants", "t-reply-205", "--"]
    assert cmd[5:7] == ["--role", "upper"]


def test_a_mutant_sample_ema_starts_and_stops(monkeypatch, tmp_path):
    monkeypatch.setenv(MUTANT_ENV, "t-reply-205")
    ema = EmbeddedEma(ema_command(load_profile("upper"), None), tmp_path)
    try:
        ready = ema.start()
    finally:
        status = ema.stop()
    assert ready["upper"].startswith("coap://127.0.0.1:")
    assert status == 0
    assert "mutant t-reply-205" in (tmp_path / "ema.log").read_text("utf-8")
