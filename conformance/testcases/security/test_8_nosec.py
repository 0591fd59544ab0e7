"""Security, clause 8: NoSec only for testing and isolated networks (EMAP-8-11, should: advisory). Nothing on
the wire shows where a device is deployed, so the verdict rests on the IUT's statement, PIXIT
``nosec_isolated`` (docs/decisions.md)."""

from __future__ import annotations

from conformance.testcases.marker import emap_test
from conformance.verdict import Fail, Inconclusive


@emap_test("TC-S-8-11", requirements=["EMAP-8-11"], applies='"nosec" in security')
async def test_nosec_restricted(profile):
    """The IUT's documentation restricts NoSec to testing and to networks isolated by other means (PIXIT
    nosec_isolated)."""
    stated = profile.pixit["nosec_isolated"]
    if stated is None:
        raise Inconclusive("pixit.nosec_isolated not stated: where the IUT may run NoSec is unknown")
    if not stated:
        raise Fail("EMAP-8-11: the IUT states NoSec for networks that are not isolated (pixit.nosec_isolated)")
