"""DTLS-PSK plumbing over aiocoap's tinydtls transports (EMAP-8-03: tinydtls offers only
TLS_PSK_WITH_AES_128_CCM_8 in PSK mode).

aiocoap's DTLS server binds the given port + 1 (the given one is the plain ``coap`` port), and refuses the
any-address; ``free_port_pair`` finds two adjacent free ports for port 0."""

from __future__ import annotations

import socket

import aiocoap.credentials

_process_credentials: aiocoap.credentials.CredentialsMap | None = None


def dtls_available() -> bool:
    """True when aiocoap's DTLS transports can be loaded (``aiocoap[tinydtls]``)."""
    from aiocoap.defaults import dtls_missing_modules

    return not dtls_missing_modules()


def client_credentials_map(entries: dict | None = None) -> aiocoap.credentials.CredentialsMap:
    """A mutable aiocoap client credentials map (URI pattern -> ``client_entry``)."""
    credentials = aiocoap.credentials.CredentialsMap()
    if entries:
        credentials.load_from_dict(entries)
    return credentials


def set_process_credentials(credentials: aiocoap.credentials.CredentialsMap | None) -> None:
    """Client credentials used by every ``CoapClient`` of this process that is not given its own (the sample
    EMA sets them once at start: one EMA per process). None restores plain NoSec clients."""
    global _process_credentials
    _process_credentials = credentials


def process_credentials() -> aiocoap.credentials.CredentialsMap | None:
    return _process_credentials


def authenticated_identity(remote) -> str | None:
    """The PSK identity a DTLS peer authenticated with (the ``:<identity>`` label of ``PskTable``), or None
    for an unprotected request."""
    claims = getattr(remote, "authenticated_claims", None) or ()
    for claim in claims:
        if isinstance(claim, str) and claim.startswith(":"):
            return claim[1:]
    return None


def free_port_pair(host: str) -> int:
    """A port ``p`` with ``p`` and ``p + 1`` free on ``host`` (UDP): bind the plain port ``p`` to get DTLS on
    ``p + 1``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with (
            socket.socket(family, socket.SOCK_DGRAM) as first,
            socket.socket(family, socket.SOCK_DGRAM) as second,
        ):
            first.bind((host, 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            try:
                second.bind((host, port + 1))
            except OSError:
                continue
            return port
    raise OSError(f"no two adjacent free UDP ports on {host}")
