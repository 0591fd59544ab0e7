"""The embedded sample EMA: its command line follows the profile; start waits (bounded) for the ready line."""

from __future__ import annotations

import sys

import pytest

from conformance.ema.main import config_from_args
from conformance.plugin.embedded import EmaStartError, EmbeddedEma, ema_command
from conformance.profiles import bundled_profiles, load_profile

READY = '{"event": "ready", "upper": "coap://127.0.0.1:1/emap", "lower": null, "control": "coap://127.0.0.1:2"}'


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.parametrize("name", bundled_profiles())
def test_command_is_accepted_by_the_sample_ema(name):
    profile = load_profile(name)
    peer_uri = f"{'coaps' if name.startswith('dtls-') else 'coap'}://127.0.0.1:5999/emap"
    cmd = ema_command(profile, peer_uri)
    assert cmd[1:5] == ["-m", "conformance.cli.main", "ema", "--role"]
    config = config_from_args(cmd[4:])
    assert config.role == profile.role and config.t_prompt == profile.timing.t_prompt_s
    assert config.ack_timeout == profile.timing.ack_timeout_s
    assert config.opt_change == profile.pics["opt_change"]
    if profile.role != "upper":
        assert config.mode == profile.mode and config.upper == peer_uri


def test_start_returns_the_ready_line_and_stop_terminates(tmp_path):
    code = f"import signal, sys, time; print({READY!r}, flush=True); time.sleep(60)"
    ema = EmbeddedEma(_python(code), tmp_path, ready_timeout=20)
    assert ema.start()["control"] == "coap://127.0.0.1:2"
    assert ema.stop() == -15  # SIGTERM
    assert ema.stop() == -15  # idempotent


def test_stop_kills_an_ema_that_ignores_sigterm(tmp_path):
    code = (f"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print({READY!r}, flush=True); "
            "time.sleep(60)")
    ema = EmbeddedEma(_python(code), tmp_path, ready_timeout=20, stop_timeout=0.5)
    ema.start()
    assert ema.stop() == -9


@pytest.mark.parametrize(("code", "text"), [
    ("import sys; sys.stderr.write('bad option --x\\n'); sys.exit(2)", "exited with status 2.*bad option --x"),
    ("print('hello', flush=True)", "not JSON"),
    ("print('{\"event\": \"other\"}', flush=True)", "not a ready event"),
    ("import time; time.sleep(60)", "no ready line within 0.5 s"),
])
def test_start_failures_are_one_line(tmp_path, code, text):
    ema = EmbeddedEma(_python(code), tmp_path, ready_timeout=0.5 if "sleep" in code else 20, stop_timeout=2)
    with pytest.raises(EmaStartError, match=text) as error:
        ema.start()
    assert "\n" not in str(error.value)
    assert ema.process.poll() is not None  # stopped


def test_an_ema_that_ends_on_its_own_is_noticed(tmp_path):
    ema = EmbeddedEma(_python(f"print({READY!r}, flush=True)"), tmp_path, ready_timeout=20)
    ema.start()
    ema.process.wait(20)
    assert ema.died() == 0
    ema.stop()
    assert ema.died() is None
