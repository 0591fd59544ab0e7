"""Mutants of the sample EMA's clause-8 guard (``conformance.ema.security.SecurityGuard``): the identity checks
of a secured link (EMAP-8-06 at U, EMAP-8-07 at L) and the refusal of unprotected requests (EMAP-8-08).

Each function wraps one method of ``SecurityGuard``; it runs before the EMA starts.
"""

from __future__ import annotations

import types

from conformance.ema.mutants.registry import mutant, wrap

DTLS_U = ("dtls-upper",)
DTLS_L = ("dtls-lower-push",)


@mutant("s-upper-venid-trusted", ["EMAP-8-06"], ["TC-S-8-02"], DTLS_U,
        "the upper role takes the request's venID as the peer's identity instead of comparing it with the PSK "
        "identity")
def _upper_venid_trusted():
    from conformance.ema.security import SecurityGuard

    def make(check_upper):
        def check_claimed(self, message, identity):
            return check_upper(self, message, message.body.get("venID") or identity)

        return check_claimed

    wrap(SecurityGuard, "_check_upper", make)


@mutant("s-lower-identity-unchecked", ["EMAP-8-07"], ["TC-S-8-07"], DTLS_L,
        "a push-mode lower role takes a request's vtnID as the peer's identity instead of the PSK identity")
def _lower_identity_unchecked():
    from conformance.ema.security import SecurityGuard

    def make(check_lower):
        def check_claimed(self, role, message, identity):
            return check_lower(self, role, message, message.body.get("vtnID") or identity)

        return check_claimed

    wrap(SecurityGuard, "_check_lower", make)


@mutant("s-lower-event-vtnid-unchecked", ["EMAP-8-07"], ["TC-S-8-07"], DTLS_L,
        "a push-mode lower role checks the PSK identity but not an emapDistributeEvent's vtnID against it")
def _lower_event_vtnid_unchecked():
    from conformance.ema.security import SecurityGuard

    def make(check_lower):
        def check_identity_only(self, role, message, identity):
            seen = types.SimpleNamespace(name=message.name, body={**message.body, "vtnID": identity})
            return check_lower(self, role, seen, identity)

        return check_identity_only

    wrap(SecurityGuard, "_check_lower", make)


def _accept_unprotected(side: str) -> None:
    """Let an unprotected request of the role ``side`` (U, L) through to the role."""
    from conformance.ema.security import SecurityGuard

    def make(check):
        def check_lenient(self, role, message, identity):
            if identity is None and role.side == side:
                return None, message
            return check(self, role, message, identity)

        return check_lenient

    wrap(SecurityGuard, "check", make)


@mutant("s-upper-unprotected-accepted", ["EMAP-8-08"], ["TC-S-8-04"], DTLS_U,
        "the upper role processes an unprotected request on the plain port of a DTLS-PSK link")
def _upper_unprotected_accepted():
    _accept_unprotected("U")


@mutant("s-lower-unprotected-accepted", ["EMAP-8-08"], ["TC-S-8-12"], DTLS_L,
        "a push-mode lower role processes an unprotected request on the plain port of a DTLS-PSK link")
def _lower_unprotected_accepted():
    _accept_unprotected("L")
