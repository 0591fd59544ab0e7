"""Clause-8 checks of the sample EMA's front door, run after the 4.00 check (EMAP-7.1.4-05, DEC-109).

On a secured link (DTLS-PSK or OSCORE): an unprotected request is answered 4.01 (EMAP-8-08; plain datagrams
sent to the DTLS port are dropped by the DTLS layer, OSCORE replays are answered 4.01 by aiocoap's OSCORE
wrapper, EMAP-8-09); at U a `venID` other than the authenticated identity is answered 4.03 and a
request without `venID` is attributed to the identity (EMAP-8-06); at L an identity other than the upper
EMA's `vtnID`, or an `emapDistributeEvent` whose `vtnID` differs from it, is answered 4.03 (EMAP-8-07).
Refusals carry a diagnostic text, never an EMAP message, and the role never sees the request. An upper EMA
that accepts a registration with a `coaps` (`coap` under OSCORE) `emapTransportAddress` pushes to it
presenting its `vtnID` with that link's key (that link's OSCORE context) (EMAP-8-02, EMAP-8-05)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiocoap import Code, Message

from conformance.ema.config import EmaConfig
from conformance.messages import MessageError, ValidMessage, encode, validate
from conformance.security.dtls import client_credentials_map
from conformance.security.oscore import server_credentials as oscore_server_credentials

log = logging.getLogger("conformance.ema.security")


def _refusal(code: Code, text: str) -> Message:
    return Message(code=code, payload=text.encode("utf-8"))


class SecurityGuard:
    """Decides, per role side, whether a request may reach the role under the link's security profile."""

    def __init__(self, config: EmaConfig) -> None:
        self.config = config
        self.client_credentials = client_credentials_map() if config.psk or config.oscore else None
        # One OSCORE context object per link, shared by both directions (aiocoap locks its directory).
        self.oscore_credentials = oscore_server_credentials(config.oscore) if config.oscore else None
        if config.upper_secured:  # EMAP-8-04
            self._add_client_entry(config.upper, config.ven_id, config.ven_id)
        elif config.upper_oscore:
            self._add_oscore_entry(config.upper, config.upper_vtn_id)

    def secured(self, side: str) -> bool:
        """Whether the links of a role of ``side`` are secured (U: ``coaps`` ``--bind`` or OSCORE contexts of
        lower EMAs; L: ``coaps`` ``--upper`` or an OSCORE context of ``--upper-vtn-id``)."""
        config = self.config
        if side == "L":
            return config.upper_secured or config.upper_oscore
        return config.bind.secured or any(identity != config.upper_vtn_id for identity in config.oscore)

    def check(self, role, message: ValidMessage, identity: str | None) -> tuple[Message | None, ValidMessage]:
        """``(refusal, message)``: ``refusal`` is the 4.01/4.03 response to send instead of processing, or
        None; ``message`` is what the role processes (at U possibly attributed to the identity)."""
        if not self.secured(role.side):
            return None, message
        if identity is None:
            return _refusal(Code.UNAUTHORIZED, "unprotected request on a secured link (EMAP-8-08)"), message
        if role.side == "U":
            return self._check_upper(message, identity)
        return self._check_lower(role, message, identity), message

    def _check_upper(self, message: ValidMessage, identity: str) -> tuple[Message | None, ValidMessage]:
        ven_id = message.body.get("venID")
        if ven_id is not None and ven_id != identity:
            return _refusal(
                Code.FORBIDDEN, f"venID {ven_id!r} is not the authenticated identity {identity!r} (EMAP-8-06)"
            ), message
        if ven_id is None:
            message = _attributed(message, identity)
        address = message.body.get("emapTransportAddress")
        if message.name == "emapCreatePartyRegistration" and isinstance(address, str):
            self._learn_push_address(address, identity)
        return None, message

    def _check_lower(self, role, message: ValidMessage, identity: str) -> Message | None:
        link = getattr(role, "link", None)
        expected = getattr(link, "vtn_id", None) or self.config.upper_vtn_id
        if identity != expected:
            return _refusal(
                Code.FORBIDDEN, f"identity {identity!r} is not the upper EMA's vtnID {expected!r} (EMAP-8-07)"
            )
        vtn_id = message.body.get("vtnID")
        if message.name == "emapDistributeEvent" and vtn_id != identity:
            return _refusal(
                Code.FORBIDDEN, f"vtnID {vtn_id!r} is not the authenticated identity {identity!r} (EMAP-8-07)"
            )
        return None

    def _learn_push_address(self, address: str, ven_id: str) -> None:
        """Push to a lower EMA's ``coaps`` base URI with the vtnID and that link's key (EMAP-8-05), or to its
        ``coap`` base URI with that link's OSCORE context."""
        if address.startswith("coaps:") and ven_id in self.config.psk:
            self._add_client_entry(address, self.config.vtn_id, ven_id)
        elif address.startswith("coap:") and ven_id in self.config.oscore:
            self._add_oscore_entry(address, ven_id)

    def _add_oscore_entry(self, base_uri: str, identity: str) -> None:
        parts = urlsplit(base_uri)
        self.client_credentials[f"{parts.scheme}://{parts.netloc}/*"] = self.oscore_credentials[
            ":" + identity
        ]
        log.info("OSCORE towards %s://%s with the context of %r", parts.scheme, parts.netloc, identity)

    def _add_client_entry(self, base_uri: str, identity: str, key_of: str) -> None:
        parts = urlsplit(base_uri)
        pattern = f"{parts.scheme}://{parts.netloc}/*"
        self.client_credentials.load_from_dict({pattern: self.config.psk.client_entry(identity, key_of)})
        log.info("DTLS-PSK towards %s as %r", pattern, identity)


def _attributed(message: ValidMessage, identity: str) -> ValidMessage:
    """The message with ``venID`` set to the authenticated identity, when its schema has one (EMAP-8-06)."""
    try:
        return validate(encode({message.name: {**message.body, "venID": identity}}), posted=True)
    except MessageError:
        return message
