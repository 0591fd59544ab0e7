"""Security, clause 8, lower EMA (lower or intermediate IUT) under DTLS-PSK or OSCORE: its identity on the link,
its transport address, and how a push-mode lower IUT treats what its upper EMA sends (identity binding,
unprotected requests, OSCORE replays)."""

from __future__ import annotations

import dataclasses

from conformance.testcases.marker import emap_test

from .checks import SecureIut, check_oscore_replay, check_plain_datagram_dropped, check_unprotected_refused
from .conftest import exchange_timeout, link_security, plain_uri, require_profile
from .lower_checks import (
    announced_address,
    check_announces_coaps,
    check_client_identity,
    check_foreign_identity,
    distribute_event,
)

LOWER_ROLES = 'role in ("lower", "intermediate")'
LOWER_SECURED = f'("dtls-psk" in security or "oscore" in security) and {LOWER_ROLES}'
LOWER_DTLS = f'"dtls-psk" in security and {LOWER_ROLES}'
LOWER_OSCORE = f'"oscore" in security and {LOWER_ROLES}'
PUSH = ' and mode == "push"'


def _wait(timing) -> float:
    return timing.t_prompt_s + exchange_timeout(timing)


async def _registered(stub, profile, timing, iut, trace) -> SecureIut:
    """The push-mode lower IUT, registered with the stub, at its announced transport address."""
    link = link_security(profile)
    address = announced_address(await stub.next("emapCreatePartyRegistration", _wait(timing)), link)
    await stub.next("emapRegisterReport", _wait(timing))  # registered: the link exists at the lower IUT
    if link.dtls and link.unprotected_uri is None and iut.embedded:
        link = dataclasses.replace(link, unprotected_uri=plain_uri(address))
    return SecureIut(address, link, exchange_timeout(timing), trace)


@emap_test("TC-S-8-05", requirements=["EMAP-8-04", "EMAP-8-02"], applies=LOWER_SECURED)
async def test_lower_identity_is_ven_id(secure_upper_stub, timing):
    """The lower IUT registers over its secured link: over DTLS-PSK presenting its venID as PSK identity, under
    OSCORE protected with the link's context (bound to its venID)."""
    create = await secure_upper_stub.next("emapCreatePartyRegistration", _wait(timing))
    check_client_identity(create, secure_upper_stub.link)


@emap_test("TC-S-8-06", requirements=["EMAP-8-02"], applies=LOWER_DTLS + PUSH)
async def test_push_lower_announces_coaps(secure_upper_stub, timing):
    """A push-mode lower IUT on a DTLS-PSK link announces a coaps emapTransportAddress."""
    require_profile(secure_upper_stub.link, "dtls-psk")
    check_announces_coaps(await secure_upper_stub.next("emapCreatePartyRegistration", _wait(timing)))


@emap_test("TC-S-8-07", requirements=["EMAP-8-07"], applies=LOWER_SECURED + PUSH)
async def test_push_lower_refuses_foreign_identity(secure_upper_stub, profile, timing, iut, trace):
    """A push-mode lower IUT answers 4.03 an emapDistributeEvent whose vtnID differs from the authenticated
    identity, and a request from an identity other than its upper EMA's vtnID."""
    await check_foreign_identity(await _registered(secure_upper_stub, profile, timing, iut, trace))


@emap_test("TC-S-8-12", requirements=["EMAP-8-08"], applies=LOWER_SECURED + PUSH)
async def test_push_lower_unprotected_unauthorized(secure_upper_stub, profile, timing, iut, trace):
    """A push-mode lower IUT answers an unprotected emapDistributeEvent 4.01 and does not process it
    (DTLS-PSK: on its plain coap port; OSCORE: without an OSCORE option)."""
    lower = await _registered(secure_upper_stub, profile, timing, iut, trace)
    await check_unprotected_refused(lower, "EiEvent", distribute_event(lower))


@emap_test("TC-S-8-13", requirements=["EMAP-8-09"], applies=LOWER_OSCORE + PUSH)
async def test_push_lower_oscore_replay_rejected(secure_upper_stub, profile, timing, iut, trace):
    """A push-mode lower IUT answers an OSCORE-protected emapDistributeEvent replayed with its sequence number
    4.01 and does not execute it."""
    require_profile(secure_upper_stub.link, "oscore")
    lower = await _registered(secure_upper_stub, profile, timing, iut, trace)
    await check_oscore_replay(lower, timing.t_prompt_s + timing.tolerance_s, "EiEvent", distribute_event(lower))


@emap_test("TC-S-8-14", requirements=["EMAP-8-08"], applies=LOWER_DTLS + PUSH)
async def test_push_lower_plain_datagram_dropped(secure_upper_stub, profile, timing, iut, trace):
    """A plain CoAP request sent to a push-mode lower IUT's coaps transport address gets no CoAP answer."""
    require_profile(secure_upper_stub.link, "dtls-psk")
    lower = await _registered(secure_upper_stub, profile, timing, iut, trace)
    await check_plain_datagram_dropped(lower, timing.t_prompt_s + timing.tolerance_s)
