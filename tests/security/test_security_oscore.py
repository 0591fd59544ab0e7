"""The clause-8 checks against the sample upper EMA under OSCORE (provisioned contexts, EMAP-8-06, -08, -09),
and a mutant of its guard that accepts unprotected requests."""

from __future__ import annotations

import pytest
from security_helpers import TIMEOUT, oscore_context

from conformance.ema.config import ConfigError, EmaConfig, Endpoint
from conformance.ema.main import RunningEma, config_from_args
from conformance.ema.security import SecurityGuard
from conformance.security import LinkSecurity
from conformance.testcases.security.checks import (
    SecureUpper,
    check_handshake,
    check_identity_mismatch,
    check_oscore_replay,
    check_unprotected_refused,
)
from conformance.verdict import Fail

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
async def oscore_upper(tmp_path):
    """A sample upper EMA whose link with ``ven-1`` is OSCORE, and a ``SecureUpper`` towards it as ``ven-1``."""
    server = oscore_context(tmp_path / "ema-ven-1", "01", "02")
    client = oscore_context(tmp_path / "peer-ven-1", "02", "01")
    config = EmaConfig(role="upper", bind=Endpoint("127.0.0.1", 0, ("emap",)), oscore={"ven-1": server + "/"},
                       t_prompt=2, poll_freq=2, ack_timeout=0.5, max_retransmit=2)
    config.validate()
    ema = RunningEma(config)
    ready = await ema.start()
    link = LinkSecurity.parse({"profile": "oscore", "identity": "ven-1", "oscore_context": client})
    try:
        yield SecureUpper(ready["upper"], link, TIMEOUT)
    finally:
        await ema.stop()


async def test_sample_upper_passes_oscore_checks(oscore_upper):
    await check_handshake(oscore_upper)
    await check_identity_mismatch(oscore_upper)
    await check_unprotected_refused(oscore_upper)
    await check_oscore_replay(oscore_upper, 0.5)


async def test_mutant_accepting_unprotected_caught(monkeypatch, oscore_upper):
    check = SecurityGuard.check
    monkeypatch.setattr(SecurityGuard, "check", lambda self, role, message, identity: (
        (None, message) if identity is None else check(self, role, message, identity)))
    with pytest.raises(Fail, match="EMAP-8-08"):
        await check_unprotected_refused(oscore_upper)


def test_oscore_options(tmp_path):
    context = oscore_context(tmp_path / "c", "01", "02")
    config = config_from_args(["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--oscore", f"ven-1={context}"])
    assert config.oscore == {"ven-1": context + "/"}
    with pytest.raises(ConfigError, match="has no settings.json"):
        config_from_args(["--role", "upper", "--oscore", f"ven-1={tmp_path}"])
    with pytest.raises(ConfigError, match="only for an upper role"):
        config_from_args(["--role", "upper", "--bind", "coaps://127.0.0.1:0/emap", "--psk", "ven-1=00",
                          "--oscore", f"ven-1={context}"])
