"""Pre-shared keys per link (ICS-4): the PSK identity is the venID of a lower EMA or the vtnID of an upper EMA
(EMAP-8-04, EMAP-8-05). Keys are never in the repository's profiles except clearly marked test keys."""

from __future__ import annotations

from dataclasses import dataclass, field


class CredentialsError(ValueError):
    """A malformed credential; ``str()`` is one line naming the credential."""


def parse_psk(text: str) -> tuple[str, bytes]:
    """``IDENTITY=HEX`` (``--psk`` option, PIXIT ``psk``) -> ``(identity, key)``."""
    identity, sep, hex_key = text.partition("=")
    if not sep or not identity:
        raise CredentialsError(f"psk {text!r}: expected IDENTITY=HEX")
    try:
        key = bytes.fromhex(hex_key)
    except ValueError:
        raise CredentialsError(f"psk {identity!r}: key is not hexadecimal") from None
    if not key:
        raise CredentialsError(f"psk {identity!r}: empty key")
    return identity, key


@dataclass(frozen=True)
class PskTable:
    """PSK identity -> key, for every link of one EMA (its own identity and its peers')."""

    keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def parse(cls, items) -> PskTable:
        """From ``IDENTITY=HEX`` strings; a repeated identity is an error."""
        keys: dict[str, bytes] = {}
        for item in items:
            identity, key = parse_psk(item)
            if identity in keys:
                raise CredentialsError(f"psk {identity!r}: given twice")
            keys[identity] = key
        return cls(keys)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def __contains__(self, identity: str) -> bool:
        return identity in self.keys

    def key(self, identity: str) -> bytes:
        try:
            return self.keys[identity]
        except KeyError:
            raise CredentialsError(f"psk: no key for identity {identity!r}") from None

    def server_entries(self) -> dict:
        """aiocoap ``server_credentials`` entries: one ``:<identity>`` label per identity, so that a request's
        ``authenticated_claims`` name the PSK identity the client used."""
        return {
            ":" + identity: {"dtls": {"psk": key, "client-identity": identity.encode("utf-8")}}
            for identity, key in self.keys.items()
        }

    def client_entry(self, identity: str, key_of: str | None = None) -> dict:
        """An aiocoap ``client_credentials`` value presenting ``identity`` with the key of ``key_of``
        (default: the identity's own key; an upper EMA presents its vtnID with the key of the link's
        venID)."""
        return {"dtls": {"psk": self.key(key_of or identity), "client-identity": identity.encode("utf-8")}}
