"""State a lower EMA holds for its link (Table 6.2-1) and the request IDs it sends (EMAP-6.1-03)."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field


@dataclass
class Link:
    """The registration: IDs and parameters from the latest successful create exchange (EMAP-6.2.1-06)."""

    registration_id: str
    ven_id: str
    vtn_id: str
    pull: bool
    poll_freq: float | None = None
    opt_change: bool = False


@dataclass
class EventRecord:
    """L's record of one `eventID` (Table 6.2-1, Table 6.3-4): survives re-registration only."""

    highest_modification: int
    answered: dict[int, str] = field(default_factory=dict)
    """modificationNumber -> `optType` of L's `eventResponse` for it (EMAP-6.3.2-09)."""
    last_opt_type: str | None = None
    """`optType` of L's last `eventResponse` for the event (Table 6.3-4 row 2)."""
    opt_override: tuple[int, str] | None = None
    """(modificationNumber, optType) of an accepted event-form opt with `eiTarget` `{}` (EMAP-A-09)."""
    latest: dict | None = None
    """The latest `EmapEvent` received for it (opt change, EMAP-A-04)."""
    cancelled: bool = False


class RequestIds:
    """New `requestID`s, unique since start (EMAP-6.1-03): a per-process prefix plus a counter."""

    def __init__(self, prefix: str = "l") -> None:
        self._prefix = f"{prefix}-{secrets.token_hex(3)}"
        self._count = itertools.count(1)

    def __call__(self, kind: str = "rq") -> str:
        return f"{self._prefix}-{kind}-{next(self._count)}"
