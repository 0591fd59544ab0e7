"""The implementation under test: where it is, how to reach it, and where the reference peer must serve for it.

An upper or intermediate IUT is reached at its upper base URI. A lower or intermediate IUT is configured to use the
reference peer as its upper EMA, so the peer's address (PIXIT ``peer``) is fixed before the IUT starts; with the
embedded sample EMA a port 0 there is replaced by a free loopback port, which the peer's tap then listens on.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PEER = "coap://127.0.0.1:0/emap"
DEFAULT_SECURE_PEER = "coaps://127.0.0.1:0/emap"  # DTLS-PSK link (clause 8)
PROBE_RESOURCE = "EiRegisterParty"


class IutError(RuntimeError):
    """The IUT cannot be used (bad address, unreachable, did not start); ``str()`` is one line."""


@dataclass(frozen=True)
class PeerEndpoint:
    """Where the reference peer serves for a lower or intermediate IUT: ``address`` and base ``uri``."""

    host: str
    port: int
    path: str
    scheme: str = "coap"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def uri(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class IutHandle:
    """What tests know about the IUT (contracts.md): its URIs, role, mode and where the peer must serve."""

    role: str
    mode: str | None
    base_uri: str | None
    lower_uri: str | None
    peer_address: tuple[str, int] | None
    peer_uri: str | None
    embedded: bool
    control: str | None = None

    @property
    def uri(self) -> str | None:
        """The IUT's own base URI as shown in reports (the upper one when it has both)."""
        return self.base_uri or self.lower_uri


def free_udp_port(host: str) -> int:
    """A UDP port on ``host`` that is free right now (the kernel's choice for port 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def link_security(profile):
    """The link's ``LinkSecurity`` from ``[pixit.credentials]`` (NoSec when absent; checked when loaded)."""
    from conformance.security import LinkSecurity

    return LinkSecurity.parse(profile.pixit["credentials"])


def free_dtls_port(host: str) -> int:
    """A port ``p`` for a DTLS-PSK server with ``p`` and the plain port ``p - 1`` free right now."""
    from conformance.security import free_port_pair

    return free_port_pair(host) + 1


def peer_endpoint(profile, embedded: bool) -> PeerEndpoint | None:
    """The peer's endpoint for a lower/intermediate IUT (None for an upper IUT); raises IutError. A DTLS-PSK
    link (``coaps`` PIXIT ``peer``) has the peer serve DTLS-PSK there."""
    if profile.role == "upper":
        return None
    secured = link_security(profile).dtls
    peer = profile.pixit["peer"] or ((DEFAULT_SECURE_PEER if secured else DEFAULT_PEER) if embedded else None)
    if peer is None:
        raise IutError(f"profile {profile.name}: pixit.peer is required for a {profile.role} IUT "
                       "(the upper EMA address the IUT is configured to use)")
    parts = urlsplit(peer)
    if parts.scheme not in ("coap", "coaps") or not parts.hostname:
        raise IutError(f"profile {profile.name}: pixit.peer {peer!r} must be a coap:// or coaps:// URI with a host")
    port = parts.port if parts.port is not None else (5684 if parts.scheme == "coaps" else 5683)
    if port == 0:
        if not embedded:
            raise IutError(f"profile {profile.name}: pixit.peer {peer!r}: port 0 is allowed only with the "
                           "embedded IUT (an external IUT must be configured with a fixed port)")
        port = (free_dtls_port if parts.scheme == "coaps" else free_udp_port)(parts.hostname)
    return PeerEndpoint(parts.hostname, port, parts.path.rstrip("/"), parts.scheme)


def external_uris(role: str, iut: str) -> tuple[str | None, str | None]:
    """(base_uri, lower_uri) of an external IUT given as ``iut`` (a URI or ``external``)."""
    if role in ("upper", "intermediate"):
        if iut == "external":
            raise IutError(f"iut 'external' is only for a pull-mode lower IUT; give the {role} IUT's base URI")
        return iut, None
    return None, None if iut == "external" else iut


def resource_uri(base_uri: str, resource: str) -> str:
    """``base_uri`` with ``/resource`` appended to its path."""
    parts = urlsplit(base_uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/" + resource, "", ""))


async def probe(base_uri: str, timing, credentials=None) -> str | None:
    """None when the IUT answers a CON POST of emapQueryRegistration at all, else why it is unreachable.

    Any CoAP response counts (even an error code): the probe only asks whether something answers. The wait is
    bounded by MAX_TRANSMIT_WAIT of the profile's timings plus the measurement tolerance. ``credentials``: the
    aiocoap client credentials of a secured link (``LinkSecurity.client_credentials``).
    """
    from conformance.messages import build
    from conformance.transport import CoapClient, TransmissionParams

    bound = timing.max_transmit_wait + timing.tolerance_s
    client = await CoapClient.create(TransmissionParams(*timing.transmission), credentials=credentials)
    try:
        await client.request(resource_uri(base_uri, PROBE_RESOURCE), payload=build.query_registration("probe-1"),
                             timeout=bound, fresh=True)
    except Exception as exc:  # any failure to get an answer means unreachable
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"IUT unreachable: no answer from {base_uri} to emapQueryRegistration within {bound:g} s ({detail})"
    finally:
        await client.close()
    return None


async def open_iut(profile, iut: str, peer: PeerEndpoint | None, log_dir):
    """Make the IUT usable: start the embedded sample EMA or check that an external upper IUT answers.

    Returns ``(IutHandle, ema)`` where ``ema`` is the started EmbeddedEma (None for an external IUT); raises
    IutError.
    """
    from .embedded import EmaStartError, EmbeddedEma, ema_command

    peer_address, peer_uri = (peer.address, peer.uri) if peer else (None, None)
    if iut == "embedded":
        ema = EmbeddedEma(ema_command(profile, peer_uri), log_dir)
        try:
            ready = ema.start()
        except EmaStartError as exc:
            raise IutError(str(exc)) from None
        handle = IutHandle(profile.role, profile.mode, ready.get("upper"), ready.get("lower"), peer_address,
                           peer_uri, embedded=True, control=ready.get("control"))
        return handle, ema
    base_uri, lower_uri = external_uris(profile.role, iut)
    if base_uri is not None:
        link = link_security(profile)
        credentials = link.client_credentials(base_uri) if link.dtls or link.oscore else None
        reason = await probe(base_uri, profile.timing, credentials)
        if reason:
            raise IutError(reason)
    handle = IutHandle(profile.role, profile.mode, base_uri, lower_uri, peer_address, peer_uri, embedded=False)
    return handle, None
