"""Receiver-side validation of one EMAP payload (EMAP-7.1.4-06, EMAP-B-02, EMAP-B-03, EMAP-B-07, EMAP-B-08, B.6).

Order: UTF-8 without BOM; RFC 8259 JSON without duplicate member names (integers stay distinct from `1.0`, `1e2`
and `-0`; `NaN`/`Infinity` are not JSON); a single envelope naming a Table B-1 message; normalisation of B.6
rule 2; the message's schema. Every failure is a `MessageError` naming its JSON pointer.

The schema step dominates the cost of a small message, and a peer sends the same bytes again and again (every
poll of one lower EMA is identical), so its verdict is kept per exact payload (and ``posted``) in a bounded LRU
(`VERDICT_CACHE_SIZE` payloads of at most `VERDICT_CACHE_MAX_BYTES` bytes). Only the verdict is kept: every call
still parses the payload and returns a new `ValidMessage`, or raises a new `MessageError` equal to the first.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

from jsonschema.exceptions import best_match

from .fields import STRUCTURES, item_type, rows
from .schema import validator_of
from .tables import MESSAGES

#: Payloads whose schema verdict is remembered, and the largest payload remembered (bytes or characters).
VERDICT_CACHE_SIZE = 8192
VERDICT_CACHE_MAX_BYTES = 1024

KINDS = ("not-utf8", "bom", "not-json", "duplicate-member", "not-envelope", "unknown-message", "schema")


def _printable(text: str) -> str:
    """``text`` with unpaired surrogates (from JSON escapes) written as backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class MessageError(Exception):
    """A payload that is not a valid EMAP message; ``kind`` is one of KINDS, ``pointer`` a JSON pointer,
    ``keyword`` the JSON Schema keyword that failed (kind "schema" only)."""

    def __init__(self, kind: str, detail: str, *, name: str | None = None, pointer: str = "",
                 keyword: str | None = None):
        self.kind = kind
        self.keyword = keyword
        self.name = name
        self.pointer = _printable(pointer)
        self.detail = _printable(detail)
        super().__init__(f"{name or 'payload'}: {self.pointer or '(root)'}: {self.detail}")

    def __reduce__(self):
        return _message_error, (self.kind, self.detail, self.name, self.pointer, self.keyword)


def _message_error(kind, detail, name, pointer, keyword) -> MessageError:
    return MessageError(kind, detail, name=name, pointer=pointer, keyword=keyword)


@dataclass(frozen=True)
class ValidMessage:
    """A message that passed `validate`; ``body`` is normalised (B.6 rule 2)."""

    name: str
    body: dict

    @property
    def envelope(self) -> dict:
        return {self.name: self.body}

    @property
    def kind(self) -> str:
        return MESSAGES[self.name].kind

    @property
    def request_id(self) -> str | None:
        """`requestID`, `eiRequestEvent.requestID`, or the echoed `requestID` of a response-type message."""
        body = self.body
        if self.kind == "response":
            response = body.get("eiCreatedEvent", {}).get("eiResponse") if self.name == "emapCreatedEvent" \
                else body.get("eiResponse")
            return response.get("requestID") if response else None
        if "requestID" in body:
            return body["requestID"]
        return body.get("eiRequestEvent", {}).get("requestID")

    @property
    def response_code(self) -> str | None:
        """The top-level `responseCode` of a response-type message, else None."""
        if self.kind != "response":
            return None
        response = self.body["eiCreatedEvent"]["eiResponse"] if self.name == "emapCreatedEvent" \
            else self.body["eiResponse"]
        return response["responseCode"]


def encode(envelope: dict) -> bytes:
    """Compact UTF-8 JSON of an envelope (no NaN or Infinity)."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def pointer_of(path) -> str:
    """JSON pointer (RFC 6901) of a sequence of member names and array indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class _Duplicated(dict):
    """An object in which ``duplicate`` occurred twice."""

    duplicate: str


def _object(marked: list, pairs):
    """A JSON object; one with a repeated member name is a `_Duplicated`, also appended to ``marked``."""
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen = set()
    duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
    result = _Duplicated(result)
    result.duplicate = duplicate
    marked.append(result)
    return result


def _integer(text: str):
    if text == "-0":
        return -0.0
    try:
        return int(text)
    except ValueError:
        return float(text)


def _constant(text: str):
    raise ValueError(f"{text} is not JSON")


def _find(value, found, path=()):
    """Path of the first node (depth first) for which ``found(node)`` gives a member name or True, else None."""
    hit = found(value)
    if hit:
        return (*path, hit) if isinstance(hit, str) else path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        result = _find(child, found, (*path, key))
        if result is not None:
            return result
    return None


def _duplicate(node):
    return node.duplicate if isinstance(node, _Duplicated) else None


def _not_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unpaired_surrogate(node):
    """True for a string, or the member name of an object, that escapes an unpaired surrogate (RFC 8259 8.2)."""
    if isinstance(node, str):
        return _not_unicode(node)
    if isinstance(node, dict):
        return next((key for key in node if _not_unicode(key)), None)
    return None


def parse(payload: bytes | str):
    """The JSON value of a payload; MessageError of kind not-utf8, bom, not-json or duplicate-member."""
    if isinstance(payload, bytes | bytearray | memoryview):
        payload = bytes(payload)
        if payload.startswith(b"\xef\xbb\xbf"):
            raise MessageError("bom", "UTF-8 byte-order mark before the JSON text")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MessageError("not-utf8", f"not UTF-8 at byte {exc.start}") from None
        unicode_text = True  # strict UTF-8 decoding admits no surrogate
    else:
        text = payload
        if text.startswith("\ufeff"):
            raise MessageError("bom", "byte-order mark before the JSON text")
        unicode_text = not _not_unicode(text)
    marked: list[_Duplicated] = []
    try:
        value = json.loads(text, object_pairs_hook=partial(_object, marked), parse_int=_integer,
                           parse_constant=_constant)
    except RecursionError:
        raise MessageError("not-json", "JSON nested too deeply") from None
    except ValueError as exc:
        raise MessageError("not-json", f"not JSON: {str(exc).splitlines()[0]}") from None
    duplicate = _find(value, _duplicate) if marked else None
    if duplicate is not None:
        raise MessageError("duplicate-member", f"member {duplicate[-1]!r} occurs twice in one object",
                           pointer=pointer_of(duplicate))
    surrogate = _find(value, _unpaired_surrogate) if "\\u" in text or not unicode_text else None
    if surrogate is not None:
        raise MessageError("not-json", "a string escapes an unpaired surrogate (not Unicode text)",
                           pointer=pointer_of(surrogate))
    return value


def normalise(value, structure: str) -> None:
    """B.6 rule 2 in place: drop `opt`/`cond` members that are null or empty arrays, at every known depth."""
    if not isinstance(value, dict):
        return
    for member, type_name, req, _ in rows(structure):
        if member not in value:
            continue
        child = value[member]
        if req != "req" and (child is None or child == []):
            del value[member]
            continue
        base, is_array = item_type(type_name)
        if base not in STRUCTURES:
            continue
        if is_array and isinstance(child, list):
            for item in child:
                normalise(item, base)
        elif not is_array:
            normalise(child, base)


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer-valued non-integer number" if value.is_integer() else "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error) -> tuple[tuple, str, str]:
    """(instance path, one-line detail, keyword) of the most useful schema error."""
    while error.parent is not None:
        error = error.parent
    path = tuple(error.absolute_path)
    value, rule = error.instance, error.validator_value
    if error.validator == "required":
        missing = next(m for m in rule if not isinstance(value, dict) or m not in value)
        return (*path, missing), f"required member {missing!r} is missing", "required"
    details = {
        "type": lambda: f"expected {rule}, got {_json_type(value)}" + ("" if value is None else f" {_short(value)}"),
        "enum": lambda: f"{_short(value)} is not a value of the enumeration",
        "const": lambda: f"{_short(value)} must be {_short(rule)}",
        "not": lambda: "member not allowed here (Table B-9 presence rule)",
        "anyOf": lambda: f"{_short(value)} is neither a listed value nor an x- token",
        "oneOf": lambda: "exactly one of " + " and ".join(s["required"][0] for s in rule) + " must be present",
        "pattern": lambda: f"{_short(value)} does not match {rule}",
        "format": lambda: f"{_short(value)} is not a valid {rule}",
        "minItems": lambda: f"array needs at least {rule} item(s)",
        "minLength": lambda: "an ID has at least one character",
        "minimum": lambda: f"{_short(value)} is less than {rule}",
        "maximum": lambda: f"{_short(value)} is greater than {rule}",
    }
    describe = details.get(error.validator)
    return path, describe() if describe else error.message.splitlines()[0][:200], error.validator


class VerdictCache:
    """Schema verdicts by (exact payload, posted), least recently used dropped beyond ``size``; thread-safe.
    A verdict is None (the schema holds) or ``(detail, pointer, keyword)`` of the schema error."""

    MISSING = object()

    def __init__(self, size: int) -> None:
        self.size = size
        self._verdicts: OrderedDict[tuple, tuple | None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._verdicts)

    def get(self, key: tuple):
        """The verdict, or ``VerdictCache.MISSING``."""
        with self._lock:
            verdict = self._verdicts.get(key, self.MISSING)
            if verdict is not self.MISSING:
                self._verdicts.move_to_end(key)
            return verdict

    def put(self, key: tuple, verdict: tuple | None) -> None:
        with self._lock:
            self._verdicts[key] = verdict
            self._verdicts.move_to_end(key)
            while len(self._verdicts) > self.size:
                self._verdicts.popitem(last=False)


VERDICTS = VerdictCache(VERDICT_CACHE_SIZE)


def _schema_verdict(name: str, value: dict, posted: bool) -> tuple | None:
    error = best_match(validator_of(name, posted).iter_errors(value))
    if error is None:
        return None
    path, detail, keyword = _describe(error)
    return detail, pointer_of(path), keyword


def validate(payload: bytes | str | dict, *, posted: bool = True) -> ValidMessage:
    """Validate one payload as an EMAP message; ``posted``: it is a request payload (B.6 rule 5)."""
    if isinstance(payload, dict):
        value, key = copy.deepcopy(payload), None
    else:
        if isinstance(payload, bytearray | memoryview):
            payload = bytes(payload)
        value = parse(payload)
        key = (payload, posted) if len(payload) <= VERDICT_CACHE_MAX_BYTES else None
    if not isinstance(value, dict):
        raise MessageError("not-envelope", f"the payload is a JSON {_json_type(value)}, not an object")
    if len(value) != 1:
        raise MessageError("not-envelope", f"an envelope has exactly one member, this one has {len(value)}")
    name, body = next(iter(value.items()))
    if name not in MESSAGES:
        raise MessageError("unknown-message", f"{name!r} is not a message of Table B-1", pointer=pointer_of([name]))
    normalise(body, name)
    verdict = VERDICTS.get(key) if key is not None else VerdictCache.MISSING
    if verdict is VerdictCache.MISSING:
        verdict = _schema_verdict(name, value, posted)
        if key is not None:
            VERDICTS.put(key, verdict)
    if verdict is not None:
        detail, pointer, keyword = verdict
        raise MessageError("schema", detail, name=name, pointer=pointer, keyword=keyword)
    return ValidMessage(name, body)
