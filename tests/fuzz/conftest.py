"""Fixtures: the sample upper EMA in-process and a fuzz target against it."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import upper_target

from conformance.profiles import load_profile


@pytest.fixture
def timing():
    return load_profile("upper").timing


@pytest.fixture
async def target(timing):
    """A fuzz target against a fresh sample upper EMA."""
    async with upper_target(timing) as started:
        yield started
