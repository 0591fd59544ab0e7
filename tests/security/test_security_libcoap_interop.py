"""Interop with libcoap's OpenSSL DTLS build (Debian libcoap3-bin) under DTLS-PSK: libcoap's client against
the sample upper EMA, and the suite's CoapClient against libcoap's server (EMAP-8-03)."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from security_helpers import KEY_1, TIMEOUT, needs_dtls

from conformance.messages import build, encode, validate
from conformance.security import free_port_pair
from conformance.security.pixit import LinkSecurity
from conformance.transport.client import CoapClient

pytestmark = [
    needs_dtls,
    pytest.mark.filterwarnings("ignore:DTLS module did not shut down:UserWarning"),
    pytest.mark.skipif(shutil.which("coap-client-openssl") is None, reason="libcoap3-bin is not installed"),
]


async def _run(*argv: str, timeout: float = TIMEOUT) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out, err


async def test_libcoap_client_registers_with_sample_upper(dtls_upper):
    upper, _ = dtls_upper
    query = encode(build.query_registration("lc-1", ven_id="ven-1"))
    code, out, err = await _run(
        "coap-client-openssl",
        "-B",
        "4",
        "-u",
        "ven-1",
        "-k",
        bytes.fromhex(KEY_1).decode(),
        "-m",
        "post",
        "-t",
        "50",
        "-e",
        query.decode(),
        f"{upper.base_uri}/EiRegisterParty",
    )
    assert code == 0, err
    assert validate(out.strip(), posted=False).name == "emapCreatedPartyRegistration"


async def test_libcoap_client_forged_ven_id_forbidden(dtls_upper):
    upper, _ = dtls_upper
    query = encode(build.query_registration("lc-2", ven_id="ven-2"))
    code, out, err = await _run(
        "coap-client-openssl",
        "-B",
        "4",
        "-u",
        "ven-1",
        "-k",
        bytes.fromhex(KEY_1).decode(),
        "-m",
        "post",
        "-t",
        "50",
        "-e",
        query.decode(),
        f"{upper.base_uri}/EiRegisterParty",
    )
    assert b"4.03" in out + err


async def test_coap_client_against_libcoap_server():
    plain = free_port_pair("127.0.0.1")
    key = "libcoap-test-key"  # TEST KEY ONLY
    server = await asyncio.create_subprocess_exec(
        "coap-server-openssl",
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
