"""An intermediate sample EMA terminates security per link (Table 8-1, EMAP-8-02): DTLS-PSK towards its upper
EMA, NoSec towards its lower EMAs."""

from __future__ import annotations

import pytest
from security_helpers import KEY_1, TIMEOUT, needs_dtls, stub_link

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.main import RunningEma
from conformance.messages import build
from conformance.security import PskTable
from conformance.testcases.security.lower_checks import SecureUpperStub, check_client_identity
from conformance.transport.client import CoapClient

pytestmark = [needs_dtls, pytest.mark.filterwarnings("ignore:DTLS module did not shut down:UserWarning")]


async def test_each_link_uses_its_own_profile():
    stub = await SecureUpperStub(stub_link(), poll_freq_s=2).start(("127.0.0.1", 0))
    host, port = stub.address
    config = EmaConfig(
        role="intermediate",
        mode="pull",
        bind=Endpoint("127.0.0.1", 0, ("emap",)),
        upper=f"coaps://{host}:{port}/emap",
        ven_id="ven-1",
        psk=PskTable.parse([f"ven-1={KEY_1}"]),
        t_prompt=2,
        poll_freq=2,
        ack_timeout=0.5,
        max_retransmit=2,
        backoff_initial=1,
        backoff_cap=2,
    )
    config.validate()
    ema = RunningEma(config)
    client = await CoapClient.create()
    try:
        ready = await ema.start()
        check_client_identity(await stub.next("emapCreatePartyRegistration", TIMEOUT), stub.link)
        assert ready["upper"].startswith("coap://")
        response = await client.request(
            f"{ready['upper']}/EiRegisterParty",
            timeout=TIMEOUT,
            payload=build.query_registration("nosec-1", ven_id="ven-low"),
        )
        assert response.code == "2.04" and response.message.name == "emapCreatedPartyRegistration"
    finally:
        await client.close()
        await ema.stop()
        await stub.stop()
