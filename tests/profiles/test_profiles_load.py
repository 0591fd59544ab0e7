"""Loading profiles: bundled profiles, defaults (binding 0.5), and one-line errors naming file and item."""

from __future__ import annotations

import json
import textwrap
from importlib import resources
from pathlib import Path

import pytest

from conformance.profiles import (
    KNOWN_NAMES,
    ProfileError,
    Timing,
    bundled_profiles,
    load_profile,
    loader,
    with_pixit,
)
from conformance.profiles.model import PICS_DEFAULTS, PIXIT_DEFAULTS, STIMULUS_DEFAULTS

REPO = Path(__file__).resolve().parents[2]
BUNDLED = ["dtls-lower-push", "dtls-upper", "intermediate", "lower-pull", "lower-push", "oscore-lower-push",
           "oscore-upper", "upper"]

VALID_UPPER = """
name = "t"
[pics]
role = "upper"
[pixit]
iut = "coap://192.0.2.7/emap"
"""
VALID_LOWER = """
name = "t"
[pics]
role = "lower"
lower_modes = ["pull"]
[pixit]
iut = "external"
mode = "pull"
peer = "coap://192.0.2.1:5683/emap"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def test_bundled_names():
    assert bundled_profiles() == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_profile_loads(name):
    profile = load_profile(name)
    assert profile.name == name
    assert profile.embedded
    assert profile.stimulus["kind"] == "command"
    assert profile.stimulus["command"][:2] == ("emap-conformance", "stimulate")
    secured = {"dtls": ("dtls-psk",), "oscore": ("oscore",)}
    assert profile.pics["security"] == secured.get(name.split("-")[0], ("nosec",))
    assert profile.role in ("upper", "lower", "intermediate")
    assert profile.timing.t_prompt_s < Timing().t_prompt_s
    assert profile.timing.max_transmit_wait < 10
    assert profile.as_dict()["pixit"]["timing"]["t_prompt_s"] == profile.timing.t_prompt_s


def test_bundled_modes():
    assert load_profile("upper").mode is None
    assert load_profile("lower-pull").mode == "pull"
    assert load_profile("lower-push").mode == "push"
    assert load_profile("intermediate").role == "intermediate"


def test_example_device_profile_loads():
    profile = load_profile(str(REPO / "profiles" / "examples" / "device-upper.toml"))
    assert profile.iut == "coap://192.0.2.7/emap"
    assert not profile.embedded
    assert profile.stimulus["kind"] == "none"
    assert profile.timing == Timing()


def test_defaults_equal_binding_values(tmp_path):
    """0.5: T_PROMPT 10 s, ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4, T_BACKOFF 30 s / 900 s."""
    timing = load_profile(str(write(tmp_path, VALID_UPPER))).timing
    assert timing == Timing(10, 2, 1.5, 4, 30, 900, 1)
    assert timing.max_transmit_wait == 93
    assert timing.exchange_lifetime == 247
    assert tuple(timing.transmission) == (2, 1.5, 4)


def test_defaults_of_optional_items(tmp_path):
    profile = load_profile(str(write(tmp_path, VALID_UPPER)))
    assert profile.pics["max_payload"] == 65536
    assert profile.pics["opt_change"] is False
    assert profile.pixit["vtn_id"] is None
    assert profile.stimulus["kind"] == "none"


def test_valid_lower_external(tmp_path):
    profile = load_profile(str(write(tmp_path, VALID_LOWER)))
    assert (profile.role, profile.mode, profile.embedded) == ("lower", "pull", False)


def test_profile_is_read_only():
    profile = load_profile("upper")
    with pytest.raises(TypeError):
        profile.pics["role"] = "lower"


BAD = [
    ("missing name", VALID_UPPER.replace('name = "t"', ""), "name", "missing"),
    ("missing role", VALID_UPPER.replace('role = "upper"', ""), "pics.role", "missing"),
    (
        "missing iut",
        VALID_UPPER.replace('iut = "coap://192.0.2.7/emap"', 'vtn_id = "v"'),
        "pixit.iut",
        "missing",
    ),
    ("unknown role", VALID_UPPER.replace('"upper"', '"middle"'), "pics.role", '"middle"'),
    ("unknown key", VALID_UPPER + "colour = 1\n", "pixit.colour", "unknown item"),
    ("unknown table", "[extra]\n" + VALID_UPPER, "extra", "unknown item"),
    (
        "wrong type",
        VALID_UPPER + '[pixit.timing]\nt_prompt_s = "ten"\n',
        "pixit.timing.t_prompt_s",
        'expected a number, got "ten"',
    ),
    (
        "bool as number",
        VALID_UPPER + "[pixit.timing]\nack_timeout_s = true\n",
        "pixit.timing.ack_timeout_s",
        "expected a number",
    ),
    (
        "negative timing",
        VALID_UPPER + "[pixit.timing]\nbackoff_initial_s = -1\n",
        "pixit.timing.backoff_initial_s",
        "must be > 0",
    ),
    (
        "float retransmit",
        VALID_UPPER + "[pixit.timing]\nmax_retransmit = 2.5\n",
        "pixit.timing.max_retransmit",
        "expected an integer",
    ),
    (
        "cap below initial",
        VALID_UPPER + "[pixit.timing]\nbackoff_cap_s = 10\n",
        "pixit.timing.backoff_cap_s",
        ">= backoff_initial_s",
    ),
    (
        "small payload",
        VALID_UPPER.replace('role = "upper"', 'role = "upper"\nmax_payload = 1024'),
        "pics.max_payload",
        ">= 65536",
    ),
    (
        "bad scheme",
        VALID_UPPER.replace("coap://192.0.2.7/emap", "http://192.0.2.7/emap"),
        "pixit.iut",
        "coap://",
    ),
    (
        "no base path",
        VALID_UPPER.replace("coap://192.0.2.7/emap", "coap://192.0.2.7"),
        "pixit.iut",
        "base path",
    ),
    (
        "trailing slash",
        VALID_UPPER.replace("coap://192.0.2.7/emap", "coap://192.0.2.7/emap/"),
        "pixit.iut",
        "base path",
    ),
    (
        "query",
        VALID_UPPER.replace("coap://192.0.2.7/emap", "coap://192.0.2.7/emap?x=1"),
        "pixit.iut",
        "query",
    ),
    ("bad port", VALID_UPPER.replace("192.0.2.7", "192.0.2.7:99999"), "pixit.iut", "not a URI"),
    ("coaps without dtls", VALID_UPPER.replace("coap://", "coaps://"), "pixit.iut", "dtls-psk"),
    ("poll too fast", VALID_UPPER + "poll_freq_s = 0.5\n", "pixit.poll_freq_s", ">= 1"),
    (
        "bad security",
        VALID_UPPER.replace('role = "upper"', 'role = "upper"\nsecurity = ["tls"]'),
        "pics.security[0]",
        '"tls"',
    ),
    ("mode for upper", VALID_UPPER + 'mode = "pull"\n', "pixit.mode", "only for a lower"),
    ("lower without modes", VALID_LOWER.replace('lower_modes = ["pull"]', ""), "pics.lower_modes", "missing"),
    ("lower without mode", VALID_LOWER.replace('mode = "pull"', ""), "pixit.mode", "missing"),
    (
        "mode not implemented",
        VALID_LOWER.replace('["pull"]', '["push"]'),
        "pixit.mode",
        "not in pics.lower_modes",
    ),
    (
        "lower without peer",
        VALID_LOWER.replace('peer = "coap://192.0.2.1:5683/emap"', ""),
        "pixit.peer",
        "missing",
    ),
    ("peer port 0 real device", VALID_LOWER.replace(":5683", ":0"), "pixit.peer", "port 0"),
    ("external upper", VALID_UPPER.replace("coap://192.0.2.7/emap", "external"), "pixit.iut", "external"),
    (
        "pull lower with uri",
        VALID_LOWER.replace('"external"', '"coap://192.0.2.9/emap"'),
        "pixit.iut",
        "external",
    ),
    ("command missing", VALID_UPPER + '[stimulus]\nkind = "command"\n', "stimulus.command", "missing"),
    (
        "empty command",
        VALID_UPPER + '[stimulus]\nkind = "command"\ncommand = []\n',
        "stimulus.command",
        "at least 1",
    ),
    ("unknown stimulus kind", VALID_UPPER + '[stimulus]\nkind = "email"\n', "stimulus.kind", '"email"'),
    ("zero stimulus timeout", VALID_UPPER + "[stimulus]\ntimeout_s = 0\n", "stimulus.timeout_s", "> 0"),
    ("empty id", VALID_UPPER + 'preallocated_ven_ids = [""]\n', "pixit.preallocated_ven_ids[0]", "empty"),
    ("not toml", VALID_UPPER + "this is not toml\n", "", "not valid TOML"),
    ("empty cases", 'cases = []\n' + VALID_UPPER, "cases", "at least 1"),
]


@pytest.mark.parametrize(("why", "text", "item", "detail"), BAD, ids=[b[0] for b in BAD])
def test_bad_profile_names_file_and_item(tmp_path, why, text, item, detail):
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {item}: " if item else f"{path}: "), message
    assert detail in message, message
    assert caught.value.item == item


def test_exact_message_for_wrong_type(tmp_path):
    path = write(tmp_path, VALID_UPPER + '[pixit.timing]\nt_prompt_s = "ten"\n')
    with pytest.raises(
        ProfileError, match=r'^.*p\.toml: pixit\.timing\.t_prompt_s: expected a number, got "ten"$'
    ):
        load_profile(str(path))


def test_missing_file_and_unknown_bundled_name(tmp_path):
    with pytest.raises(ProfileError, match="file not found"):
        load_profile(str(tmp_path / "absent.toml"))
    with pytest.raises(ProfileError, match=r"^nonsense: no such profile .*bundled: dtls-lower-push, dtls-upper, intermediate"):
        load_profile("nonsense")


def test_with_pixit_overrides_and_revalidates():
    profile = with_pixit(load_profile("upper"), "--iut", iut="coap://127.0.0.1:5999/emap")
    assert profile.iut == "coap://127.0.0.1:5999/emap"
    assert not profile.embedded
    assert profile.timing == load_profile("upper").timing
    with pytest.raises(ProfileError, match=r"^--iut: pixit\.iut: 'coap://x' needs a base path"):
        with_pixit(profile, "--iut", iut="coap://x")


def test_installed_copy_used_outside_a_source_tree(monkeypatch, tmp_path):
    monkeypatch.setattr(loader, "_SOURCE_TREE_PROFILES", tmp_path)
    assert loader.bundled_dir().parts[-3:] == ("conformance", "bundled", "profiles")


def test_schema_matches_model_defaults():
    """Every schema item has a default or is mandatory, so applicability names and the schema cannot drift."""
    schema = json.loads(resources.files("conformance.profiles").joinpath("profile.schema.json").read_text())
    props = schema["properties"]
    assert set(props["pics"]["properties"]) == {"role", *PICS_DEFAULTS}
    assert set(props["pixit"]["properties"]) == {"iut", "timing", *PIXIT_DEFAULTS}
    assert set(props["pixit"]["properties"]["timing"]["properties"]) == set(Timing.__dataclass_fields__)
    assert set(props["stimulus"]["properties"]) == set(STIMULUS_DEFAULTS)
    assert KNOWN_NAMES == {"role", "iut", "embedded", *PICS_DEFAULTS, *PIXIT_DEFAULTS}
