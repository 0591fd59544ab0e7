"""Fixtures: the sample upper EMA in-process and a fuzz target against it."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import EMA_ARGS, started_target, stop_target

from conformance.ema.main import RunningEma, config_from_args
from conformance.profiles import load_profile


@pytest.fixture
def timing():
    return load_profile("upper").timing


@pytest.fixture
async def target(timing):
    """A fuzz target against a fresh sample upper EMA."""
    ema = RunningEma(config_from_args(EMA_ARGS))
    target = await started_target(ema, timing)
    try:
        yield target
    finally:
        await stop_target(target, ema)
