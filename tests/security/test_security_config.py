"""Credentials model, security PIXIT and the sample EMA's security options: one-line errors on bad input."""

from __future__ import annotations

import pytest
from security_helpers import KEY_1, lower_config, upper_config

from conformance.ema.config import ConfigError, Endpoint
from conformance.ema.main import config_from_args
from conformance.security import CredentialsError, LinkSecurity, PskTable, parse_psk


def test_parse_psk():
    assert parse_psk(f"ven-1={KEY_1}") == ("ven-1", bytes.fromhex(KEY_1))
    for bad, what in (
        ("ven-1", "IDENTITY=HEX"),
        ("=00", "IDENTITY=HEX"),
        ("v=zz", "not hexadecimal"),
        ("v=", "empty key"),
    ):
        with pytest.raises(CredentialsError, match=what):
            parse_psk(bad)
    with pytest.raises(CredentialsError, match="given twice"):
        PskTable.parse(["v=00", "v=01"])


def test_psk_table_entries():
    table = PskTable.parse(["ven-1=0011", "vtn-1=2233"])
    assert table.server_entries()[":ven-1"] == {"dtls": {"psk": b"\x00\x11", "client-identity": b"ven-1"}}
    assert table.client_entry("vtn-1", key_of="ven-1") == {
        "dtls": {"psk": b"\x00\x11", "client-identity": b"vtn-1"}
    }
    with pytest.raises(CredentialsError, match="no key for identity 'x'"):
        table.key("x")


def test_link_security_parse():
    assert not LinkSecurity.parse(None).dtls
    link = LinkSecurity.parse(
        {"profile": "dtls-psk", "identity": "ven-1", "psk_hex": "0011", "iut_identity": "v"}
    )
    assert link.dtls and set(link.table.keys) == {"ven-1", "v"}
    for data, what in (
        ({"profile": "tls"}, "not one of"),
        ({"profile": "dtls-psk"}, "needs identity"),
        ({"profile": "dtls-psk", "identity": "a", "psk_hex": "xy"}, "psk_hex: not a hexadecimal string"),
        ({"profile": "dtls-psk", "identity": "a", "psk_hex": "00", "other_identity": "b"}, "go together"),
    ):
        with pytest.raises(CredentialsError, match=what):
            LinkSecurity.parse(data)


def test_endpoint_coaps_default_port_and_uri():
    endpoint = Endpoint.parse("coaps://127.0.0.1/emap", "--bind", need_path=True)
    assert (endpoint.port, endpoint.secured, endpoint.uri()) == (5684, True, "coaps://127.0.0.1:5684/emap")
    with pytest.raises(ConfigError, match="coap .NoSec. or coaps"):
        Endpoint.parse("http://127.0.0.1/emap", "--bind", need_path=True)


def test_cli_security_options():
    config = config_from_args(
        ["--role", "upper", "--bind", "coaps://127.0.0.1:0/emap", "--psk", f"ven-1={KEY_1}"]
    )
    assert config.bind.secured and "ven-1" in config.psk
    with pytest.raises(ConfigError, match="^--psk 'ven-1': key is not hexadecimal$"):
        config_from_args(["--role", "upper", "--psk", "ven-1=xyz"])
    with pytest.raises(ConfigError, match="--psk: a coaps --bind needs"):
        config_from_args(["--role", "upper", "--bind", "coaps://127.0.0.1:0/emap"])


def test_one_profile_per_link_in_push_mode():
    with pytest.raises(ConfigError, match="serves coaps"):
        lower_config("coaps://127.0.0.1:5684/emap", bind=Endpoint("127.0.0.1", 0, ("emapl",)))
    with pytest.raises(ConfigError, match="needs a coaps --upper"):
        lower_config("coap://127.0.0.1:5683/emap")
    assert upper_config().bind.secured


def test_coaps_needs_a_concrete_address():
    with pytest.raises(ConfigError, match="^--bind: a coaps endpoint needs a concrete address, not 0.0.0.0$"):
        upper_config(bind=Endpoint("0.0.0.0", 0, ("emap",), "coaps"))
