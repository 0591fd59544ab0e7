"""Registrations of lower EMAs at the upper EMA: the link state of Table 6.2-1 and its effects (Table 6.2-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from conformance.ema.upper.outbound import OutboundQueue, Outstanding


@dataclass(eq=False, slots=True)
class Link:
    """One registered lower EMA (Table 6.2-1, U's side)."""

    ven_id: str
    registration_id: str
    registered_at: datetime
    pull: bool
    transport_address: str | None
    opt_change: bool
    queue: OutboundQueue
    outstanding: Outstanding = field(default_factory=Outstanding)
    epoch: int = 0
    active: bool = True
    # Report service (6.4): U's metadata as delivered to L, L's metadata, requests in both directions.
    offered: tuple[str, ...] | None = None
    u_metadata: list[dict] = field(default_factory=list)
    l_metadata: list[dict] = field(default_factory=list)
    l_requests: dict = field(default_factory=dict)
    u_requests: dict = field(default_factory=dict)
    l_used_request_ids: set[str] = field(default_factory=set)
    u_used_request_ids: set[str] = field(default_factory=set)
    # Opts, L's decisions on events, event records (6.5, 6.3, Annex A).
    opts: dict[str, dict] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    delivered_cancellations: set[str] = field(default_factory=set)
    last_sent: dict[str, dict] = field(default_factory=dict)

    def end_report_requests(self) -> None:
        """End every report request in both directions (their timers stop)."""
        for request in list(self.l_requests.values()) + list(self.u_requests.values()):
            request.end()
        self.l_requests.clear()
        self.u_requests.clear()

    def restart(self, *, new_registration: bool) -> None:
        """Table 6.2-2 for a successful create by a registered L: re-registration keeps the used
        `reportRequestID`s, opts, decisions and event records; a new registration discards them too."""
        self.epoch += 1
        self.queue.clear()
        self.outstanding.clear()
        self.u_metadata = []
        self.l_metadata = []
        self.end_report_requests()
        if new_registration:
            self.l_used_request_ids.clear()
            self.u_used_request_ids.clear()
            self.opts.clear()
            self.decisions.clear()
            self.delivered_cancellations.clear()
            self.last_sent.clear()

    def end(self) -> None:
        """The registration ends (cancel): nothing more is sent to L (EMAP-6.2.4-07)."""
        self.active = False
        self.epoch += 1
        self.queue.clear()
        self.outstanding.clear()
        self.end_report_requests()


class Registry:
    """The registered lower EMAs, by `venID` (EMAP-6.2.1-01 under NoSec), at most ``limit`` at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_ven: dict[str, Link] = {}

    def __len__(self) -> int:
        return len(self._by_ven)

    def __iter__(self):
        return iter(list(self._by_ven.values()))

    def by_ven(self, ven_id: str | None) -> Link | None:
        return self._by_ven.get(ven_id) if ven_id is not None else None

    def by_registration(self, registration_id: str | None) -> Link | None:
        return next((link for link in self._by_ven.values() if link.registration_id == registration_id), None)

    def holds(self, ven_id: str) -> bool:
        return ven_id in self._by_ven

    def add(self, link: Link) -> None:
        self._by_ven[link.ven_id] = link

    def remove(self, link: Link) -> None:
        if self._by_ven.get(link.ven_id) is link:
            del self._by_ven[link.ven_id]
        link.end()
