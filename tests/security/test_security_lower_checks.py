"""The clause-8 lower-EMA checks against the sample lower EMA in push mode under DTLS-PSK (EMAP-8-02, -04,
-07, -08), and against mutants of its guard."""

from __future__ import annotations

from dataclasses import replace

import pytest
from security_helpers import TIMEOUT, lower_config, needs_dtls, plain_of, stub_link

from conformance.ema.main import RunningEma
from conformance.ema.security import SecurityGuard
from conformance.messages import build
from conformance.testcases.security.checks import (
    SecureIut,
    check_plain_datagram_dropped,
    check_unprotected_refused,
)
from conformance.testcases.security.lower_checks import (
    SecureUpperStub,
    check_announces_coaps,
    check_client_identity,
    check_foreign_identity,
    distribute_event,
)
from conformance.transport.client import CoapClient
from conformance.verdict import Fail

pytestmark = [needs_dtls, pytest.mark.filterwarnings("ignore:DTLS module did not shut down:UserWarning")]


@pytest.fixture
async def registered_lower():
    """A DTLS upper stub and the sample lower EMA registered with it: ``(stub, lower transport address)``."""
    stub = await SecureUpperStub(stub_link(), poll_freq_s=2).start(("127.0.0.1", 0))
    host, port = stub.address
    ema = RunningEma(lower_config(f"coaps://{host}:{port}/emap"))
    try:
        await ema.start()
        create = await stub.next("emapCreatePartyRegistration", TIMEOUT)
        await stub.next("emapRegisterReport", TIMEOUT)  # registered: the link exists at the lower EMA
        yield stub, create
    finally:
        await ema.stop()
        await stub.stop()


def _lower(stub, create) -> SecureIut:
    address = check_announces_coaps(create)
    return SecureIut(address, replace(stub.link, unprotected_uri=plain_of(address)), TIMEOUT)


async def test_sample_lower_passes_clause_8(registered_lower):
    stub, create = registered_lower
    link = stub.link
    check_client_identity(await stub.next("emapQueryRegistration", TIMEOUT), link)
    check_client_identity(create, link)
    lower = _lower(stub, create)
    await check_foreign_identity(lower)
    await check_unprotected_refused(lower, "EiEvent", distribute_event(lower))  # TC-S-8-12
    await check_plain_datagram_dropped(lower, 0.5)  # TC-S-8-14


async def test_lower_answers_unprotected_4_01(registered_lower):
    _, create = registered_lower
    address = create.message.body["emapTransportAddress"]
    client = await CoapClient.create()
    try:
        response = await client.request(
            f"{plain_of(address)}/EiEvent",
            timeout=TIMEOUT,
            payload=build.distribute_event("plain-1", "vtn-sample", []),
        )
    finally:
        await client.close()
    assert response.code == "4.01"


async def test_mutant_skipping_lower_identity_check_caught(monkeypatch, registered_lower):
    stub, create = registered_lower
    monkeypatch.setattr(SecurityGuard, "_check_lower", lambda self, role, message, identity: None)
    with pytest.raises(Fail, match="EMAP-8-07"):
        await check_foreign_identity(_lower(stub, create))


def test_lower_needs_credentials_for_coaps_upper():
    from conformance.ema.config import ConfigError

    with pytest.raises(ConfigError, match="--ven-id"):
        lower_config("coaps://127.0.0.1:5684/emap", ven_id=None)
    with pytest.raises(ConfigError, match="--upper-vtn-id"):
        lower_config("coaps://127.0.0.1:5684/emap", upper_vtn_id=None)
