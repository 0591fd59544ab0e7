"""Draft-7 JSON Schemas of the 23 messages, derived from the field tables per B.6 (EMAP-B-01, rules 1-7).

``schema_of(name)`` returns one self-contained schema per message (local ``#/definitions/...`` refs only, no
recursion). Checks beyond JSON Schema keywords are custom formats, checked by ``FORMAT_CHECKER``:
``emap-date-time`` (a real date and time, Table B-3), ``emap-duration`` (Table B-3), ``emap-uri`` (absolute URI,
RFC 3986) and ``emap-poll-freq`` (``emapRequestedPollFreq`` at least ``PT1S``, B.6 rule 5). Integers are true JSON integers
(``1.0`` and ``-0`` are not, Table B-3), checked by ``SchemaValidator``'s type checker.
"""

from __future__ import annotations

import copy
import functools
import math
import re

from jsonschema import Draft7Validator, FormatChecker, validators

from . import timefmt
from .fields import (
    ENUMERATIONS,
    ITEM_BASE_KINDS,
    POWER_KINDS,
    PRIMITIVES,
    STRUCTURES,
    X_TOKEN_PATTERN,
    item_type,
    rows,
)

DRAFT7 = "http://json-schema.org/draft-07/schema#"

#: Exactly-one-of pairs of B.6 rule 5.
ONE_OF_PAIRS = {
    "DataInterval": ("emapReportPayload", "emapGBPayload"),
    "EmapReportPayload": ("payloadFloat", "emapPayloadResourceStatus"),
}

#: A member that must be absent (Table B-9 "present exactly for").
FORBIDDEN = {"not": {}}

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$")


def _ref(name: str) -> dict:
    return {"$ref": f"#/definitions/{name}"}


def _type_schema(type_name: str) -> dict:
    return copy.deepcopy(PRIMITIVES[type_name]) if type_name in PRIMITIVES else _ref(type_name)


def _member_schema(type_name: str, extra: dict) -> dict:
    base, is_array = item_type(type_name)
    if is_array:
        return {"type": "array", "items": _type_schema(base), "minItems": 1, **extra}
    return {**_type_schema(base), **extra}


def _enumeration(name: str) -> dict:
    closed, values = ENUMERATIONS[name]
    if closed:
        return {"enum": list(values)}
    return {"anyOf": [{"enum": list(values)}, {"type": "string", "pattern": X_TOKEN_PATTERN}]}


def _item_base_rules() -> list[dict]:
    """Table B-11 fixed values and Table B-9 presence rules, one if/then per ``type``."""
    rules = []
    for kind, (description, units) in ITEM_BASE_KINDS.items():
        props: dict = {}
        if description is not None:
            props["itemDescription"] = {"const": description}
        if isinstance(units, str):
            props["itemUnits"] = {"pattern": units}
        elif units is not None:
            props["itemUnits"] = {"enum": list(units)}
        required = []
        if kind != "pulseCount":
            required.append("siScaleCode")
        if kind in POWER_KINDS:
            required.append("powerAttributes")
        else:
            props["powerAttributes"] = FORBIDDEN
        if kind == "pulseCount":
            required.append("pulseFactor")
        else:
            props["pulseFactor"] = FORBIDDEN
        then: dict = {"properties": props}
        if required:
            then["required"] = required
        rules.append({"if": {"properties": {"type": {"const": kind}}, "required": ["type"]}, "then": then})
    return rules


def _structure(name: str) -> dict:
    table = rows(name)
    schema: dict = {
        "type": "object",
        "properties": {member: _member_schema(type_name, extra) for member, type_name, _, extra in table},
    }
    required = [member for member, _, req, _ in table if req == "req"]
    if required:
        schema["required"] = required
    if name in ONE_OF_PAIRS:
        schema["oneOf"] = [{"required": [member]} for member in ONE_OF_PAIRS[name]]
    if name == "ItemBase":
        schema["allOf"] = _item_base_rules()
    return schema


def _definition(name: str) -> dict:
    return _enumeration(name) if name in ENUMERATIONS else _structure(name)


def _references(name: str) -> list[str]:
    if name not in STRUCTURES:
        return []
    found = []
    for _, type_name, _, _ in rows(name):
        base, _ = item_type(type_name)
        if base not in PRIMITIVES:
            found.append(base)
    return found


@functools.cache
def _built(name: str, posted: bool) -> dict:
    if name not in STRUCTURES or not name.startswith("emap"):
        raise KeyError(f"unknown message {name!r}")
    definitions: dict[str, dict] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        if current in definitions:
            continue
        definitions[current] = _definition(current)
        pending.extend(_references(current))
    if name == "emapResponse" and posted:
        definitions[name]["required"] = ["eiResponse", "venID"]
    return {
        "$schema": DRAFT7,
        "title": name,
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "required": [name],
        "properties": {name: _ref(name)},
        "definitions": dict(sorted(definitions.items())),
    }


def schema_of(name: str, *, posted: bool = True) -> dict:
    """The self-contained Draft-7 schema of message ``name``; ``posted``: as a request payload (B.6 rule 5)."""
    return copy.deepcopy(_built(name, posted))


def _is_integer(_checker, instance) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(_checker, instance) -> bool:
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and math.isfinite(instance))


FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("emap-date-time", raises=ValueError)
def _check_datetime(value) -> bool:
    if isinstance(value, str):
        timefmt.parse_datetime(value)
    return True


@FORMAT_CHECKER.checks("emap-duration", raises=ValueError)
def _check_duration(value) -> bool:
    if isinstance(value, str):
        timefmt.parse_duration(value)
    return True


@FORMAT_CHECKER.checks("emap-uri")
def _check_uri(value) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


@FORMAT_CHECKER.checks("emap-poll-freq", raises=ValueError)
def _check_poll_freq(value) -> bool:
    return not isinstance(value, str) or timefmt.parse_duration(value) >= 1.0


SchemaValidator = validators.extend(
    Draft7Validator,
    type_checker=Draft7Validator.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number}),
)


@functools.cache
def validator_of(name: str, posted: bool = True) -> Draft7Validator:
    """A cached validator of ``schema_of(name, posted=posted)`` with the EMAP type and format checkers."""
    return SchemaValidator(_built(name, posted), format_checker=FORMAT_CHECKER)

