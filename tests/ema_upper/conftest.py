"""Fixtures: the sample upper EMA in-process (fresh per test) and a CoAP client playing lower EMAs."""

from __future__ import annotations

import pytest
from ema_upper_peer import Upper, fast_config

from conformance.ema.main import RunningEma
from conformance.transport.client import CoapClient
from conformance.transport.params import TransmissionParams


@pytest.fixture
def config():
    return fast_config()


@pytest.fixture
async def upper(config):
    running = RunningEma(config)
    await running.start()
    client = await CoapClient.create(TransmissionParams(0.5, 1.0, 2))
    try:
        yield Upper(running, client)
    finally:
        await client.close()
        await running.stop()
