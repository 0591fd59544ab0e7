"""Security, clause 8, upper EMA (upper or intermediate IUT) under DTLS-PSK: handshake, identity binding,
unprotected requests."""

from __future__ import annotations

from conformance.testcases.marker import emap_test

from .checks import (
    check_handshake,
    check_identity_mismatch,
    check_plain_datagram_dropped,
    check_unprotected_refused,
)

UPPER_DTLS = '"dtls-psk" in security and role in ("upper", "intermediate")'


@emap_test("TC-S-8-01", requirements=["EMAP-8-01", "EMAP-8-03"], applies=UPPER_DTLS)
async def test_dtls_psk_exchange(secure_upper):
    """A DTLS 1.2 PSK handshake offering only TLS_PSK_WITH_AES_128_CCM_8 completes with the PIXIT identity and
    an EMAP request over it is answered 2.04 with an EMAP message."""
    await check_handshake(secure_upper)


@emap_test("TC-S-8-02", requirements=["EMAP-8-06"], applies=UPPER_DTLS)
async def test_identity_mismatch_forbidden(secure_upper):
    """Requests whose venID differs from the authenticated PSK identity are answered 4.03, without an EMAP
    message and without effect."""
    await check_identity_mismatch(secure_upper)


@emap_test("TC-S-8-03", requirements=["EMAP-8-08"], applies=UPPER_DTLS)
async def test_plain_datagram_on_coaps_port_dropped(secure_upper, timing):
    """A plain CoAP request sent to the coaps port gets no CoAP answer."""
    await check_plain_datagram_dropped(secure_upper, timing.t_prompt_s + timing.tolerance_s)


@emap_test("TC-S-8-04", requirements=["EMAP-8-08"], applies=UPPER_DTLS)
async def test_unprotected_request_unauthorized(secure_upper):
    """An EMAP request on the IUT's plain coap port, from a lower EMA whose link is DTLS-PSK, is answered 4.01
    and not processed."""
    await check_unprotected_refused(secure_upper)
