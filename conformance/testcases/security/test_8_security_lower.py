"""Security, clause 8, lower EMA (lower or intermediate IUT) under DTLS-PSK: its PSK identity, its coaps
transport address, and the identity binding of pushed requests."""

from __future__ import annotations

from conformance.testcases.marker import emap_test

from .conftest import exchange_timeout, link_security
from .lower_checks import check_announces_coaps, check_client_identity, check_foreign_identity

LOWER_DTLS = '"dtls-psk" in security and role in ("lower", "intermediate")'


def _wait(timing) -> float:
    return timing.t_prompt_s + exchange_timeout(timing)


@emap_test("TC-S-8-05", requirements=["EMAP-8-04", "EMAP-8-02"], applies=LOWER_DTLS)
async def test_lower_psk_identity_is_ven_id(dtls_upper_stub, timing):
    """The lower IUT registers over DTLS-PSK presenting its venID as PSK identity."""
    create = await dtls_upper_stub.next("emapCreatePartyRegistration", _wait(timing))
    check_client_identity(create, dtls_upper_stub.link)


@emap_test("TC-S-8-06", requirements=["EMAP-8-02"], applies=LOWER_DTLS + ' and mode == "push"')
async def test_push_lower_announces_coaps(dtls_upper_stub, timing):
    """A push-mode lower IUT on a DTLS-PSK link announces a coaps emapTransportAddress."""
    check_announces_coaps(await dtls_upper_stub.next("emapCreatePartyRegistration", _wait(timing)))


@emap_test("TC-S-8-07", requirements=["EMAP-8-07"], applies=LOWER_DTLS + ' and mode == "push"')
async def test_push_lower_refuses_foreign_identity(dtls_upper_stub, profile, timing):
    """A push-mode lower IUT answers 4.03 a request from an identity other than its upper EMA's vtnID, and an
    emapDistributeEvent whose vtnID differs from the authenticated identity."""
    create = await dtls_upper_stub.next("emapCreatePartyRegistration", _wait(timing))
    address = check_announces_coaps(create)
    await dtls_upper_stub.next("emapRegisterReport", _wait(timing))
    await check_foreign_identity(address, link_security(profile), exchange_timeout(timing))
