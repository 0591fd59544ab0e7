"""An intermediate sample EMA terminates security per link (Table 8-1, EMAP-8-02): DTLS-PSK towards its upper
EMA, NoSec towards its lower EMAs."""

from __future__ import annotations

import pytest
from security_helpers import check_intermediate_links, lower_config, needs_dtls, stub_link

from conformance.ema.config import Endpoint
from conformance.testcases.security.lower_checks import SecureUpperStub

pytestmark = [needs_dtls, pytest.mark.filterwarnings("ignore:DTLS module did not shut down:UserWarning")]


async def test_each_link_uses_its_own_profile():
    stub = await SecureUpperStub(stub_link(), poll_freq_s=2).start(("127.0.0.1", 0))
    host, port = stub.address
    await check_intermediate_links(stub, lower_config(f"coaps://{host}:{port}/emap", role="intermediate",
                                                      mode="pull", bind=Endpoint("127.0.0.1", 0, ("emap",))))
