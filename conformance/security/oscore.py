"""OSCORE (RFC 8613) with provisioned security contexts (ICS-4) over aiocoap's ``[oscore]`` extra.

A context is an aiocoap context directory (``settings.json``: ``sender-id_hex``, ``recipient-id_hex``,
``secret_ascii``/``secret_hex``, ``salt_hex``, ``algorithm``...; aiocoap stores sequence numbers next to it,
so it must be writable). The context of a link is bound to the peer's venID or vtnID: its label
``:<identity>`` is what the request's ``authenticated_claims`` name. Replayed requests are answered 4.01
by aiocoap (EMAP-8-09)."""

from __future__ import annotations

from pathlib import Path

import aiocoap.credentials

from .credentials import CredentialsError


def context_dir(identity: str, directory: str) -> str:
    """The checked context directory of ``identity`` (with the trailing ``/`` aiocoap expects)."""
    if not (Path(directory) / "settings.json").is_file():
        raise CredentialsError(f"oscore {identity!r}: {directory!r} has no settings.json")
    return str(Path(directory)) + "/"


def parse_contexts(items) -> dict[str, str]:
    """``IDENTITY=DIR`` strings (``--oscore``) -> ``{identity: context directory}``."""
    contexts: dict[str, str] = {}
    for item in items:
        identity, sep, directory = item.partition("=")
        if not sep or not identity or not directory:
            raise CredentialsError(f"oscore {item!r}: expected IDENTITY=DIR")
        if identity in contexts:
            raise CredentialsError(f"oscore {identity!r}: given twice")
        contexts[identity] = context_dir(identity, directory)
    return contexts


def server_credentials(contexts: dict[str, str]) -> aiocoap.credentials.CredentialsMap:
    credentials = aiocoap.credentials.CredentialsMap()
    credentials.load_from_dict(
        {":" + identity: {"oscore": {"contextfile": d}} for identity, d in contexts.items()}
    )
    return credentials


def protected_site(site, credentials: aiocoap.credentials.CredentialsMap):
    """``site`` behind aiocoap's OSCORE site wrapper (``credentials``: ``server_credentials``): protected
    requests are verified (replays answered 4.01) and reach ``site`` with the context's identity as claim;
    unprotected ones reach it unchanged."""
    from aiocoap.oscore_sitewrapper import OscoreSiteWrapper

    return OscoreSiteWrapper(site, credentials)


_client_maps: dict[str, aiocoap.credentials.CredentialsMap] = {}


def client_credentials(directory: str) -> aiocoap.credentials.CredentialsMap:
    """Client credentials protecting every ``coap`` request with the context in ``directory``. One map per
    directory and process: aiocoap locks a context's directory and keeps its sequence number in the object, so
    every client of this process must share it."""
    key = str(Path(directory).resolve())
    if key not in _client_maps:
        credentials = aiocoap.credentials.CredentialsMap()
        credentials.load_from_dict({"coap://*": {"oscore": {"contextfile": key + "/"}}})
        _client_maps[key] = credentials
    return _client_maps[key]
