"""Allure support: the plugin calls ``attach_trace`` for each test when allure-pytest is active."""

from __future__ import annotations

from pathlib import Path

import allure


def attach_trace(trace_path: Path | str) -> None:
    """Attach a test's JSON-lines wire trace to the current Allure test result."""
    path = Path(trace_path)
    allure.attach.file(
        str(path), name=f"wire trace ({path.name})", attachment_type="text/plain", extension="jsonl"
    )
