"""The clause-8 checks (TC-S-8-0x) against the sample upper EMA under DTLS-PSK, and against mutants of its
front-door guard that skip the identity check or accept unprotected requests."""

from __future__ import annotations

import pytest
from security_helpers import needs_dtls

from conformance.ema.security import SecurityGuard
from conformance.testcases.security.checks import (
    check_handshake,
    check_identity_mismatch,
    check_plain_datagram_dropped,
    check_unprotected_refused,
)
from conformance.verdict import Fail

pytestmark = [needs_dtls, pytest.mark.filterwarnings("ignore:DTLS module did not shut down:UserWarning")]


async def test_sample_upper_passes_clause_8(dtls_upper):
    upper, ema = dtls_upper
    await check_handshake(upper)
    await check_identity_mismatch(upper)
    await check_unprotected_refused(upper)
    await check_plain_datagram_dropped(upper, 0.5)
    role = ema.agent.routes[("emap",)]
    assert role.registry.by_ven("ven-2") is None  # the refused create had no effect


async def test_request_without_ven_id_attributed_to_identity(dtls_upper):
    from conformance.messages import build

    upper, _ = dtls_upper
    response = await upper.post("EiRegisterParty", build.create_party_registration("r-attr"))
    assert response.code == "2.04"
    assert response.message.body["venID"] == "ven-1"


async def test_cached_repeat_is_per_identity(dtls_upper):
    """A repeat of ven-1's request under ven-2's identity is not answered from ven-1's cache entry."""
    from conformance.messages import build

    upper, _ = dtls_upper
    create = build.create_party_registration("r-rep", ven_id="ven-1")
    assert (await upper.post("EiRegisterParty", create)).code == "2.04"
    assert (await upper.post("EiRegisterParty", create, identity="ven-2")).code == "4.03"


def _skip_identity_check(monkeypatch):
    monkeypatch.setattr(SecurityGuard, "_check_upper", lambda self, message, identity: (None, message))


def _accept_unprotected(monkeypatch):
    check = SecurityGuard.check

    def lenient(self, role, message, identity):
        return (None, message) if identity is None else check(self, role, message, identity)

    monkeypatch.setattr(SecurityGuard, "check", lenient)


@pytest.mark.parametrize(
    ("mutate", "check", "requirement"),
    [
        (_skip_identity_check, check_identity_mismatch, "EMAP-8-06"),
        (_accept_unprotected, check_unprotected_refused, "EMAP-8-08"),
    ],
    ids=["skips-identity-check", "accepts-unprotected"],
)
async def test_mutants_caught(monkeypatch, dtls_upper, mutate, check, requirement):
    upper, _ = dtls_upper
    mutate(monkeypatch)
    with pytest.raises(Fail, match=requirement):
        await check(upper)


async def test_sample_upper_pushes_as_vtn_id(dtls_upper):
    """EMAP-8-05: the sample upper EMA pushes to a coaps transport address presenting its vtnID."""
    from dataclasses import replace

    from conformance.testcases.security.checks import check_push_identity

    upper, ema = dtls_upper
    upper.link = replace(upper.link, iut_identity="vtn-sample")

    async def create_event(ven_id: str) -> None:
        assert (await ema.agent.stimulate("create-event", {"venID": ven_id}))[0] == "accepted"

    await check_push_identity(upper, create_event, 5.0)
