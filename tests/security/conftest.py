"""Shared fixture of the security tests: a sample upper EMA served over DTLS-PSK."""

from __future__ import annotations

import pytest
from security_helpers import TIMEOUT, link_of, upper_config

from conformance.ema.main import RunningEma
from conformance.testcases.security.checks import SecureIut


@pytest.fixture
async def dtls_upper():
    """A running sample upper EMA over DTLS-PSK and a ``SecureIut`` towards it as lower EMA ``ven-1``."""
    ema = RunningEma(upper_config())
    ready = await ema.start()
    try:
        yield SecureIut(ready["upper"], link_of(ready["upper"]), TIMEOUT), ema
    finally:
        await ema.stop()
