"""Saved failing fuzz cases: the replay file, the one-line replay command, loading a file back.

A failing fuzz test writes ``<report-dir>/fuzz/<test id>.json``:
``{"format": "emap-fuzz-replay/1", "test": id, "profile": name, "seed": n, "problem": text,
"cases": [case, ...] | "steps": [step, ...], "sent": text}``. Re-running it: the test whose id the file names
replays the saved cases (or procedure steps) instead of drawing new ones when ``EMAP_FUZZ_REPLAY`` names the
file (``emap-conformance run --replay FILE`` sets it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

FORMAT = "emap-fuzz-replay/1"
REPLAY_ENV = "EMAP_FUZZ_REPLAY"


class ReplayError(ValueError):
    """A replay file that cannot be used; ``str()`` is one line naming the file."""


def file_name(test_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", test_id) + ".json"


def save(report_dir: Path, test_id: str, *, profile: str, seed: int, problem: str, sent: bytes,
         cases: list[dict] | None = None, steps: list[dict] | None = None) -> Path:
    """Write the replay file of a failing fuzz test; returns its path."""
    folder = Path(report_dir) / "fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "test": test_id, "profile": profile, "seed": seed, "problem": problem,
            "sent_hex": sent.hex()}
    if cases is not None:
        data["cases"] = cases
    if steps is not None:
        data["steps"] = steps
    path = folder / file_name(test_id)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def command(path: Path) -> str:
    """The one-line shell command that replays a saved case (the file names its profile and test)."""
    return f"emap-conformance run --replay {shlex.quote(str(path))}"


def load(path: str | Path) -> dict:
    """The content of a replay file; ReplayError naming the file and what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReplayError(f"replay file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ReplayError(f"replay file {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReplayError(f"replay file {path}: not a fuzz replay file (format {FORMAT!r} expected)")
    if not isinstance(data.get("test"), str) or not (isinstance(data.get("cases"), list)
                                                     or isinstance(data.get("steps"), list)):
        raise ReplayError(f"replay file {path}: needs 'test' and a list of 'cases' or 'steps'")
    return data


def requested(test_id: str) -> dict | None:
    """The replay file named by ``EMAP_FUZZ_REPLAY`` when it is for ``test_id``; None when none is named or it is
    for another test. ReplayError when the file is unusable."""
    path = os.environ.get(REPLAY_ENV)
    if not path:
        return None
    data = load(path)
    return data if data["test"] == test_id else None
