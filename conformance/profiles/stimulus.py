"""The stimulus adaptor (ICS-12, interfaces.md section 3): asks the IUT to start a procedure.

Exit 0 -> "accepted", 4 -> "refused", 3 -> "unsupported", any other exit or a timeout -> "error";
kind "none", or "prompt" in a non-interactive run (CI set or stdin not a terminal) -> "unavailable".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

from .model import Profile

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_EXIT_STATUS = {0: "accepted", 4: "refused", 3: "unsupported"}
_PROMPT_ANSWERS = {"a": "accepted", "r": "refused", "u": "unsupported"}
_KILL_GRACE_S = 2.0
_OUTPUT_LIMIT = 64 * 1024
STATUSES = ("accepted", "refused", "unsupported", "error", "unavailable")


@dataclass(frozen=True)
class StimulusOutcome:
    """What became of a stimulus: ``status`` is one of STATUSES; ``detail`` says why (one line)."""

    status: str
    detail: str = ""


def in_ci() -> bool:
    """True when the CI environment variable is set to anything but empty/0/false."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _read(file) -> str:
    file.seek(0)
    return file.read(_OUTPUT_LIMIT).decode("utf-8", "replace")


def _one_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass
class StimulusAdaptor:
    """Runs the profile's ``[stimulus]``; ``context`` supplies extra ``{name}`` placeholders (e.g. ``control``)."""

    profile: Profile
    context: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.profile.stimulus["kind"]

    @property
    def timeout_s(self) -> float:
        return float(self.profile.stimulus["timeout_s"])

    @property
    def available(self) -> bool:
        """Whether a stimulus can reach the IUT in this run at all."""
        if self.kind == "command":
            return True
        return self.kind == "prompt" and not in_ci() and sys.stdin.isatty()

    def argv(self, action: str, args: dict[str, Any]) -> list[str]:
        """The command line with placeholders substituted; raises KeyError naming an unknown placeholder."""
        values = {**self.context, "action": action, "args": json.dumps(args, separators=(",", ":"))}

        def substitute(match: re.Match) -> str:
            return str(values[match.group(1)])

        return [_PLACEHOLDER.sub(substitute, part) for part in self.profile.stimulus["command"]]

    async def stimulate(self, action: str, args: dict[str, Any] | None = None) -> StimulusOutcome:
        """Ask the IUT to carry out ``action`` with ``args``; never waits longer than about ``timeout_s``."""
        args = {} if args is None else args
        if self.kind == "command":
            return await self._run_command(action, args)
        if not self.available:
            why = (
                "no stimulus configured (kind none)"
                if self.kind == "none"
                else "operator prompt needs an interactive run"
            )
            return StimulusOutcome("unavailable", f"{why}: cannot ask the IUT to {action}")
        return await self._prompt(action, args)

    async def _run_command(self, action: str, args: dict[str, Any]) -> StimulusOutcome:
        try:
            argv = self.argv(action, args)
        except KeyError as exc:
            return StimulusOutcome("error", f"stimulus.command: unknown placeholder {{{exc.args[0]}}}")
        # Output goes to files, not pipes: a helper the command leaves running must not hold the run up.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
                )
            except OSError as exc:
                return StimulusOutcome("error", f"cannot run {argv[0]!r}: {exc.strerror or exc}")
            try:
                async with asyncio.timeout(self.timeout_s):
                    code = await proc.wait()
            except TimeoutError:
                await _kill(proc)
                return StimulusOutcome(
                    "error", f"{action}: no answer from the stimulus command within {self.timeout_s:g} s"
                )
            detail = _one_line(_read(err)) or _one_line(_read(out))
        return StimulusOutcome(_EXIT_STATUS.get(code, "error"), detail or f"{action}: exit {code}")

    async def _prompt(self, action: str, args: dict[str, Any]) -> StimulusOutcome:
        """Ask the operator at the terminal; the answer must come within ``timeout_s``."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        fd = sys.stdin.fileno()

        def on_input() -> None:
            if not answer.done():
                answer.set_result(sys.stdin.readline())

        print(
            f"\nEMAP stimulus: make the IUT {action} with {json.dumps(args)}\n"
            f"  then type a (done), r (IUT refuses), u (not supported) and Enter within {self.timeout_s:g} s: ",
            end="",
            file=sys.stderr,
            flush=True,
        )
        loop.add_reader(fd, on_input)
        try:
            async with asyncio.timeout(self.timeout_s):
                text = await answer
        except TimeoutError:
            return StimulusOutcome("error", f"{action}: no operator answer within {self.timeout_s:g} s")
        finally:
            loop.remove_reader(fd)
        status = _PROMPT_ANSWERS.get(text.strip().lower()[:1], "error")
        return StimulusOutcome(status, f"{action}: operator answered {text.strip()!r}")


async def _kill(proc: asyncio.subprocess.Process) -> None:
    """Kill the command and everything it started (its own session), and reap it, bounded."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_KILL_GRACE_S):
            await proc.wait()
