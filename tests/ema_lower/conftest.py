"""Fixtures: a scripted upper EMA and the sample lower EMA (pull or push) running against it."""

from __future__ import annotations

import pytest
from ema_lower_upper_script import Lower, ScriptedUpper, lower_config

from conformance.ema.main import RunningEma
from conformance.transport.client import CoapClient
from conformance.transport.params import TransmissionParams
from conformance.transport.server import CoapServer


@pytest.fixture
async def upper():
    scripted = ScriptedUpper()
    scripted.server = await CoapServer.start(scripted.handler)
    try:
        yield scripted
    finally:
        await scripted.server.stop()
    assert scripted.violations == []


async def _running_lower(upper: ScriptedUpper, mode: str):
    running = RunningEma(lower_config(upper.base, mode))
    await running.start()
    client = await CoapClient.create(TransmissionParams(0.3, 1.0, 1))
    try:
        yield Lower(running, client)
    finally:
        await client.close()
        await running.stop()


@pytest.fixture
async def lower_pull(upper):
    async for lower in _running_lower(upper, "pull"):
        yield lower


@pytest.fixture
async def lower_push(upper):
    async for lower in _running_lower(upper, "push"):
        yield lower
