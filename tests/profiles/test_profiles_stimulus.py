"""Stimulus adaptor (interfaces.md section 3): exit codes, timeouts, placeholders, kinds none/prompt."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from conformance.profiles import StimulusAdaptor, profile_from_data


def adaptor(stimulus: dict, **context) -> StimulusAdaptor:
    data = {"name": "t", "pics": {"role": "upper"}, "pixit": {"iut": "embedded"}, "stimulus": stimulus}
    return StimulusAdaptor(profile_from_data(data, "test.toml"), context=dict(context))


def python_command(code: str, timeout_s: float = 10) -> dict:
    return {
        "kind": "command",
        "command": [sys.executable, "-c", code, "{action}", "{args}"],
        "timeout_s": timeout_s,
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, "accepted"), (4, "refused"), (3, "unsupported"), (2, "error"), (1, "error"), (70, "error")],
)
async def test_exit_code_mapping(code, status):
    outcome = await adaptor(python_command(f"import sys; sys.exit({code})")).stimulate("create-event", {})
    assert outcome.status == status
    assert outcome.detail


async def test_detail_is_last_stderr_line():
    script = "import sys; print('working'); print('first', file=sys.stderr); print('no such venID', file=sys.stderr); sys.exit(2)"
    outcome = await adaptor(python_command(script)).stimulate("cancel-registration", {"venID": "v"})
    assert outcome.status == "error"
    assert outcome.detail == "no such venID"


async def test_placeholders_substituted():
    script = "import json, sys; print(json.dumps(sys.argv[1:]))"
    stim = {
        "kind": "command",
        "command": [
            sys.executable,
            "-c",
            script,
            "--control",
            "{control}",
            "{action}",
            "{args}",
            "x{action}y",
        ],
    }
    outcome = await adaptor(stim, control="coap://127.0.0.1:4711").stimulate(
        "create-opt", {"optType": "optOut"}
    )
    assert outcome.status == "accepted"
    argv = json.loads(outcome.detail)
    assert argv[:3] == ["--control", "coap://127.0.0.1:4711", "create-opt"]
    assert json.loads(argv[3]) == {"optType": "optOut"}
    assert argv[4] == "xcreate-opty"


async def test_unknown_placeholder_is_error():
    stim = {"kind": "command", "command": [sys.executable, "-c", "pass", "{control}"]}
    outcome = await adaptor(stim).stimulate("poll", {})
    assert outcome.status == "error"
    assert "{control}" in outcome.detail


async def test_missing_program_is_error():
    outcome = await adaptor({"kind": "command", "command": ["/nonexistent/stimulus-tool"]}).stimulate(
        "poll", {}
    )
    assert outcome.status == "error"
    assert "/nonexistent/stimulus-tool" in outcome.detail


async def test_timeout_is_error_and_bounded():
    started = time.monotonic()
    outcome = await adaptor(python_command("import time; time.sleep(30)", timeout_s=0.5)).stimulate(
        "poll", {}
    )
    assert outcome.status == "error"
    assert "within 0.5 s" in outcome.detail
    assert time.monotonic() - started < 5


async def test_helper_left_running_does_not_hold_the_answer():
    script = (
        "import subprocess, sys; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print(p.pid)"
    )
    started = time.monotonic()
    outcome = await adaptor(python_command(script, timeout_s=20)).stimulate("poll", {})
    os.kill(int(outcome.detail), signal.SIGKILL)
    assert outcome.status == "accepted"
    assert time.monotonic() - started < 20


async def test_kind_none_is_unavailable():
    outcome = await adaptor({"kind": "none"}).stimulate("create-event", {})
    assert outcome.status == "unavailable"
    assert "create-event" in outcome.detail


async def test_prompt_under_ci_is_unavailable(monkeypatch):
    monkeypatch.setenv("CI", "true")
    stimulus = adaptor({"kind": "prompt"})
    assert not stimulus.available
    outcome = await stimulus.stimulate("create-event", {})
    assert outcome.status == "unavailable"


async def test_prompt_without_terminal_is_unavailable(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    outcome = await adaptor({"kind": "prompt"}).stimulate("create-event", {})
    assert outcome.status == "unavailable"


@pytest.mark.parametrize(
    ("answer", "status"), [("a", "accepted"), ("r", "refused"), ("u", "unsupported"), ("?", "error")]
)
async def test_prompt_on_a_terminal_reads_the_operator_answer(monkeypatch, answer, status):
    monkeypatch.delenv("CI", raising=False)
    main_fd, tty_fd = os.openpty()
    with os.fdopen(tty_fd, "r") as tty, os.fdopen(main_fd, "wb", buffering=0) as keyboard:
        monkeypatch.setattr(sys, "stdin", tty)
        keyboard.write(f"{answer}\n".encode())
        outcome = await adaptor({"kind": "prompt", "timeout_s": 5}).stimulate("create-event", {"venID": "v"})
    assert outcome.status == status


async def test_prompt_without_answer_times_out(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    main_fd, tty_fd = os.openpty()
    with os.fdopen(tty_fd, "r") as tty, os.fdopen(main_fd, "wb", buffering=0):
        monkeypatch.setattr(sys, "stdin", tty)
        outcome = await adaptor({"kind": "prompt", "timeout_s": 0.3}).stimulate("create-event", {})
    assert outcome.status == "error"
    assert "no operator answer" in outcome.detail
