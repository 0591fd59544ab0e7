"""A strict walk of one message over the field tables (EMAP-B-03, B-04, B-06, B-08 to B-13, sender side).

Unlike the receiver's schema (B.6: unknown members allowed, one error reported), the walk reports every finding,
each with the Annex B requirement it breaks, so a test of one requirement judges only its own rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from conformance.messages import MESSAGES
from conformance.messages.fields import (
    DATETIME_PATTERN,
    DURATION_PATTERN,
    ENUMERATIONS,
    ITEM_BASE_KINDS,
    POWER_KINDS,
    STRUCTURES,
    X_TOKEN_PATTERN,
    item_type,
    rows,
)

#: EMAP-B-09: members carried as plain strings, never as xCal wrapper objects.
FLATTENED = frozenset({"dtstart", "duration", "uid", "granularity", "reportBackDuration", "startafter",
                       "x-eiNotification", "x-eiRampUp", "x-eiRecovery", "emapRequestedPollFreq"})
_DATETIME, _DURATION, _X_TOKEN = re.compile(DATETIME_PATTERN), re.compile(DURATION_PATTERN), re.compile(X_TOKEN_PATTERN)
#: Enumerations used only inside an itemBase: judged by EMAP-B-12 (Table B-11), not B-13.
ITEM_BASE_ENUMERATIONS = frozenset({"itemBaseType", "siScaleCode"})
_RESPONSE_CODE = re.compile(r"^[0-9]{3}$")
#: EMAP-B-11: JSON type of each scalar type of Table B-3 (integer: parsed digits only, see validate.parse).
_SCALARS = {
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "boolean": ("a boolean", lambda v: isinstance(v, bool)),
    "ID": ("a string", lambda v: isinstance(v, str)),
    "string": ("a string", lambda v: isinstance(v, str)),
    "URI": ("a string", lambda v: isinstance(v, str)),
}


@dataclass(frozen=True)
class Finding:
    """One broken Annex B rule: requirement id, JSON pointer into the envelope, one-line text."""

    requirement: str
    pointer: str
    text: str

    def __str__(self) -> str:
        return f"{self.requirement}: {self.pointer or '/'}: {self.text}"


def _pointer(pointer: str, key) -> str:
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def valid_datetime(value) -> bool:
    """Table B-3 dateTime: the pattern and a real date and time."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True


def valid_duration(value) -> bool:
    return isinstance(value, str) and bool(_DURATION.match(value))


def findings(envelope) -> list[Finding]:
    """Every Annex B finding of a parsed message (``envelope`` as parsed by ``conformance.messages.validate.parse``)."""
    if not isinstance(envelope, dict) or len(envelope) != 1:
        return [Finding("EMAP-B-03", "", "a message is an object with exactly one member")]
    name, body = next(iter(envelope.items()))
    if name not in MESSAGES:
        return [Finding("EMAP-B-03", _pointer("", name), f"{name!r} is not a message name of Table B-1")]
    if not isinstance(body, dict):
        return [Finding("EMAP-B-03", _pointer("", name), "the message body is not an object")]
    found: list[Finding] = []
    _structure(body, name, _pointer("", name), found)
    return found


def _structure(value: dict, structure: str, pointer: str, found: list[Finding]) -> None:
    table = {row[0]: row for row in rows(structure)}
    for member in value:
        if member not in table:
            found.append(Finding("EMAP-B-04", _pointer(pointer, member),
                                 f"member {member!r} is not in the field table of {structure}"))
    for member, type_name, _, extra in table.values():
        if member in value and value[member] is not None:
            _member(value[member], member, type_name, extra, _pointer(pointer, member), found)
    if structure == "ItemBase":
        found.extend(item_base_findings(value, pointer))


def _member(value, member: str, type_name: str, extra: dict, pointer: str, found: list[Finding]) -> None:
    base, is_array = item_type(type_name)
    if is_array != isinstance(value, list):
        found.append(Finding("EMAP-B-08", pointer, f"typed {type_name}, " +
                             ("sent as an array" if not is_array else f"sent as {_shown(value)}, not an array")))
        return
    if not is_array:
        _value(value, member, base, pointer, found)
        return
    if not value and extra.get("minItems") != 0:
        found.append(Finding("EMAP-B-08", pointer, "empty array where the field table does not allow one"))
    for index, item in enumerate(value):
        if item is not None:
            _value(item, member, base, _pointer(pointer, index), found)


def _value(value, member: str, base: str, pointer: str, found: list[Finding]) -> None:
    """Findings of one value; inside an itemBase every finding but an unknown member is EMAP-B-12."""
    if member in FLATTENED and isinstance(value, dict):
        found.append(Finding("EMAP-B-09", pointer, f"{member} sent as an xCal wrapper object, not a string"))
    elif base == "ItemBase":
        if isinstance(value, dict):
            inner: list[Finding] = []
            _structure(value, base, pointer, inner)
            found.extend(f if f.requirement == "EMAP-B-04" else Finding("EMAP-B-12", f.pointer, f.text)
                         for f in inner)
    elif base in STRUCTURES:
        if isinstance(value, dict):
            _structure(value, base, pointer, found)
    elif base in ENUMERATIONS:
        if base not in ITEM_BASE_ENUMERATIONS:
            found.extend(_enumeration(value, base, pointer))
    elif base in ("dateTime", "duration") and not isinstance(value, str):
        found.append(Finding("EMAP-B-11", pointer, f"typed {base}, sent {_shown(value)}, not a string"))
    elif base == "dateTime" and not valid_datetime(value):
        found.append(Finding("EMAP-B-10", pointer, f"{_shown(value)} is not an RFC 3339 UTC dateTime (Table B-3)"))
    elif base == "duration" and not valid_duration(value):
        found.append(Finding("EMAP-B-10", pointer, f"{_shown(value)} is not a duration of Table B-3"))
    elif base == "responseCode" and not (isinstance(value, str) and _RESPONSE_CODE.match(value)):
        found.append(Finding("EMAP-B-11", pointer, f"responseCode {_shown(value)} is not a string of three digits"))
    elif base in _SCALARS and not _SCALARS[base][1](value):
        found.append(Finding("EMAP-B-11", pointer, f"typed {base}, sent {_shown(value)}, not {_SCALARS[base][0]}"))


def _enumeration(value, enumeration: str, pointer: str) -> list[Finding]:
    closed, values = ENUMERATIONS[enumeration]
    if value in values or (not closed and isinstance(value, str) and _X_TOKEN.match(value)):
        return []
    kind = "closed enumeration" if closed else "open enumeration (nor an x- token)"
    return [Finding("EMAP-B-13", pointer, f"{_shown(value)} is not a value of the {kind} {enumeration}")]


def item_base_findings(item: dict, pointer: str) -> list[Finding]:
    """EMAP-B-12: ``type`` names a kind of Table B-11 and the other members and fixed values are that kind's."""
    kind = item.get("type")
    if kind not in ITEM_BASE_KINDS:
        return [Finding("EMAP-B-12", _pointer(pointer, "type"), f"{_shown(kind)} is not an itemBase type")]
    description, units = ITEM_BASE_KINDS[kind]
    problems = []
    if description is not None and item.get("itemDescription") != description:
        problems.append(("itemDescription", f"must be {description!r} for {kind}"))
    if isinstance(units, tuple) and item.get("itemUnits") not in units:
        problems.append(("itemUnits", f"must be one of {', '.join(units)} for {kind}"))
    if isinstance(units, str) and not (isinstance(item.get("itemUnits"), str) and re.match(units, item["itemUnits"])):
        problems.append(("itemUnits", f"must be an ISO 4217 alphabetic code for {kind}"))
    for member, wanted in (("siScaleCode", kind != "pulseCount"), ("powerAttributes", kind in POWER_KINDS),
                           ("pulseFactor", kind == "pulseCount")):
        if (item.get(member) is not None) != wanted:
            problems.append((member, f"{'required' if wanted else 'not allowed'} for {kind} (Table B-9)"))
    if "siScaleCode" in item and item["siScaleCode"] not in ENUMERATIONS["siScaleCode"][1]:
        problems.append(("siScaleCode", f"{_shown(item['siScaleCode'])} is not a siScaleCode of Table B-12"))
    return [Finding("EMAP-B-12", _pointer(pointer, member), f"{member} {text}") for member, text in problems]
