"""Security profiles of clause 8 (NoSec, DTLS-PSK, OSCORE): credentials per link and the aiocoap set-up shared
by the reference peer, the transport layer and the sample EMA. Sits at the transport layer: imports aiocoap
only."""

from .credentials import CredentialsError, PskTable, parse_psk
from .dtls import (
    authenticated_identity,
    client_credentials_map,
    dtls_available,
    free_port_pair,
    process_credentials,
    set_process_credentials,
)
from .pixit import LinkSecurity

__all__ = [
    "CredentialsError",
    "LinkSecurity",
    "PskTable",
    "authenticated_identity",
    "client_credentials_map",
    "dtls_available",
    "free_port_pair",
    "parse_psk",
    "process_credentials",
    "set_process_credentials",
]
