"""The security PIXIT of a link (``[pixit.credentials]``, ICS-4): its profile and the reference peer's
credentials.

Every key in a profile is a test key: a real device's keys belong in a profile kept out of version control."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .credentials import CredentialsError, PskTable
from .dtls import client_credentials_map
from .oscore import client_credentials as oscore_client_credentials
from .oscore import context_dir, provisioned_pair
from .oscore import server_credentials as oscore_server_credentials

PROFILES = ("nosec", "dtls-psk", "oscore")


@dataclass(frozen=True)
class LinkSecurity:
    """``profile``; ``identity``/``psk``: the reference peer's PSK identity and the link's key (a lower peer's
    venID, an upper peer's vtnID); ``iut_identity``: the IUT's own identity when it is DTLS client (lower IUT:
    its venID; upper IUT pushing: its vtnID), same key; ``other_identity``/``other_psk``: a second provisioned
    lower EMA (identity-mismatch tests, EMAP-8-06); ``unprotected_uri``: the IUT's plain ``coap`` base URI
    where EMAP-8-08 expects 4.01 (optional); ``oscore_context``/``iut_oscore_context``: the peer's and the
    embedded IUT's OSCORE context directories of the ``identity`` link (profile ``oscore``). Under ``oscore``
    without ``oscore_context``, ``psk_hex`` (``other_psk_hex``) is the master secret of the ``identity``
    (``other_identity``) link, from which the run provisions both sides' contexts in a temporary directory."""

    profile: str = "nosec"
    identity: str | None = None
    psk: bytes | None = None
    iut_identity: str | None = None
    other_identity: str | None = None
    other_psk: bytes | None = None
    unprotected_uri: str | None = None
    oscore_context: str | None = None
    iut_oscore_context: str | None = None

    @classmethod
    def parse(cls, data: Mapping | None) -> LinkSecurity:
        """From the ``[pixit.credentials]`` table (None: NoSec); raises CredentialsError (one line)."""
        if not data:
            return cls()
        profile = data.get("profile", "nosec")
        if profile not in PROFILES:
            raise CredentialsError(
                f"pixit.credentials.profile: {profile!r} is not one of {', '.join(PROFILES)}"
            )
        link = cls(
            profile=profile,
            identity=data.get("identity"),
            psk=_key(data, "psk_hex"),
            iut_identity=data.get("iut_identity"),
            other_identity=data.get("other_identity"),
            other_psk=_key(data, "other_psk_hex"),
            unprotected_uri=data.get("unprotected_uri"),
            oscore_context=data.get("oscore_context"),
            iut_oscore_context=data.get("iut_oscore_context"),
        )
        if profile == "dtls-psk" and (not link.identity or link.psk is None):
            raise CredentialsError("pixit.credentials: dtls-psk needs identity and psk_hex")
        if profile == "oscore" and (not link.identity or not (link.oscore_context or link.psk)):
            raise CredentialsError("pixit.credentials: oscore needs identity and oscore_context or psk_hex")
        if (link.other_identity is None) != (link.other_psk is None):
            raise CredentialsError("pixit.credentials: other_identity and other_psk_hex go together")
        return link

    @property
    def dtls(self) -> bool:
        return self.profile == "dtls-psk"

    @property
    def oscore(self) -> bool:
        return self.profile == "oscore"

    @property
    def table(self) -> PskTable:
        """Every identity of the link with its key (the peer's server side looks keys up here)."""
        if self.psk is None:
            return PskTable()
        keys = {self.identity: self.psk}
        if self.iut_identity:
            keys[self.iut_identity] = self.psk
        if self.other_identity:
            keys[self.other_identity] = self.other_psk
        return PskTable(keys)

    def client_credentials(self, base_uri: str, identity: str | None = None):
        """aiocoap client credentials presenting ``identity`` (default: the peer's) towards ``base_uri``;
        under OSCORE the process's one map of the link's context (it protects every ``coap`` request)."""
        parts = urlsplit(base_uri)
        pattern = f"{parts.scheme}://{parts.netloc}/*"
        if self.oscore:
            return oscore_client_credentials(self.peer_label, self.peer_context(identity), pattern)
        return client_credentials_map({pattern: self.table.client_entry(identity or self.identity)})

    # -- OSCORE (provisioned contexts, ICS-4) ---------------------------------------------------------------
    @property
    def peer_label(self) -> str:
        """The identity the peer's side of a context is bound to: the IUT's (``iut_identity``)."""
        return self.iut_identity or "iut"

    def peer_context(self, identity: str | None = None) -> str:
        """The peer's OSCORE context directory of the link of ``identity`` (default: ``identity``; else
        ``other_identity``)."""
        identity = identity or self.identity
        if identity == self.identity and self.oscore_context:
            return context_dir(identity, self.oscore_context)
        return self._provisioned(identity)[0]

    def iut_contexts(self) -> dict[str, str]:
        """The embedded IUT's OSCORE context directory per peer identity (its ``--oscore`` options)."""
        if self.iut_oscore_context:
            return {self.identity: self.iut_oscore_context}
        identities = [self.identity] + ([self.other_identity] if self.other_identity else [])
        return {identity: self._provisioned(identity)[1] for identity in identities}

    def server_credentials(self):
        """aiocoap server credentials of the peer's side of the ``identity`` link (OSCORE)."""
        return oscore_server_credentials({self.peer_label: self.peer_context()})

    def _provisioned(self, identity: str) -> tuple[str, str]:
        if identity == self.identity and self.psk is not None:
            return provisioned_pair(identity, self.psk, 0)
        if identity == self.other_identity and self.other_psk is not None:
            return provisioned_pair(identity, self.other_psk, 1)
        raise CredentialsError(f"pixit.credentials: no OSCORE context or master secret for {identity!r}")


def _key(data: Mapping, item: str) -> bytes | None:
    value = data.get(item)
    if value is None:
        return None
    try:
        key = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise CredentialsError(f"pixit.credentials.{item}: not a hexadecimal string") from None
    if not key:
        raise CredentialsError(f"pixit.credentials.{item}: empty key")
    return key
