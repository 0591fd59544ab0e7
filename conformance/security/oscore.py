"""OSCORE (RFC 8613) with provisioned security contexts (ICS-4) over aiocoap's ``[oscore]`` extra.

A context is an aiocoap context directory (``settings.json``: ``sender-id_hex``, ``recipient-id_hex``,
``secret_ascii``/``secret_hex``, ``salt_hex``, ``algorithm``...; aiocoap stores sequence numbers next to it,
so it must be writable). The context of a link is bound to the peer's venID or vtnID: its label
``:<identity>`` is what the request's ``authenticated_claims`` name. Replayed requests are answered 4.01
by aiocoap (EMAP-8-09).

aiocoap locks a context directory and keeps its sequence numbers in the loaded object, so a process loads
each directory once (``security_context``) and uses that object for both directions of the link."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import aiocoap.credentials

from .credentials import CredentialsError

_contexts: dict[str, object] = {}


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


def security_context(identity: str, directory: str):
    """The process's one security context of ``directory``; requests it verifies are authenticated as
    ``identity`` (claim ``:<identity>``, fixed by the first call for a directory)."""
    key = str(Path(directory).resolve())
    if key not in _contexts:
        loader = aiocoap.credentials.CredentialsMap()
        loader.load_from_dict({":" + identity: {"oscore": {"contextfile": key + "/"}}})
        _contexts[key] = loader[":" + identity]
    return _contexts[key]


def server_credentials(contexts: dict[str, str]) -> aiocoap.credentials.CredentialsMap:
    """Server credentials of ``{identity: context directory}`` (the OSCORE site wrapper looks contexts up
    here by the request's key ID)."""
    credentials = aiocoap.credentials.CredentialsMap()
    for identity, directory in contexts.items():
        credentials[":" + identity] = security_context(identity, directory)
    return credentials


def client_credentials(identity: str, directory: str, pattern: str = "coap://*"):
    """Client credentials protecting every request matching ``pattern`` with the context in ``directory``
    (bound to the peer ``identity``)."""
    credentials = aiocoap.credentials.CredentialsMap()
    credentials[pattern] = security_context(identity, directory)
    return credentials


def protected_site(site, credentials: aiocoap.credentials.CredentialsMap):
    """``site`` behind aiocoap's OSCORE site wrapper (``credentials``: ``server_credentials``): protected
    requests are verified (replays answered 4.01) and reach ``site`` with the context's identity as claim;
    unprotected ones reach it unchanged."""
    from aiocoap.oscore_sitewrapper import OscoreSiteWrapper

    return OscoreSiteWrapper(site, credentials)


# -- provisioning from a master secret (test keys, bundled profiles) ------------------------------------------

ALGORITHM = "AES-CCM-16-64-128"
_provisioned: dict[tuple[str, bytes, int], tuple[str, str]] = {}
_root: list[str] = []


def provisioned_pair(identity: str, secret: bytes, index: int = 0) -> tuple[str, str]:
    """``(peer side, IUT side)``: two context directories of one link, made from the master ``secret`` in a
    fresh temporary directory of this process (removed at exit; never in the repository). ``index`` tells the
    links of one run apart: the peer sends with key ID ``1<index>``, the IUT with ``2<index>`` (hex)."""
    key = (identity, secret, index)
    if key not in _provisioned:
        if not _root:
            _root.append(tempfile.mkdtemp(prefix="emap-oscore-"))
            atexit.register(shutil.rmtree, _root[0], True)
        peer_id, iut_id = f"{0x10 + index:02x}", f"{0x20 + index:02x}"
        base = Path(_root[0]) / f"{len(_provisioned)}-{index}"
        _provisioned[key] = (
            _write_context(base / "peer", secret, sender=peer_id, recipient=iut_id),
            _write_context(base / "iut", secret, sender=iut_id, recipient=peer_id),
        )
    return _provisioned[key]


def _write_context(directory: Path, secret: bytes, *, sender: str, recipient: str) -> str:
    directory.mkdir(parents=True)
    settings = {
        "sender-id_hex": sender,
        "recipient-id_hex": recipient,
        "secret_hex": secret.hex(),
        "algorithm": ALGORITHM,
        "kdf-hashfun": "sha256",
    }
    (directory / "settings.json").write_text(json.dumps(settings), "utf-8")
    return str(directory)
