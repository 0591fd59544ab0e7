"""Helpers of the security tests: PSK test keys, sample EMA configurations over DTLS-PSK."""

from __future__ import annotations

import contextlib
import json

import pytest

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.main import RunningEma
from conformance.ema.security import SecurityGuard
from conformance.messages import build
from conformance.security import LinkSecurity, PskTable
from conformance.testcases.security.lower_checks import check_client_identity
from conformance.transport.client import CoapClient

# TEST KEYS ONLY: never use these outside tests.
# Printable, so that libcoap's -k option can take them too.
KEY_1 = b"emap-test-key-01".hex()
KEY_2 = b"emap-test-key-02".hex()
OSCORE_KEY = b"emap-oscore-key-01".hex()  # an OSCORE master secret the tests provision contexts from
TIMEOUT = 5.0
FAST_TIMING = {"t_prompt": 2, "poll_freq": 2, "ack_timeout": 0.5, "max_retransmit": 2, "backoff_initial": 1,
               "backoff_cap": 2}


def _changed(config: EmaConfig, changes: dict) -> EmaConfig:
    for name, value in changes.items():
        setattr(config, name, value)
    config.validate()
    return config


def upper_config(**changes) -> EmaConfig:
    """A sample upper EMA config serving coaps on a free port pair, with two provisioned lower EMAs."""
    config = EmaConfig(
        role="upper",
        bind=Endpoint("127.0.0.1", 0, ("emap",), "coaps"),
        psk=PskTable.parse([f"ven-1={KEY_1}", f"ven-2={KEY_2}"]),
        **FAST_TIMING,
    )
    return _changed(config, changes)


@contextlib.asynccontextmanager
async def running(config: EmaConfig):
    """The sample EMA of ``config``, started: its ready URIs, then stopped."""
    ema = RunningEma(config)
    try:
        yield await ema.start(), ema
    finally:
        await ema.stop()


def accept_unprotected(monkeypatch) -> None:
    """A mutant of the guard: unprotected requests on a secured link pass (EMAP-8-08 broken)."""
    check = SecurityGuard.check
    monkeypatch.setattr(SecurityGuard, "check", lambda self, role, message, identity: (
        (None, message) if identity is None else check(self, role, message, identity)))


async def check_intermediate_links(stub, config: EmaConfig) -> None:
    """EMAP-8-02 for an intermediate EMA: it registers with ``stub`` under that link's profile, and its upper side
    answers a NoSec registration query of a lower EMA."""
    client = await CoapClient.create()
    try:
        async with running(config) as (ready, _):
            check_client_identity(await stub.next("emapCreatePartyRegistration", TIMEOUT), stub.link)
            assert ready["upper"].startswith("coap://")
            response = await client.request(f"{ready['upper']}/EiRegisterParty", timeout=TIMEOUT,
                                            payload=build.query_registration("nosec-1", ven_id="ven-low"))
            assert response.code == "2.04" and response.message.name == "emapCreatedPartyRegistration"
    finally:
        await client.close()
        await stub.stop()


def plain_of(coaps_uri: str) -> str:
    """The sample EMA's plain coap base URI: one port below its coaps port."""
    head, port_path = coaps_uri.rsplit(":", 1)
    port, _, path = port_path.partition("/")
    return f"coap{head[5:]}:{int(port) - 1}/{path}"


def link_of(base_uri: str) -> LinkSecurity:
    return LinkSecurity.parse(
        {
            "profile": "dtls-psk",
            "identity": "ven-1",
            "psk_hex": KEY_1,
            "other_identity": "ven-2",
            "other_psk_hex": KEY_2,
            "unprotected_uri": plain_of(base_uri),
        }
    )


def lower_config(upper_uri: str, **changes) -> EmaConfig:
    """A sample push-mode lower EMA ``ven-1`` serving coaps, registered with the coaps upper ``upper_uri``."""
    config = EmaConfig(
        role="lower",
        mode="push",
        bind=Endpoint("127.0.0.1", 0, ("emapl",), "coaps"),
        upper=upper_uri,
        ven_id="ven-1",
        upper_vtn_id="vtn-sample",
        psk=PskTable.parse([f"ven-1={KEY_1}", f"vtn-sample={KEY_1}"]),
        **FAST_TIMING,
    )
    return _changed(config, changes)


def stub_link() -> LinkSecurity:
    """The security PIXIT of a lower IUT ``ven-1`` whose upper EMA (the suite) is ``vtn-sample``."""
    return LinkSecurity.parse(
        {"profile": "dtls-psk", "identity": "vtn-sample", "psk_hex": KEY_1, "iut_identity": "ven-1"}
    )


def oscore_stub_link() -> LinkSecurity:
    """The security PIXIT of a lower IUT ``ven-1`` whose upper EMA (the suite) is ``vtn-sample``, under OSCORE
    with contexts provisioned from a test master secret."""
    return LinkSecurity.parse(
        {"profile": "oscore", "identity": "vtn-sample", "psk_hex": OSCORE_KEY, "iut_identity": "ven-1"}
    )


def oscore_lower_config(upper_uri: str, **changes) -> EmaConfig:
    """A sample lower EMA ``ven-1`` (push mode unless changed) on an OSCORE link to the ``coap`` upper
    ``upper_uri``, with its side of ``oscore_stub_link()``'s context."""
    values = {
        "mode": "push",
        "bind": Endpoint("127.0.0.1", 0, ("emapl",)),
        "oscore": oscore_stub_link().iut_contexts(),
        "psk": PskTable(),
        **changes,
    }
    return lower_config(upper_uri, **values)


def oscore_context(directory, sender_hex: str, recipient_hex: str) -> str:
    """Write an OSCORE context directory (TEST SECRET ONLY) and return its path."""
    directory.mkdir(parents=True)
    (directory / "settings.json").write_text(
        json.dumps(
            {
                "sender-id_hex": sender_hex,
                "recipient-id_hex": recipient_hex,
                "secret_ascii": "emap-oscore-test-secret",
                "salt_hex": "9e7ca92223786340",
                "algorithm": "AES-CCM-16-64-128",
                "kdf-hashfun": "sha256",
            }
        )
    )
    return str(directory)


def _missing(kind: str) -> list:
    import aiocoap.defaults

    return getattr(aiocoap.defaults, f"{kind}_missing_modules")()


#: Skip markers for machines without aiocoap's ``[tinydtls]`` / ``[oscore]`` extras.
needs_dtls = pytest.mark.skipif(bool(_missing("dtls")), reason="aiocoap[tinydtls] is not installed")
needs_oscore = pytest.mark.skipif(bool(_missing("oscore")), reason="aiocoap[oscore] is not installed")
