"""Security, clause 8: emapSignature carries no meaning in this binding (EMAP-8-10), upper EMA side."""

from __future__ import annotations

from conformance.testcases.marker import emap_test
from conformance.testcases.security.conftest import link_security
from conformance.testcases.upper_iut.conftest import lower  # noqa: F401  (reference lower EMAs)
from conformance.verdict import Fail, Inconclusive

UPPER_NOSEC = 'role in ("upper", "intermediate") and "nosec" in security'


async def _create(peer, signature: bool) -> str | None:
    message = await peer.create_message()
    message["emapCreatePartyRegistration"]["emapSignature"] = signature
    posted = await peer.post("EiRegisterParty", message)
    peer.adopt(posted, pull=True)
    return posted.message.response_code if posted.message is not None else posted.code


@emap_test("TC-S-8-08", requirements=["EMAP-8-10"], applies=UPPER_NOSEC)
async def test_signature_value_not_rejected(iut, profile, lower):  # noqa: F811
    """A registration with emapSignature true is accepted like the same registration with false."""
    if link_security(profile).profile != "nosec":
        raise Inconclusive("the link under test is secured; the reference lower EMAs speak NoSec")
    baseline = await _create(await lower(register=False), False)
    if baseline != "200":
        raise Inconclusive(f"precondition: a registration with emapSignature false was answered {baseline}")
    flagged = await _create(await lower(register=False), True)
    if flagged != "200":
        raise Fail(
            f"EMAP-8-10: a registration with emapSignature true was answered {flagged}, with false 200"
        )
