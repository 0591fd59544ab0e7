"""Every valid fixture validates; every invalid fixture fails with its stated kind and pointer (EMAP-B-01..13)."""

import json
from pathlib import Path

import pytest

from conformance.messages import MESSAGES, MessageError, validate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "messages"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
EXPECTED = json.loads((FIXTURES / "invalid" / "expected.json").read_text())


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_validates(path):
    message = validate(path.read_bytes())
    assert message.name == path.name.split(".")[0]


def test_every_message_has_a_valid_fixture():
    names = {path.name.split(".")[0] for path in VALID}
    assert names == set(MESSAGES)


def test_every_invalid_fixture_has_a_stated_reason():
    files = {path.name for path in (FIXTURES / "invalid").glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 60


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_fixture_fails_as_stated(name):
    with pytest.raises(MessageError) as caught:
        validate((FIXTURES / "invalid" / name).read_bytes())
    error = caught.value
    assert (error.kind, error.pointer) == (EXPECTED[name]["kind"], EXPECTED[name]["pointer"]), str(error)
    assert "\n" not in str(error)
    assert str(error).startswith(f"{error.name or 'payload'}: ")


def test_response_without_venid_is_valid_when_not_posted():
    payload = (FIXTURES / "invalid" / "emapResponse.posted-missing-venID.json").read_bytes()
    assert validate(payload, posted=False).name == "emapResponse"
