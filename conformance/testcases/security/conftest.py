"""Fixtures of the clause-8 test cases: the IUT's link security from ``[pixit.credentials]``."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit, urlunsplit

import pytest

from conformance.security import CredentialsError, LinkSecurity
from conformance.verdict import Inconclusive, NotApplicable

from .checks import SecureIut


def link_security(profile) -> LinkSecurity:
    """The ``[pixit.credentials]`` of the profile (NoSec when absent); a malformed table is INCONCLUSIVE."""
    table = profile.pixit.get("credentials") or dict(profile.data.get("pixit", {})).get("credentials")
    try:
        return LinkSecurity.parse(table)
    except CredentialsError as exc:
        raise Inconclusive(str(exc)) from None


def exchange_timeout(timing) -> float:
    """One exchange: MAX_TRANSMIT_WAIT plus T_PROMPT for a separate response, plus the tolerance."""
    return timing.max_transmit_wait + timing.t_prompt_s + timing.tolerance_s


@pytest.fixture
def secure_upper(profile, timing, iut, trace) -> SecureIut:
    """The upper IUT with the PIXIT credentials, DTLS-PSK or OSCORE (INCONCLUSIVE when there are none)."""
    link = link_security(profile)
    if not (link.dtls or link.oscore):
        raise Inconclusive("pixit.credentials.profile is nosec: no credentials to test with")
    scheme = "coaps:" if link.dtls else "coap:"
    if not (iut.base_uri or "").startswith(scheme):
        raise Inconclusive(f"the IUT's base URI {iut.base_uri!r} is not a {scheme} URI ({link.profile})")
    if link.dtls and link.unprotected_uri is None and iut.embedded:
        link = dataclasses.replace(link, unprotected_uri=plain_uri(iut.base_uri))
    return SecureIut(iut.base_uri, link, exchange_timeout(timing), trace)


def plain_uri(coaps_uri: str) -> str:
    """The embedded sample EMA's plain ``coap`` base URI beside its ``coaps`` one: port - 1
    (docs/security.md)."""
    parts = urlsplit(coaps_uri)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit(("coap", f"{host}:{parts.port - 1}", parts.path, "", ""))


def require_profile(link: LinkSecurity, *profiles: str) -> None:
    """NOT APPLICABLE unless the link under test (``pixit.credentials.profile``) is one of ``profiles``."""
    if link.profile not in profiles:
        raise NotApplicable(f"the link under test is {link.profile}, not {' or '.join(profiles)}")


@pytest.fixture
async def secure_upper_stub(profile, timing, iut, stimulus):
    """A DTLS-PSK or OSCORE upper EMA on the PIXIT ``peer`` address that the lower IUT registered with again
    (``create-registration`` stimulus); INCONCLUSIVE without credentials, address or stimulus."""
    from .lower_checks import SecureUpperStub, scheme_of

    link = link_security(profile)
    if not (link.dtls or link.oscore):
        raise Inconclusive("pixit.credentials.profile is nosec: no credentials to test with")
    if iut.peer_address is None or not (iut.peer_uri or "").startswith(scheme_of(link) + ":"):
        raise Inconclusive(f"the PIXIT peer URI {iut.peer_uri!r} is not a {scheme_of(link)} URI")
    try:
        stub = await SecureUpperStub(link, profile.pixit["poll_freq_s"]).start(tuple(iut.peer_address))
    except OSError as exc:
        raise Inconclusive(f"cannot serve {link.profile} at the peer address {iut.peer_address}: {exc}") from None
    try:
        args = {"role": "lower", "pullModel": profile.mode == "pull"}
        outcome = await stimulus.stimulate("create-registration", args)
        if outcome.status != "accepted":
            raise Inconclusive(f"stimulus create-registration {outcome.status}: {outcome.detail}")
        yield stub
    finally:
        await stub.stop()
