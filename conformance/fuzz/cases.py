"""One fuzz case as data: what to send, built from live registration IDs at execution time, and JSON round-trip.

A case is independent of the IUT's state when it is drawn: wherever the binding needs the IDs of the live
registration, the drawn envelope holds a placeholder (``"$live:venID"``) that the target resolves just before
sending. So the same seed draws the same cases, shrinking replays them against the current state, and a saved
case replays against a freshly started IUT.

Kinds:
- ``valid``: a message drawn from its schema (EMAP-B-01), optionally with unknown members (EMAP-B-06);
- ``mutated``: the same with one change (``mutation``): a JSON-tree edit or a byte-level edit of the payload;
  whether the bytes are still a valid message is decided by ``validate()`` when the case runs;
- ``state``: a well-formed message that breaks one state rule (``rule``), e.g. an unregistered venID;
- ``coap``: a known-good request with one CoAP-level change (``coap``: header, options, block options).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

LIVE = "$live:"
#: Members that carry the live registration's IDs (pointer inside the body -> live key).
LIVE_SLOTS: dict[str, dict[tuple[str, ...], str]] = {
    "emapQueryRegistration": {("venID",): "venID"},
    "emapCreatePartyRegistration": {("venID",): "venID", ("registrationID",): "registrationID",
                                    ("emapTransportAddress",): "transportAddress"},
    "emapCancelPartyRegistration": {("venID",): "venID", ("registrationID",): "registrationID"},
    "emapCanceledPartyRegistration": {("venID",): "venID", ("registrationID",): "registrationID"},
    "emapRequestEvent": {("eiRequestEvent", "venID"): "venID"},
    "emapCreatedEvent": {("eiCreatedEvent", "venID"): "venID"},
}
DEFAULT_SLOTS = {("venID",): "venID"}
#: Live slots of the messages an upper EMA sends to a lower-EMA IUT, where they differ from LIVE_SLOTS.
LOWER_LIVE_SLOTS: dict[str, dict[tuple[str, ...], str]] = {
    "emapDistributeEvent": {("vtnID",): "vtnID"},
}


#: The placeholders themselves: only these exact strings are resolved, so a drawn string that merely starts
#: like one (hypothesis draws the literals it finds in the code) stays as drawn.
PLACEHOLDERS = frozenset(LIVE + key for table in (*LIVE_SLOTS.values(), DEFAULT_SLOTS, *LOWER_LIVE_SLOTS.values())
                         for key in table.values())


def live(key: str) -> str:
    return LIVE + key


def slots_of(name: str, side: str = "U") -> dict[tuple[str, ...], str]:
    """Live slots of message ``name`` sent to an IUT on ``side`` ("U": upper-EMA IUT, "L": lower-EMA IUT)."""
    if side == "L" and name in LOWER_LIVE_SLOTS:
        return LOWER_LIVE_SLOTS[name]
    return LIVE_SLOTS.get(name, DEFAULT_SLOTS)


def bind_live(envelope: dict, side: str = "U") -> dict:
    """``envelope`` with every present live slot (and every required venID) set to its placeholder."""
    (name, body), = envelope.items()
    for path, key in slots_of(name, side).items():
        holder = body
        for step in path[:-1]:
            holder = holder.get(step) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and path[-1] in holder:
            holder[path[-1]] = live(key)
    return envelope


def resolve(value, ids: dict[str, str | None]):
    """A copy of ``value`` with placeholders replaced by ``ids`` (a missing live ID removes the member)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            resolved = resolve(item, ids)
            if not (isinstance(item, str) and item in PLACEHOLDERS and resolved is None):
                out[key] = resolved
        return out
    if isinstance(value, list):
        return [resolve(item, ids) for item in value]
    if isinstance(value, str) and value in PLACEHOLDERS:
        return ids.get(value[len(LIVE):])
    return value


@dataclass(frozen=True)
class FuzzCase:
    """One case; ``to_dict``/``from_dict`` give the replay file form."""

    kind: str  # valid | mutated | state | coap
    resource: str  # for a poll reply to a lower-EMA IUT: "EmapPoll"
    envelope: dict | None = None
    mutation: dict | None = None
    rule: str | None = None
    coap: dict | None = None

    @property
    def message(self) -> str:
        """Name of the message the case is built on (``emapQueryRegistration`` for CoAP cases)."""
        if self.envelope:
            return next(iter(self.envelope))
        return "emapQueryRegistration"

    @property
    def label(self) -> str:
        """Statistics key: ``kind:message`` or ``coap:<mutation>``."""
        if self.kind == "coap":
            return f"coap:{self.coap['mutation']}"
        if self.kind == "state":
            return f"state:{self.rule}"
        return f"{self.kind}:{self.message}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> FuzzCase:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "kind" not in known or "resource" not in known:
            raise ValueError("fuzz case: needs 'kind' and 'resource'")
        return cls(**known)

    def summary(self) -> str:
        """One line for failure messages."""
        text = json.dumps(self.to_dict(), ensure_ascii=True, separators=(",", ":"))
        return text if len(text) <= 600 else text[:597] + "..."
