"""Applying a case's one change to a resolved envelope: JSON-tree edits and byte-level edits of the payload.

A mutation is data (so it can be saved and replayed): ``{"op": ..., "pointer": "/emapPoll/venID", "value": ...}``.
Tree ops: ``drop`` (remove the member), ``null`` (set it to null), ``replace`` (set it to ``value``),
``add`` (add an unknown member ``name`` with ``value`` to the object at ``pointer``), ``rename`` (rename the
envelope to ``value``), ``second-envelope`` (add a second top-level member). Byte ops: ``bom``, ``bad-utf8``
(insert ``value`` invalid bytes at ``at``), ``truncate`` (keep ``at`` bytes), ``duplicate-member`` (repeat the
envelope's member), ``trailing`` (append ``value``), ``number-token`` (replace the first integer literal with
``value``, e.g. ``1.0``, ``1e2``, ``-0``, ``NaN``).
"""

from __future__ import annotations

import copy
import json
import re

from conformance.messages import encode

TREE_OPS = ("drop", "null", "replace", "add", "rename", "second-envelope")
BYTE_OPS = ("bom", "bad-utf8", "truncate", "duplicate-member", "trailing", "number-token")


def pointers(value, prefix: str = "") -> list[str]:
    """Every JSON pointer inside ``value`` (objects and arrays), depth first, in document order."""
    found = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return found
    for key, item in items:
        pointer = f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"
        found.append(pointer)
        found.extend(pointers(item, pointer))
    return found


def _walk(document, pointer: str):
    """(container, key) of ``pointer`` in ``document``."""
    steps = [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]
    holder = document
    for step in steps[:-1]:
        holder = holder[int(step)] if isinstance(holder, list) else holder[step]
    last = steps[-1]
    return holder, int(last) if isinstance(holder, list) else last


def apply_tree(envelope: dict, mutation: dict) -> dict:
    """A copy of ``envelope`` with the tree mutation applied (pointers that do not exist are ignored)."""
    out = copy.deepcopy(envelope)
    op = mutation["op"]
    if op == "rename":
        (_, body), = out.items()
        return {mutation["value"]: body}
    if op == "second-envelope":
        (name, body), = out.items()
        return {name: body, mutation["value"]: body}
    try:
        holder, key = _walk(out, mutation["pointer"])
        if op == "add":
            target = holder[key]
            if isinstance(target, dict):
                target[mutation["name"]] = mutation["value"]
        elif op == "drop":
            del holder[key]
        elif op == "null":
            holder[key] = None
        elif op == "replace":
            holder[key] = mutation["value"]
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    return out


def apply_bytes(payload: bytes, mutation: dict) -> bytes:
    """``payload`` with the byte-level mutation applied."""
    op = mutation["op"]
    at = min(max(0, mutation.get("at", 0)), len(payload))
    if op == "bom":
        return b"\xef\xbb\xbf" + payload
    if op == "bad-utf8":
        return payload[:at] + bytes.fromhex(mutation["value"]) + payload[at:]
    if op == "truncate":
        return payload[:at]
    if op == "trailing":
        return payload + mutation["value"].encode("utf-8")
    if op == "duplicate-member":
        inner = payload[1:-1]
        return b"{" + inner + b"," + inner + b"}"
    if op == "number-token":
        return re.sub(rb'(?<=[:\[,])\d+(?=[,}\]])', mutation["value"].encode("ascii"), payload, count=1)
    raise ValueError(f"unknown mutation op {op!r}")


def payload_of(envelope: dict, mutation: dict | None) -> bytes:
    """The bytes a case sends: the (mutated) envelope as compact UTF-8 JSON, then any byte-level change."""
    if mutation is None:
        return encode(envelope)
    if mutation["op"] in TREE_OPS:
        mutated = apply_tree(envelope, mutation)
        return json.dumps(mutated, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode("utf-8")
    return apply_bytes(encode(envelope), mutation)
