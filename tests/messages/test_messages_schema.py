"""The derived schemas (B.6): self-contained Draft-7, generators from them produce valid messages."""

import json
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft7Validator

from conformance.messages import MESSAGES, schema_of, validate
from conformance.messages.export import export

#: Strategies for the custom formats of the schemas (hypothesis-jsonschema ``custom_formats``).
CUSTOM_FORMATS = {
    "emap-date-time": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    "emap-duration": st.sampled_from(["PT0S", "PT1H", "P1W", "P1DT2H3M4.5S"]),
    "emap-poll-freq": st.sampled_from(["PT1S", "PT10S", "P1D"]),
    "emap-uri": st.sampled_from(["coap://127.0.0.1/emap", "http://example.com/programs/peak", "urn:x:y"]),
}


def _refs(value):
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "$ref":
                yield child
            else:
                yield from _refs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _refs(child)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_schema_is_self_contained_draft7(name):
    schema = schema_of(name)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert list(schema["properties"]) == [name] and schema["additionalProperties"] is False
    assert (schema["minProperties"], schema["maxProperties"]) == (1, 1)
    for ref in _refs(schema):
        assert ref.startswith("#/definitions/") and ref.split("/")[-1] in schema["definitions"]
    json.dumps(schema)


def test_schema_of_returns_a_copy():
    schema_of("emapPoll")["definitions"]["emapPoll"]["required"].clear()
    assert schema_of("emapPoll")["definitions"]["emapPoll"]["required"] == ["venID"]


def test_posted_response_requires_venid():
    assert schema_of("emapResponse")["definitions"]["emapResponse"]["required"] == ["eiResponse", "venID"]
    assert schema_of("emapResponse", posted=False)["definitions"]["emapResponse"]["required"] == ["eiResponse"]


def test_open_and_closed_enumerations():
    definitions = schema_of("emapCreateOpt")["definitions"]
    assert definitions["optType"] == {"enum": ["optIn", "optOut"]}
    assert definitions["optReason"]["anyOf"][1] == {"type": "string", "pattern": r"^x-\S.*$"}


def test_unknown_message_has_no_schema():
    with pytest.raises(KeyError):
        schema_of("EiTarget")


@pytest.mark.parametrize("name", ["emapPoll", "emapCreateOpt", "emapCancelReport", "emapRequestEvent",
                                  "emapCreatedEvent"])
def test_generated_examples_validate(name):
    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(from_schema(schema_of(name), custom_formats=CUSTOM_FORMATS))
    def generated_is_valid(envelope):
        assert validate(envelope).name == name

    generated_is_valid()


def test_exported_schema_files_are_current(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "conformance" / "messages" / "schemas"
    for path in export(tmp_path):
        assert (shipped / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{path.name} is stale: run python -m conformance.messages.export")
