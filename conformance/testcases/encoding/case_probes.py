"""Case-changed variants of valid messages (EMAP-B-05): a member name, an enumeration value or an ID with its
letters' case changed is a different name, value or ID."""

from __future__ import annotations

import copy

from conformance.messages import encode


def case_changed(name: str) -> str:
    """``name`` with its first letter's case swapped (``venID`` -> ``VenID``): a different member name."""
    return name[:1].swapcase() + name[1:]


def _parent(envelope: dict, path: tuple[str, ...]) -> dict:
    node = envelope
    for key in path:
        node = node[key] if isinstance(node, dict) else node[int(key)]
    return node


def renamed(envelope: dict, path: tuple[str, ...], member: str) -> bytes:
    """The payload of ``envelope`` with ``member`` of the object at ``path`` renamed by ``case_changed``, its
    value and position kept."""
    changed = copy.deepcopy(envelope)
    parent = _parent(changed, path)
    items = [(case_changed(key) if key == member else key, value) for key, value in parent.items()]
    parent.clear()
    parent.update(items)
    return encode(changed)


def revalued(envelope: dict, path: tuple[str, ...], member: str, value: str) -> bytes:
    """The payload of ``envelope`` with ``member`` of the object at ``path`` set to ``value``."""
    changed = copy.deepcopy(envelope)
    _parent(changed, path)[member] = value
    return encode(changed)
