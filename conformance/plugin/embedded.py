"""Start and stop the bundled sample EMA as a subprocess (the embedded IUT).

The EMA prints one JSON line ``{"event": "ready", "upper": ..., "lower": ..., "control": ...}`` on stdout once its
endpoints are bound; everything else it logs goes to stderr. Both streams go to files in the report directory, so a
chatty EMA can never block on a full pipe, and the log is kept for the lab.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.02
LOG_TAIL_CHARS = 600


class EmaStartError(RuntimeError):
    """The sample EMA did not become ready; ``str()`` is one line with the end of its log."""


MUTANT_ENV = "EMAP_SAMPLE_MUTANT"
"""Names a mutant of the sample EMA to start instead of the shipped EMA (self-validation, docs/selfcheck.md)."""

LIST_ITEMS = (  # (option, "pics"|"pixit", item): declarations the EMA must make as the profile states them
    ("--metadata-reports", "pics", "metadata_reports"),
    ("--signals", "pics", "signals"),
    ("--preallocated-ven-ids", "pixit", "preallocated_ven_ids"),
    ("--resource-ids", "pixit", "resource_ids"),
    ("--group-ids", "pixit", "group_ids"),
    ("--group-names", "pixit", "group_names"),
    ("--party-ids", "pixit", "party_ids"),
    ("--device-classes", "pixit", "device_classes"),
    ("--market-contexts", "pixit", "market_contexts"),
)


def ema_command(profile, peer_uri: str | None) -> list[str]:
    """The command line that starts the sample EMA as ``profile`` declares it (role, mode, ids, PICS, timings);
    with ``$EMAP_SAMPLE_MUTANT`` set, the named mutant of the sample EMA instead."""
    timing, pics, pixit = profile.timing, profile.pics, profile.pixit
    mutant = os.environ.get(MUTANT_ENV)
    launcher = ["-m", "conformance.ema.mutants", mutant, "--"] if mutant else ["-m", "conformance.cli.main", "ema"]
    cmd = [sys.executable, *launcher, "--role", profile.role,
           "--bind", f"{_bind_scheme(profile)}://127.0.0.1:0/emap", "--control", "coap://127.0.0.1:0",
           "--t-prompt", str(timing.t_prompt_s), "--ack-timeout", str(timing.ack_timeout_s),
           "--ack-random-factor", str(timing.ack_random_factor), "--max-retransmit", str(timing.max_retransmit),
           "--backoff-initial", str(timing.backoff_initial_s), "--backoff-cap", str(timing.backoff_cap_s),
           "--poll-freq", str(pixit["poll_freq_s"]), "--max-payload", str(pics["max_payload"])]
    if profile.role != "upper":
        cmd += ["--mode", profile.mode or "pull", "--upper", peer_uri]
    for option, value in (("--vtn-id", pixit["vtn_id"]), ("--ven-id", pixit["ven_id"]),
                          ("--longest-poll-period", pixit["longest_poll_period_s"])):
        if value is not None and value != "":
            cmd += [option, str(value)]
    if not pics["self_chosen_ven_ids"]:
        cmd.append("--no-self-chosen-ven-ids")
    if not pics["opt_change"]:
        cmd.append("--no-opt-change")
    for option, section, item in LIST_ITEMS:
        values = (pics if section == "pics" else pixit)[item]
        if values or item == "metadata_reports":
            cmd += [option, *map(str, values)]
    return cmd + security_options(profile)


def _bind_scheme(profile) -> str:
    """``coaps`` when the EMA serves a DTLS-PSK link (upper role, or a push-mode lower role), else ``coap``."""
    credentials = profile.pixit["credentials"] or {}
    serves = profile.role != "lower" or profile.mode == "push"
    return "coaps" if serves and credentials.get("profile") == "dtls-psk" else "coap"


def security_options(profile) -> list[str]:
    """The sample EMA's clause-8 options for ``[pixit.credentials]`` (docs/security.md): DTLS-PSK keys of every
    identity of the link, or the EMA-side OSCORE context of the peer's identity; a lower role also learns its
    upper EMA's identity (``--upper-vtn-id``)."""
    credentials = profile.pixit["credentials"] or {}
    kind, identity = credentials.get("profile", "nosec"), credentials.get("identity")
    if kind == "nosec":
        return []
    if kind == "dtls-psk":
        keys = {identity: credentials["psk_hex"]}
        if credentials.get("iut_identity"):
            keys[credentials["iut_identity"]] = credentials["psk_hex"]
        if credentials.get("other_identity"):
            keys[credentials["other_identity"]] = credentials["other_psk_hex"]
        options = ["--psk", *(f"{name}={key}" for name, key in keys.items())]
    else:  # the EMA's side of each OSCORE link, provisioned for this run unless given (docs/security.md)
        from conformance.security import LinkSecurity

        contexts = LinkSecurity.parse(credentials).iut_contexts()
        options = ["--oscore", *(f"{name}={directory}" for name, directory in contexts.items())]
    if profile.role != "upper":
        options += ["--upper-vtn-id", identity]
    return options


class EmbeddedEma:
    """One sample-EMA subprocess: ``start()`` waits (bounded) for its ready line; ``stop()`` ends it."""

    def __init__(self, command: list[str], log_dir: Path, *, ready_timeout: float = READY_TIMEOUT_S,
                 stop_timeout: float = STOP_TIMEOUT_S):
        self.command = command
        self.stdout_path = log_dir / "ema.stdout"
        self.log_path = log_dir / "ema.log"
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self.stopping = False

    def start(self) -> dict:
        """Start the EMA and return its ready object; raises EmaStartError (the process is then stopped)."""
        self.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.stdout_path, "wb") as out, open(self.log_path, "wb") as err:
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            return self._wait_ready()
        except EmaStartError:
            self.stop()
            raise

    def _wait_ready(self) -> dict:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            line = self._first_line()
            if line is not None:
                try:
                    ready = json.loads(line)
                except ValueError:
                    raise self._error(f"its first stdout line is not JSON: {line[:200]!r}") from None
                if not isinstance(ready, dict) or ready.get("event") != "ready":
                    raise self._error(f"its first stdout line is not a ready event: {line[:200]!r}")
                return ready
            if self.process.poll() is not None:
                raise self._error(f"it exited with status {self.process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise self._error(f"no ready line within {self.ready_timeout:g} s")
            time.sleep(POLL_INTERVAL_S)

    def _first_line(self) -> str | None:
        data = self.stdout_path.read_bytes()
        if b"\n" not in data:
            return None
        return data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()

    def _error(self, what: str) -> EmaStartError:
        tail = self.log_path.read_text("utf-8", "replace")[-LOG_TAIL_CHARS:] if self.log_path.exists() else ""
        tail = " | ".join(line.strip() for line in tail.splitlines() if line.strip())
        return EmaStartError(f"sample EMA did not start: {what}" + (f"; log: {tail}" if tail else ""))

    def died(self) -> int | None:
        """The exit status when the EMA ended on its own (not through ``stop()``), else None."""
        if self.process is None or self.stopping:
            return None
        return self.process.poll()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; returns the exit status (None if never started)."""
        self.stopping = True
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(self.stop_timeout)
        return proc.returncode
