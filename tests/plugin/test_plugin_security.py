"""The plugin under ``[pixit.credentials]`` (clause 8): coaps peer endpoint, the sample EMA's security options,
the reachability probe with the PIXIT credentials."""

from __future__ import annotations

import pytest
from plugin_subprocess import VERDICTS, results_of, run_pytest, verdicts_of

from conformance.ema.main import config_from_args
from conformance.plugin.embedded import ema_command, security_options
from conformance.plugin.iut_access import link_security, peer_endpoint, probe
from conformance.profiles import bundled_dir, load_profile, profile_from_data
from conformance.security import dtls_available
from conformance.transport import CoapReply, CoapServer

KEY = "656d61702d746573742d6b65792d3031"  # test key "emap-test-key-01"


def test_secured_lower_peer_endpoint_is_coaps_with_a_free_plain_port_below():
    peer = peer_endpoint(load_profile("dtls-lower-push"), embedded=True)
    assert peer.scheme == "coaps" and peer.uri == f"coaps://127.0.0.1:{peer.port}/emap"
    assert peer.port > 1


def test_upper_command_serves_coaps_with_every_key_of_the_link():
    cmd = ema_command(load_profile("dtls-upper"), None)
    assert cmd[cmd.index("--bind") + 1] == "coaps://127.0.0.1:0/emap"
    config = config_from_args(cmd[4:])
    assert config.bind.secured and {"ven-1", "ven-2", "vtn-sample"} <= set(config.psk.keys)
    assert config.psk.key("vtn-sample") == bytes.fromhex(KEY)


def test_push_lower_command_registers_over_coaps_and_knows_its_upper_identity():
    cmd = ema_command(load_profile("dtls-lower-push"), "coaps://127.0.0.1:5999/emap")
    config = config_from_args(cmd[4:])
    assert config.upper_secured and config.lower_endpoint.secured
    assert config.upper_vtn_id == "vtn-1" and config.ven_id == "ven-1" and "ven-1" in config.psk


def _profile(credentials: dict, role: str = "upper", security=("nosec", "dtls-psk", "oscore"), **pixit):
    data = {"name": "t", "pics": {"role": role, "security": list(security)},
            "pixit": {"iut": "embedded", "credentials": credentials, **pixit}}
    if role == "lower":
        data["pics"]["lower_modes"] = ["pull"]
        data["pixit"]["mode"] = "pull"
    return profile_from_data(data, "t.toml")


def test_pull_lower_over_dtls_keeps_a_coap_bind_and_nosec_adds_nothing():
    lower = _profile({"profile": "dtls-psk", "identity": "vtn-1", "psk_hex": KEY, "iut_identity": "ven-1"},
                     role="lower", ven_id="ven-1")
    cmd = ema_command(lower, "coaps://127.0.0.1:5999/emap")
    assert cmd[cmd.index("--bind") + 1].startswith("coap://")
    assert config_from_args(cmd[4:]).upper_secured
    assert security_options(_profile({"profile": "nosec"})) == []
    assert security_options(load_profile("upper")) == []


def test_oscore_passes_the_ema_side_context(tmp_path):
    (tmp_path / "settings.json").write_text("{}", "utf-8")
    oscore = _profile({"profile": "oscore", "identity": "ven-1", "oscore_context": str(tmp_path),
                       "iut_oscore_context": str(tmp_path)})
    assert security_options(oscore) == ["--oscore", f"ven-1={tmp_path}"]


@pytest.mark.skipif(not dtls_available(), reason="aiocoap[tinydtls] not installed")
async def test_probe_reaches_a_dtls_iut_only_with_the_pixit_credentials():
    profile = _profile({"profile": "dtls-psk", "identity": "ven-1", "psk_hex": KEY}, iut="coaps://127.0.0.1/emap")
    link = link_security(profile)

    async def answer(_request):
        return CoapReply("2.04")

    server = await CoapServer.start(answer, psk_table=link.table)
    try:
        host, port = server.address
        uri = f"coaps://{host}:{port}/emap"
        assert await probe(uri, profile.timing, link.client_credentials(uri)) is None
    finally:
        await server.stop()


def test_profile_cases_make_other_test_cases_not_applicable(tmp_path):
    profile = tmp_path / "only-pass.toml"
    profile.write_text('cases = ["TC-F-PASS"]\n' + (bundled_dir() / "upper.toml").read_text("utf-8"), "utf-8")
    proc = run_pytest(VERDICTS, "--profile", str(profile), "--report-dir", str(tmp_path / "out"), cwd=tmp_path)
    verdicts = verdicts_of(results_of(tmp_path / "out"))
    assert verdicts.pop("TC-F-PASS") == "pass", proc.stdout
    assert set(verdicts.values()) == {"not-applicable"}, proc.stdout
    assert proc.returncode == 0
    reasons = {t["reason"] for t in results_of(tmp_path / "out")["tests"] if t["id"] != "TC-F-PASS"}
    assert reasons == {"not applicable under profile upper: not among its cases TC-F-PASS"}
