"""A lower EMA's answers to `emapDistributeEvent` and its event records (6.3.2, Table 6.3-4).

EMAP-6.3.2-06 (452 for a foreign `vtnID`), EMAP-6.3.2-07 (one `eventResponse` per `always` event, `emapResponse`
when there is none), EMAP-6.3.2-08/-09/-10, EMAP-6.3.2-11 (market context), EMAP-6.3.2-12 (implicit cancel).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.messages import build, timefmt
from conformance.messages.rules import event_status

from .state import EventRecord, Link

TARGET_MEMBERS = ("venID", "resourceID", "groupID", "groupName", "partyID")


@dataclass(frozen=True)
class Identity:
    """What a lower EMA declares about itself (ICS-6, ICS-7): addressing, signals, market contexts."""

    resource_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()
    party_ids: tuple[str, ...] = ()
    device_classes: tuple[str, ...] = ()
    market_contexts: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()

    @classmethod
    def of(cls, config) -> Identity:
        """The declarations of an EmaConfig (absent options mean none declared)."""
        return cls(**{name: tuple(getattr(config, name, ()) or ()) for name in cls.__dataclass_fields__})

    def addressed(self, target: dict, ven_id: str) -> bool:
        """Whether an `eiTarget` addresses this lower EMA (6.3.1 "Addressing")."""
        declared = {"venID": (ven_id,), "resourceID": self.resource_ids, "groupID": self.group_ids,
                    "groupName": self.group_names, "partyID": self.party_ids}
        present = [m for m in (*TARGET_MEMBERS, "endDeviceAsset") if target.get(m)]
        if not present:
            return True
        if any(value in declared[m] for m in TARGET_MEMBERS for value in target.get(m) or ()):
            return True
        return any(isinstance(a, dict) and a.get("mrid") in self.device_classes
                   for a in target.get("endDeviceAsset") or ())

    def supports(self, signal_name: str) -> bool:
        return signal_name == "SIMPLE" or signal_name in self.signals

    def accepts_market(self, market_context: str) -> bool:
        return not self.market_contexts or market_context in self.market_contexts


class EventBook:
    """L's event records (survive re-registration, discarded by a new registration or a cancel, Table 6.2-2)."""

    def __init__(self, identity: Identity, limit: int = 1024) -> None:
        self.identity = identity
        self.limit = limit
        self.records: dict[str, EventRecord] = {}

    def clear(self) -> None:
        self.records.clear()

    def answer(self, body: dict, link: Link, *, partial: bool = False) -> dict:
        """The response envelope to an accepted `emapDistributeEvent` body; updates the records.

        ``partial``: the message answers `emapRequestEvent` with `replyLimit`, so a missing event is not
        treated as cancelled (EMAP-6.3.2-12).
        """
        request_id = body["requestID"]
        if body["vtnID"] != link.vtn_id:  # EMAP-6.3.2-06
            return build.created_event(request_id, link.ven_id, [], code="452",
                                       description=f"vtnID {body['vtnID']!r} is not my upper EMA's")
        responses = []
        seen = set()
        for item in body["emapEvent"]:
            descriptor = item["eiEvent"]["eventDescriptor"]
            event_id, number = descriptor["eventID"], descriptor["modificationNumber"]
            seen.add(event_id)
            code, opt_type, why = self._evaluate(item, link)
            record = self._record(event_id, number, item)
            if item["emapResponseRequired"] == "always":
                responses.append(build.event_response(request_id, event_id, number, opt_type, code, why))
                record.last_opt_type = opt_type
                if code == "200" and descriptor["eventStatus"] != "cancelled":
                    record.answered[number] = opt_type
        if not partial:
            for event_id, record in self.records.items():  # EMAP-6.3.2-12
                if event_id not in seen:
                    record.cancelled = True
        for event_id in [e for e in self.records if e not in seen][:max(0, len(self.records) - self.limit)]:
            del self.records[event_id]  # bounded: the oldest records of events no longer sent go first
        if responses:
            return build.created_event(request_id, link.ven_id, responses)
        return build.response(request_id, "200", ven_id=link.ven_id)

    def _evaluate(self, item: dict, link: Link) -> tuple[str, str, str | None]:
        """(responseCode, optType, description) of one event: the first matching row of Table 6.3-4."""
        ei_event = item["eiEvent"]
        descriptor = ei_event["eventDescriptor"]
        event_id, number = descriptor["eventID"], descriptor["modificationNumber"]
        record = self.records.get(event_id)
        if descriptor["eventStatus"] == "cancelled":
            return "200", (record.last_opt_type if record and record.last_opt_type else "optIn"), None
        if record is not None and number < record.highest_modification:
            return "454", "optOut", (f"modificationNumber {number} is lower than {record.highest_modification} "
                                     f"already received")
        for signal in ei_event["eiEventSignals"]["eiEventSignal"]:
            if not self.identity.supports(signal["signalName"]):
                return "460", "optOut", f"signalName {signal['signalName']!r} is not supported"
        if not self.identity.addressed(ei_event["eiTarget"], link.ven_id):
            return "462", "optOut", "eiTarget does not address this lower EMA"
        return "200", self._decision(record, number, descriptor), None

    def _decision(self, record: EventRecord | None, number: int, descriptor: dict) -> str:
        """L's decision (row 6): repeated as before (EMAP-6.3.2-09) unless an accepted opt with `eiTarget` {}
        replaced it (EMAP-A-09); otherwise `optOut` for an undeclared market context (EMAP-6.3.2-11), else
        `optIn`."""
        if record is not None:
            if record.opt_override is not None and record.opt_override[0] == number:
                return record.opt_override[1]
            if number in record.answered:
                return record.answered[number]
        market = descriptor["eiMarketContext"]["marketContext"]
        return "optIn" if self.identity.accepts_market(market) else "optOut"

    def _record(self, event_id: str, number: int, item: dict) -> EventRecord:
        record = self.records.get(event_id)
        if record is None:
            record = self.records[event_id] = EventRecord(highest_modification=number)
        if number >= record.highest_modification:
            record.highest_modification = number
            record.latest = item
            record.cancelled = item["eiEvent"]["eventDescriptor"]["eventStatus"] == "cancelled"
        return record

    def opt_accepted(self, event_id: str, number: int, opt_type: str) -> None:
        """An event-form opt with `eiTarget` `{}` was accepted: later answers use its `optType` (EMAP-6.3.2-09)."""
        record = self.records.get(event_id)
        if record is None:
            record = self.records[event_id] = EventRecord(highest_modification=number)
        record.opt_override = (number, opt_type)

    def may_change(self, event_id: str, now) -> str | None:
        """Why an opt change (Annex A) for this event is not allowed now, or None (EMAP-A-04)."""
        record = self.records.get(event_id)
        if record is None or not record.answered and record.opt_override is None:
            return f"no decision given on event {event_id!r}"
        latest = record.latest or {}
        if latest.get("emapOptChangeAllowed") is not True:
            return f"the latest EmapEvent of {event_id!r} does not allow opt change"
        deadline = latest.get("emapOptChangeDeadline")
        if deadline is not None and now >= timefmt.parse_datetime(deadline):
            return f"the opt change deadline {deadline} of {event_id!r} has passed"
        if record.cancelled or event_status(latest, now) in ("completed", "cancelled"):
            return f"event {event_id!r} is completed or cancelled"
        return None
