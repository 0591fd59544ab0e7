"""Security, clause 8, upper EMA (upper or intermediate IUT) under DTLS-PSK or OSCORE: protected exchange,
identity binding, unprotected requests, OSCORE replay."""

from __future__ import annotations

from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .checks import (
    check_handshake,
    check_identity_mismatch,
    check_oscore_replay,
    check_plain_datagram_dropped,
    check_push_identity,
    check_unprotected_refused,
)
from .conftest import require_profile

UPPER_ROLES = 'role in ("upper", "intermediate")'
UPPER_DTLS = f'"dtls-psk" in security and {UPPER_ROLES}'
UPPER_SECURED = f'("dtls-psk" in security or "oscore" in security) and {UPPER_ROLES}'
UPPER_OSCORE = f'"oscore" in security and {UPPER_ROLES}'


@emap_test("TC-S-8-01", requirements=["EMAP-8-01", "EMAP-8-03"], applies=UPPER_SECURED)
async def test_protected_exchange(secure_upper):
    """A DTLS 1.2 PSK handshake offering only TLS_PSK_WITH_AES_128_CCM_8 completes with the PIXIT identity (or
    an OSCORE-protected request is accepted) and an EMAP request is answered 2.04 with an EMAP message."""
    await check_handshake(secure_upper)


@emap_test("TC-S-8-02", requirements=["EMAP-8-06"], applies=UPPER_SECURED)
async def test_identity_mismatch_forbidden(secure_upper):
    """Requests whose venID differs from the authenticated PSK identity are answered 4.03, without an EMAP
    message and without effect."""
    await check_identity_mismatch(secure_upper)


@emap_test("TC-S-8-03", requirements=["EMAP-8-08"], applies=UPPER_DTLS)
async def test_plain_datagram_on_coaps_port_dropped(secure_upper, timing):
    """A plain CoAP request sent to the coaps port gets no CoAP answer."""
    require_profile(secure_upper.link, "dtls-psk")
    await check_plain_datagram_dropped(secure_upper, timing.t_prompt_s + timing.tolerance_s)


@emap_test("TC-S-8-04", requirements=["EMAP-8-08"], applies=UPPER_SECURED)
async def test_unprotected_request_unauthorized(secure_upper):
    """An unprotected EMAP request from a lower EMA whose link is secured is answered 4.01 and not processed
    (DTLS-PSK: on the IUT's plain coap port; OSCORE: without an OSCORE option)."""
    await check_unprotected_refused(secure_upper)


@emap_test("TC-S-8-09", requirements=["EMAP-8-09"], applies=UPPER_OSCORE)
async def test_oscore_replay_rejected(secure_upper, timing):
    """An OSCORE-protected request replayed with its sequence number is answered 4.01 and not executed."""
    require_profile(secure_upper.link, "oscore")
    await check_oscore_replay(secure_upper, timing.t_prompt_s + timing.tolerance_s)


@emap_test("TC-S-8-10", requirements=["EMAP-8-05", "EMAP-8-02"], applies=UPPER_SECURED)
async def test_push_as_vtn_id(secure_upper, stimulus, timing):
    """Registered in push mode with a coaps transport address, the upper IUT pushes over DTLS-PSK presenting
    its vtnID as PSK identity (OSCORE: with a coap address, protected with the link's context)."""

    async def create_event(ven_id: str) -> None:
        outcome = await stimulus.stimulate("create-event", {"role": "upper", "venID": ven_id})
        if outcome.status != "accepted":
            raise Inconclusive(f"stimulus create-event {outcome.status}: {outcome.detail}")

    await check_push_identity(secure_upper, create_event, timing.t_prompt_s + secure_upper.timeout)
