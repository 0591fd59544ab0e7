"""Hypothesis strategies compiled from the project's own Draft-7 message schemas (``schema_of(name)``).

hypothesis-jsonschema needs about 30 ms per example for the event and report schemas (open objects, arrays of
objects) and does not know the custom formats, so the fuzzer compiles the schemas itself: every keyword the
schemas use (``type``, ``properties``/``required``, ``enum``/``const``, ``anyOf``, ``oneOf`` of ``required``,
``allOf`` of ``if``/``then`` keyed on a ``const``, ``not: {}``, ``pattern``, ``format``, ``minItems``,
``minimum``/``maximum``, ``minLength``, local ``$ref``) maps to a strategy that draws small values, well under a
millisecond per message. The drawn value is not trusted: the fuzzer always asks ``validate()`` (B.6) whether the
bytes it sends are a valid message and derives the expected answer from that.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import strategies as st

from conformance.messages import schema_of
from conformance.messages.fields import DATETIME_PATTERN, DURATION_PATTERN, X_TOKEN_PATTERN
from conformance.messages.timefmt import format_datetime, parse_duration

MAX_ITEMS = 2
ID_ALPHABET = string.ascii_letters + string.digits + "-_.:"
#: Characters of drawn free text: mostly printable ASCII, sometimes any code point JSON can carry.
TEXT = st.one_of(st.text(string.printable, max_size=10),
                 st.text(st.characters(exclude_categories=("Cs",)), max_size=6))
IDS = st.one_of(st.text(ID_ALPHABET, min_size=1, max_size=10),
                st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6))
URIS = st.one_of(st.sampled_from(["http://mc.example.com/emap", "coap://127.0.0.1:5683/emap", "urn:x-mc:1"]),
                 st.builds("coap://h{}.example:{}/p{}".format, st.integers(0, 99), st.integers(1, 65535),
                           st.integers(0, 9)))


def _datetimes() -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31))
    return moments.map(lambda dt: format_datetime(dt.replace(tzinfo=UTC)))


def _durations(min_seconds: int = 0) -> st.SearchStrategy[str]:
    """``PnW`` or ``P[nD][T[nH][nM][n[.n]S]]`` with at least one component (Table B-3)."""
    small = st.integers(0, 400)
    weeks = st.integers(0, 52).map("P{}W".format)
    parts = st.tuples(st.none() | small, st.none() | small, st.none() | small,
                      st.none() | small | st.decimals(0, 60, places=2, allow_nan=False, allow_infinity=False))

    def text(p) -> str | None:
        days, hours, minutes, seconds = p
        clock = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v is not None)
        if days is None and not clock:
            return None
        return "P" + (f"{days}D" if days is not None else "") + (f"T{clock}" if clock else "")

    drawn = st.one_of(weeks, parts.map(text).filter(bool))
    if min_seconds:
        drawn = st.one_of(drawn.filter(lambda d: parse_duration(d) >= min_seconds),
                          st.integers(min_seconds, 3600).map("PT{}S".format))
    return drawn


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    """Integers in [low, high], with the boundaries implementations get wrong drawn often (int16/int32 limits)."""
    edges = sorted({v for v in (low, high, low + 1, high - 1, 2 ** 15 - 1, 2 ** 15, 2 ** 16, 2 ** 31 - 1, 2 ** 31)
                    if low <= v <= high})
    return st.one_of(st.integers(low, high), st.sampled_from(edges), st.sampled_from(edges))


PATTERNS = {
    DATETIME_PATTERN: _datetimes(),
    DURATION_PATTERN: _durations(),
    X_TOKEN_PATTERN: st.text(ID_ALPHABET, min_size=1, max_size=8).map("x-{}".format),
    "^[0-9]{3}$": st.one_of(st.sampled_from(["200", "450", "452", "454", "463", "469"]),
                            st.text(string.digits, min_size=3, max_size=3)),  # one draw; from_regex draws each char
    "^[A-Z]{3}$": st.one_of(st.sampled_from(["EUR", "USD"]), st.text(string.ascii_uppercase, min_size=3, max_size=3)),
}
FORMATS = {"emap-date-time": _datetimes(), "emap-uri": URIS, "emap-poll-freq": _durations(1),
           "emap-duration": _durations()}


class Compiler:
    """Compiles one message schema; ``definitions`` are compiled once each and shared (deferred only where a
    definition refers to itself: each deferred level costs a draw per drawn value)."""

    def __init__(self, schema: dict):
        self.definitions = schema.get("definitions", {})
        self._compiled: dict[str, st.SearchStrategy] = {}
        self._compiling: set[str] = set()

    def ref(self, pointer: str) -> st.SearchStrategy:
        name = pointer.rsplit("/", 1)[-1]
        if name in self._compiling:
            return st.deferred(lambda: self._compiled[name])
        if name not in self._compiled:
            self._compiling.add(name)
            self._compiled[name] = self.compile(self.definitions[name])
            self._compiling.discard(name)
        return self._compiled[name]

    def compile(self, schema: dict) -> st.SearchStrategy:
        if "$ref" in schema:
            return self.ref(schema["$ref"])
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "$ref" in schema.get("items", {}) and "type" not in schema:
            schema = {**schema, "type": "array"}
        if "anyOf" in schema:
            return st.one_of([self.compile(branch) for branch in schema["anyOf"]])
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema)
        if kind == "array":
            items = self.compile(schema.get("items", {}))
            return st.lists(items, min_size=schema.get("minItems", 0), max_size=MAX_ITEMS)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return _integers(schema.get("minimum", -(2 ** 31)), schema.get("maximum", 2 ** 31))
        if kind == "number":
            return st.one_of(st.integers(-10 ** 6, 10 ** 6),
                             st.floats(allow_nan=False, allow_infinity=False, width=32))
        if kind == "boolean":
            return st.booleans()
        raise ValueError(f"schema keyword set not supported by the fuzzer: {sorted(schema)}")

    @staticmethod
    def _string(schema: dict) -> st.SearchStrategy:
        if schema.get("format") in FORMATS:
            return FORMATS[schema["format"]]
        if schema.get("pattern") in PATTERNS:
            return PATTERNS[schema["pattern"]]
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return IDS if schema.get("minLength") else TEXT

    def _object(self, schema: dict) -> st.SearchStrategy:
        branches = [rule for rule in schema.get("allOf", ()) if "if" in rule]
        if not branches:
            return self._members(schema)
        key = next(iter(branches[0]["if"]["properties"]))
        cases = {rule["if"]["properties"][key]["const"]: rule["then"] for rule in branches}

        choice = self.compile(schema["properties"][key])
        variants = {value: self._members(_merge(schema, then), key) for value, then in cases.items()}
        plain = self._members(schema, key)

        @st.composite
        def conditional(draw):
            value = draw(choice)
            return {key: value, **draw(variants.get(value, plain))}

        return conditional()

    def _members(self, schema: dict, skip: str | None = None) -> st.SearchStrategy:
        """Required members always, optional ones each with a drawn boolean, one of each ``oneOf`` pair. A
        member with a single value (``const``) is set without a draw; no draw chooses when there is no pair."""
        required = set(schema.get("required", ()))
        exclusive = [branch["required"][0] for branch in schema.get("oneOf", ())]
        members = {name: _const_of(sub) or self.compile(sub) for name, sub in schema.get("properties", {}).items()
                   if sub != {"not": {}} and name != skip}
        choose = st.sampled_from(exclusive) if exclusive else None
        include = st.sampled_from((False, True, True, True, True, True))  # present 5 times in 6; shrinks to absent

        @st.composite
        def drawn(draw):
            chosen = draw(choose) if choose is not None else None
            out = {}
            for name, strategy in members.items():
                if name in exclusive and name != chosen:
                    continue
                if name in required or name == chosen or draw(include):
                    out[name] = strategy.value if isinstance(strategy, Const) else draw(strategy)
            return out

        return drawn()


@dataclass(frozen=True)
class Const:
    """A member's only value (schema ``const``)."""

    value: object


def _const_of(schema: dict) -> Const | None:
    return Const(schema["const"]) if "const" in schema else None


def _merge(schema: dict, then: dict) -> dict:
    merged = dict(schema)
    merged["properties"] = dict(schema.get("properties", {}))
    for name, extra in then.get("properties", {}).items():
        merged["properties"][name] = extra if extra == {"not": {}} else {**merged["properties"].get(name, {}), **extra}
    merged["required"] = sorted(set(schema.get("required", ())) | set(then.get("required", ())))
    return merged


@functools.cache
def envelope_strategy(name: str, *, posted: bool = True) -> st.SearchStrategy[dict]:
    """Envelopes ``{name: body}`` drawn from ``schema_of(name, posted=posted)``."""
    schema = schema_of(name, posted=posted)
    return Compiler(schema).compile(schema)
