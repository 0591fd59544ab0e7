"""The upper EMA's events (6.3.1): their content, status (Table 6.3-1), addressing, order (Table 6.3-3) and
the event set of an `emapDistributeEvent` (EMAP-6.3.2-02, -03, EMAP-6.3.3-04).

Addressing at U: U knows of a lower EMA only its `venID`, so an event addresses L when its `eiTarget` is `{}`,
when its `eiTarget.venID` lists L's `venID`, or, for a target without `venID` (resources, groups, parties,
device classes), when it was created for L (the stimulus `venID`) or for no lower EMA in particular."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from conformance.messages import build
from conformance.messages.rules import event_sort_key, event_status


@dataclass
class Signal:
    """One `eiEventSignal`: ``intervals`` are ``(duration seconds, payload value)`` pairs."""

    name: str
    signal_type: str
    intervals: list[tuple[float, float]]
    item_base: dict | None = None

    def value_at(self, offset: float) -> float | None:
        """The payload of the interval containing ``offset`` seconds after `dtstart` (None after the last)."""
        start = 0.0
        for length, value in self.intervals:
            if length == 0 or offset < start + length:
                return value
            start += length
        return None


@dataclass
class Event:
    """One event of U (EMAP-6.3.1-01 to -07)."""

    event_id: str
    created: datetime
    dtstart: datetime
    signals: list[Signal]
    target: dict = field(default_factory=dict)
    recipient: str | None = None
    response_required: str = "always"
    market_context: str = build.DEFAULT_MARKET_CONTEXT
    priority: int | None = None
    ramp_up: float | None = None
    opt_change_allowed: bool | None = None
    opt_change_deadline: datetime | None = None
    baseline: list[tuple[float, float]] | None = None
    modification_number: int = 0
    modified: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def duration(self) -> float:
        """Active-period duration: 0 (open-ended) when a signal ends with a `PT0S` interval, else the sum."""
        first = self.signals[0].intervals
        if first[-1][0] == 0:
            return 0.0
        return sum(length for length, _ in first)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def addresses(self, ven_id: str) -> bool:
        """Whether this event addresses the lower EMA ``ven_id`` (6.3.1, as far as U can tell)."""
        if not self.target:
            return True
        if "venID" in self.target:
            return ven_id in self.target["venID"]
        return self.recipient is None or self.recipient == ven_id

    def status(self, now: datetime) -> str:
        """`eventStatus` per Table 6.3-1."""
        return event_status(self.render("-", now, opt_change=False), now)

    def render(self, ven_id: str, now: datetime, *, opt_change: bool) -> dict:
        """The `EmapEvent` sent to lower EMA ``ven_id`` at ``now`` (EMAP-6.3.1-03 to -08, EMAP-A-03)."""
        offset = (now - self.dtstart).total_seconds()
        active = offset >= 0 and (self.duration == 0 or offset < self.duration) and not self.cancelled
        signals = []
        for number, signal in enumerate(self.signals):
            current = signal.value_at(offset) if active else (0 if signal.name == "SIMPLE" else None)
            signals.append(
                build.signal(
                    signal.intervals,
                    name=signal.name,
                    signal_type=signal.signal_type,
                    signal_id=f"sig-{number}",
                    item_base=signal.item_base,
                    current_value=current,
                )
            )
        target = copy.deepcopy(self.target)
        if "venID" in target:
            target["venID"] = [ven_id]  # EMAP-6.3.1-08: exactly L's venID
        allowed = deadline = None
        if opt_change and self.opt_change_allowed is not None:  # EMAP-A-03
            allowed = self.opt_change_allowed
            deadline = self.opt_change_deadline if allowed else None
        baseline = None
        if self.baseline:
            baseline = build.baseline(self.baseline, dtstart=self.dtstart)
        return build.event(
            self.event_id,
            modification_number=self.modification_number,
            status="cancelled" if self.cancelled else None,
            dtstart=self.dtstart,
            duration=self.duration,
            signals=signals,
            event_baseline=baseline,
            target=target,
            response_required=self.response_required,
            market_context=self.market_context,
            created=self.created,
            priority=self.priority,
            modification_datetime=self.modified,
            ramp_up=self.ramp_up,
            opt_change_allowed=allowed,
            opt_change_deadline=deadline,
            now=now,
        )


class EventStore:
    """All events of U, bounded: when full, the oldest completed or cancelled event is forgotten first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.events: dict[str, Event] = {}
        self.used_ids: set[str] = set()

    def add(self, event: Event, now: datetime) -> bool:
        """Store a new event; False when the store is full of current events."""
        if len(self.events) >= self.limit:
            finished = [e for e in self.events.values() if e.cancelled or e.status(now) == "completed"]
            if not finished:
                return False
            del self.events[min(finished, key=lambda e: e.created).event_id]
        self.events[event.event_id] = event
        self.used_ids.add(event.event_id)
        return True

    def get(self, event_id: str) -> Event | None:
        return self.events.get(event_id)

    def distribution(
        self,
        ven_id: str,
        now: datetime,
        *,
        opt_change: bool,
        registered_at: datetime,
        delivered_cancellations: set[str],
        limit: int | None = None,
    ) -> list[dict]:
        """The ordered `emapEvent` list for L (EMAP-6.3.2-02, -03; first ``limit`` of it, EMAP-6.3.3-04):
        far/near/active events addressing L, and cancellations made during the registration not yet
        delivered."""
        chosen = []
        for event in self.events.values():
            if not event.addresses(ven_id):
                continue
            if event.cancelled:
                if event.cancelled_at < registered_at or event.event_id in delivered_cancellations:
                    continue
            elif event.status(now) == "completed":
                continue
            chosen.append(event.render(ven_id, now, opt_change=opt_change))
        chosen.sort(key=event_sort_key)
        return chosen if limit is None else chosen[:limit]
