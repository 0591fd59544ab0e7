"""``[pixit.credentials]`` (clause 8, ICS-4) and the top-level ``cases`` selection: loading, one-line errors,
keys never shown."""

from __future__ import annotations

import json
import textwrap

import pytest

from conformance.profiles import ProfileError, load_profile
from conformance.security import LinkSecurity

KEY = "656d61702d746573742d6b65792d3031"  # test key "emap-test-key-01"
UPPER = f"""
name = "t"
[pics]
role = "upper"
security = ["nosec", "dtls-psk"]
[pixit]
iut = "coaps://192.0.2.7/emap"
[pixit.credentials]
profile = "dtls-psk"
identity = "ven-1"
psk_hex = "{KEY}"
"""
LOWER = f"""
name = "t"
[pics]
role = "lower"
lower_modes = ["push"]
security = ["dtls-psk"]
[pixit]
iut = "coaps://192.0.2.7/emapl"
mode = "push"
peer = "coaps://192.0.2.1:5684/emap"
[pixit.credentials]
profile = "dtls-psk"
identity = "vtn-1"
psk_hex = "{KEY}"
iut_identity = "ven-1"
"""


def load(tmp_path, text: str):
    path = tmp_path / "p.toml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return load_profile(str(path))


def test_credentials_load_as_a_read_only_table(tmp_path):
    profile = load(tmp_path, UPPER)
    assert profile.credentials["identity"] == "ven-1"
    link = LinkSecurity.parse(profile.credentials)
    assert link.dtls and link.psk == bytes.fromhex(KEY)
    with pytest.raises(TypeError):
        profile.credentials["identity"] = "x"
    assert load(tmp_path, LOWER).credentials["iut_identity"] == "ven-1"


def test_keys_never_reach_the_results(tmp_path):
    shown = json.dumps(load(tmp_path, UPPER.replace('psk_hex', 'other_identity = "ven-2"\nother_psk_hex = "00"\npsk_hex')).as_dict())
    assert KEY not in shown and '"other_psk_hex": "(hidden)"' in shown


def test_profiles_without_credentials_are_nosec():
    assert load_profile("upper").credentials is None
    assert LinkSecurity.parse(load_profile("upper").credentials).profile == "nosec"


BAD = [
    ("unknown item", UPPER + 'psk = "x"\n', "pixit.credentials.psk", "unknown item"),
    ("bad profile", UPPER.replace('"dtls-psk"\nidentity', '"tls"\nidentity'), "pixit.credentials.profile",
     '"tls"'),
    ("odd hex", UPPER.replace(KEY, KEY + "0"), "pixit.credentials.psk_hex", "hexadecimal"),
    ("not hex", UPPER.replace(KEY, "zz" + KEY[2:]), "pixit.credentials.psk_hex", "hexadecimal"),
    ("no key", UPPER.replace(f'psk_hex = "{KEY}"', ""), "pixit.credentials", "needs identity and psk_hex"),
    ("other without key", UPPER + 'other_identity = "ven-2"\n', "pixit.credentials", "go together"),
    ("profile not in pics", UPPER.replace('["nosec", "dtls-psk"]', '["nosec"]').replace("coaps", "coap"),
     "pixit.credentials.profile", "not in pics.security"),
    ("coap iut under dtls", UPPER.replace("coaps://", "coap://"), "pixit.iut", "must be a coaps URI"),
    ("coaps peer under nosec", LOWER.replace('"dtls-psk"\nidentity', '"nosec"\nidentity').replace(
        '["dtls-psk"]', '["nosec", "dtls-psk"]').replace('iut = "coaps', 'iut = "coap'), "pixit.peer",
     "must be a coap URI"),
    ("oscore without context", UPPER.replace('"dtls-psk"\nidentity', '"oscore"\nidentity').replace(
        '["nosec", "dtls-psk"]', '["oscore"]').replace("coaps", "coap").replace(f'psk_hex = "{KEY}"\n', ""),
     "pixit.credentials", "oscore needs identity and oscore_context or psk_hex"),
    ("empty identity", UPPER.replace('identity = "ven-1"', 'identity = ""'), "pixit.credentials.identity",
     "empty"),
]


@pytest.mark.parametrize(("why", "text", "item", "detail"), BAD, ids=[b[0] for b in BAD])
def test_bad_credentials_are_one_line_naming_the_item(tmp_path, why, text, item, detail):
    with pytest.raises(ProfileError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and KEY[:8] not in message
    assert caught.value.item == item, message
    assert detail in message, message


def test_embedded_oscore_needs_the_ema_side_context(tmp_path):
    text = UPPER.replace('"dtls-psk"\nidentity', '"oscore"\nidentity').replace(
        '["nosec", "dtls-psk"]', '["oscore"]').replace('"coaps://192.0.2.7/emap"', '"embedded"')
    with pytest.raises(ProfileError, match="iut_oscore_context: missing"):
        load(tmp_path, text + f'oscore_context = "{tmp_path}"\n')


def test_cases_select_test_case_ids(tmp_path):
    profile = load(tmp_path, 'cases = ["TC-S-8-*", "TC-U-6.2.2-01"]\n' + UPPER)
    assert profile.selects("TC-S-8-01") and profile.selects("TC-U-6.2.2-01")
    assert not profile.selects("TC-U-6.2.2-02")
    assert profile.as_dict()["cases"] == ["TC-S-8-*", "TC-U-6.2.2-01"]
    assert load_profile("upper").selects("TC-anything")


@pytest.mark.parametrize("name", ["dtls-upper", "dtls-lower-push"])
def test_bundled_secured_profiles_use_marked_test_keys(name):
    profile = load_profile(name)
    assert LinkSecurity.parse(profile.credentials).dtls
    assert profile.cases == ("TC-S-8-*",)
    text = profile.path.read_text("utf-8")
    assert "TEST KEYS" in text and "never" in text.lower()
