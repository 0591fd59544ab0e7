"""Interop with libcoap's DTLS builds (Debian libcoap3-bin: OpenSSL and GnuTLS) under DTLS-PSK: libcoap's
clients against the sample upper EMA, and the suite's CoapClient against libcoap's server (EMAP-8-03). The
tools come from the shared fixtures (skipped when missing, required under CI)."""

from __future__ import annotations

import asyncio

import pytest
from security_helpers import KEY_1, TIMEOUT, needs_dtls

from conformance.messages import build, encode, validate
from conformance.security import free_port_pair
from conformance.security.pixit import LinkSecurity
from conformance.transport.client import CoapClient

pytestmark = [
    needs_dtls,
    pytest.mark.filterwarnings("ignore:DTLS module did not shut down:UserWarning"),
]


CLIENTS = ["coap-client-openssl", "coap-client-gnutls"]


async def _libcoap_post(require_tool, tool_runner, client: str, uri: str, envelope: dict) -> tuple[int, str]:
    """POST ``envelope`` with libcoap's ``client`` over DTLS-PSK as ``ven-1``: (exit code, stdout + stderr)."""
    code, out, err = await tool_runner(
        require_tool(client),
        "-B", "4",
        "-u", "ven-1",
        "-k", bytes.fromhex(KEY_1).decode(),
        "-m", "post",
        "-t", "50",
        "-e", encode(envelope).decode(),
        uri,
        timeout=TIMEOUT,
    )
    return code, out + err


@pytest.mark.parametrize("client", CLIENTS)
async def test_libcoap_client_registers_with_sample_upper(dtls_upper, require_tool, tool_runner, client):
    upper, _ = dtls_upper
    query = build.query_registration("lc-1", ven_id="ven-1")
    code, out = await _libcoap_post(require_tool, tool_runner, client, f"{upper.base_uri}/EiRegisterParty", query)
    assert code == 0, out
    assert validate(out.strip().encode(), posted=False).name == "emapCreatedPartyRegistration"


@pytest.mark.parametrize("client", CLIENTS)
async def test_libcoap_client_forged_ven_id_forbidden(dtls_upper, require_tool, tool_runner, client):
    upper, _ = dtls_upper
    query = build.query_registration("lc-2", ven_id="ven-2")
    _, out = await _libcoap_post(require_tool, tool_runner, client, f"{upper.base_uri}/EiRegisterParty", query)
    assert "4.03" in out


async def test_coap_client_against_libcoap_server(require_tool):
    plain = free_port_pair("127.0.0.1")
    key = "libcoap-test-key"  # TEST KEY ONLY
    server = await asyncio.create_subprocess_exec(
        require_tool("coap-server-openssl"),
        "-A",
        "127.0.0.1",
        "-p",
        str(plain),
        "-k",
        key,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    link = LinkSecurity("dtls-psk", "vtn-1", key.encode())
    base = f"coaps://127.0.0.1:{plain + 1}"
    client = await CoapClient.create(credentials=link.client_credentials(base))
    try:
        response = None
        for _ in range(50):  # bounded: libcoap's server needs a moment to bind
            try:
                response = await client.request(
                    base + "/", method="GET", payload=None, timeout=0.5, fresh=True
                )
                break
            except Exception:
                await asyncio.sleep(0.1)
        assert response is not None and response.code == "2.05"
        assert b"libcoap" in response.payload
    finally:
        await client.close()
        server.terminate()
        await server.wait()
