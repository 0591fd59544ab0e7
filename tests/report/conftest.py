"""Fixtures of the report tests: a synthetic results dict and the traces it names."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from report_samples import sample_run, write_sample_traces


@pytest.fixture
def results() -> dict:
    return copy.deepcopy(sample_run())


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A report directory holding the per-test traces a run would have written."""
    write_sample_traces(tmp_path)
    return tmp_path
