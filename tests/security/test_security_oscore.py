"""The clause-8 checks against the sample upper EMA under OSCORE (provisioned contexts, EMAP-8-06, -08, -09),
and a mutant of its guard that accepts unprotected requests."""

from __future__ import annotations

import asyncio
import sys

import pytest
from security_helpers import (
    KEY_2,
    OSCORE_KEY,
    TIMEOUT,
    accept_unprotected,
    needs_oscore,
    oscore_context,
    running,
    upper_config,
)

from conformance.ema.config import ConfigError, EmaConfig, Endpoint
from conformance.ema.main import RunningEma, config_from_args
from conformance.ema.security import SecurityGuard
from conformance.security import LinkSecurity, PskTable
from conformance.testcases.security.checks import (
    SecureIut,
    check_handshake,
    check_identity_mismatch,
    check_oscore_replay,
    check_push_identity,
    check_unprotected_refused,
)
from conformance.verdict import Fail

pytestmark = [needs_oscore, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def oscore_upper_config(contexts: dict, **changes) -> EmaConfig:
    """A sample upper EMA serving plain coap whose lower links are OSCORE with ``contexts``."""
    return upper_config(bind=Endpoint("127.0.0.1", 0, ("emap",)), psk=PskTable(), oscore=contexts, **changes)


@pytest.fixture
async def oscore_upper(tmp_path):
    """A sample upper EMA whose link with ``ven-1`` is OSCORE, and a ``SecureIut`` to it as ``ven-1``."""
    server = oscore_context(tmp_path / "ema-ven-1", "01", "02")
    client = oscore_context(tmp_path / "peer-ven-1", "02", "01")
    link = LinkSecurity.parse({"profile": "oscore", "identity": "ven-1", "oscore_context": client})
    async with running(oscore_upper_config({"ven-1": server + "/"})) as (ready, _):
        yield SecureIut(ready["upper"], link, TIMEOUT)


@pytest.fixture
async def provisioned_upper():
    """A sample upper EMA with two OSCORE lower links (``ven-1``, ``ven-2``) whose contexts the run provisions
    from test master secrets, as the bundled profile ``oscore-upper`` does; ``(SecureIut as ven-1, EMA)``."""
    link = LinkSecurity.parse(
        {"profile": "oscore", "identity": "ven-1", "psk_hex": OSCORE_KEY, "iut_identity": "vtn-sample",
         "other_identity": "ven-2", "other_psk_hex": KEY_2}
    )
    async with running(oscore_upper_config(link.iut_contexts(), vtn_id="vtn-sample")) as (ready, ema):
        yield SecureIut(ready["upper"], link, TIMEOUT), ema


async def test_provisioned_upper_passes_every_oscore_check(provisioned_upper):
    """EMAP-8-06 with a second provisioned lower EMA (no effect on its registration), EMAP-8-02 for pushes."""
    upper, ema = provisioned_upper
    await check_handshake(upper)
    await check_identity_mismatch(upper)

    async def create_event(ven_id: str) -> None:
        assert (await ema.agent.stimulate("create-event", {"venID": ven_id}))[0] == "accepted"

    await check_push_identity(upper, create_event, 5.0)


async def test_mutant_skipping_upper_identity_check_caught(monkeypatch, provisioned_upper):
    upper, _ = provisioned_upper
    monkeypatch.setattr(SecurityGuard, "_check_upper", lambda self, message, identity: (None, message))
    with pytest.raises(Fail, match="EMAP-8-06"):
        await check_identity_mismatch(upper)


async def test_sample_upper_passes_oscore_checks(oscore_upper):
    await check_handshake(oscore_upper)
    await check_identity_mismatch(oscore_upper)
    await check_unprotected_refused(oscore_upper)
    await check_oscore_replay(oscore_upper, 0.5)


async def test_mutant_accepting_unprotected_caught(monkeypatch, oscore_upper):
    accept_unprotected(monkeypatch)
    with pytest.raises(Fail, match="EMAP-8-08"):
        await check_unprotected_refused(oscore_upper)


def test_oscore_options(tmp_path):
    context = oscore_context(tmp_path / "c", "01", "02")
    config = config_from_args(
        ["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--oscore", f"ven-1={context}"]
    )
    assert config.oscore == {"ven-1": context + "/"}
    with pytest.raises(ConfigError, match="has no settings.json"):
        config_from_args(["--role", "upper", "--oscore", f"ven-1={tmp_path}"])
    with pytest.raises(ConfigError, match="OSCORE lower links need an upper role on a coap --bind"):
        config_from_args(
            [
                "--role",
                "upper",
                "--bind",
                "coaps://127.0.0.1:0/emap",
                "--psk",
                "ven-1=00",
                "--oscore",
                f"ven-1={context}",
            ]
        )


async def _line_with(stream, text: str, timeout: float) -> str:
    """The first line of ``stream`` containing ``text`` (bounded)."""
    seen = []
    async with asyncio.timeout(timeout):
        while line := (await stream.readline()).decode():
            if text in line:
                return line
            seen.append(line)
    raise AssertionError(f"{text!r} never logged; the log ended with: {''.join(seen[-5:])}")


async def test_sample_lower_push_over_oscore(tmp_path):
    """Both directions of one OSCORE link: the lower EMA registers (its context bound to its venID at U) and
    the upper EMA pushes an event to its coap transport address with the same context."""
    upper_side = oscore_context(tmp_path / "u", "01", "02")
    lower_side = oscore_context(tmp_path / "l", "02", "01")
    config = EmaConfig(
        role="upper",
        bind=Endpoint("127.0.0.1", 0, ("emap",)),
        oscore={"ven-1": upper_side + "/"},
        t_prompt=2,
        poll_freq=2,
        ack_timeout=0.5,
        max_retransmit=2,
    )
    config.validate()
    ema = RunningEma(config)
    ready = await ema.start()
    lower = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conformance.ema.main",
        "--role",
        "lower",
        "--mode",
        "push",
        "--bind",
        "coap://127.0.0.1:0/emapl",
        "--upper",
        ready["upper"],
        "--ven-id",
        "ven-1",
        "--upper-vtn-id",
        "vtn-sample",
        "--oscore",
        f"vtn-sample={lower_side}",
        "--t-prompt",
        "2",
        "--ack-timeout",
        "0.5",
        "--max-retransmit",
        "2",
        "--backoff-initial",
        "1",
        "--backoff-cap",
        "2",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _line_with(lower.stderr, "registered:", TIMEOUT)
        link = ema.agent.routes[("emap",)].registry.by_ven("ven-1")
        assert link is not None and link.transport_address.startswith("coap://")
        status, _ = await ema.agent.stimulate("create-event", {"venID": "ven-1"})
        assert status == "accepted"
        await _line_with(lower.stderr, "emapDistributeEvent -> 2.04 emapCreatedEvent", TIMEOUT)
    finally:
        lower.terminate()
        await lower.wait()
        await ema.stop()
