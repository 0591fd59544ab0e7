"""Per-lower-EMA outbound queue and outstanding requests of the upper EMA (6.6, EMAP-6.1-07, EMAP-7.1.5-06).

The queue is a bounded FIFO of U-initiated requests; an `emapDistributeEvent` entry is built at its first
transmission (EMAP-6.3.2-05). Outstanding requests are those delivered as poll replies (or as the answer to
`emapRequestEvent`) whose response message U has not accepted yet.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.messages import MESSAGES, RESPONSES_OF, SERVICE_RESOURCE

DISTRIBUTE = "emapDistributeEvent"

#: EMAP-6.1-07 requires at least four; superseded `emapDistributeEvent`s beyond this many are forgotten.
KEEP_DISTRIBUTE_OUTSTANDING = 8


class QueueFull(Exception):
    """The outbound queue of a lower EMA holds its limit of undelivered requests."""


@dataclass(eq=False, slots=True)
class Outgoing:
    """One U-initiated request to one lower EMA."""

    name: str
    envelope: dict | None = None
    build: Callable[[], dict] | None = None
    still_valid: Callable[[], bool] = lambda: True
    context: dict = field(default_factory=dict)
    epoch: int = 0

    def materialize(self) -> dict:
        """The envelope, built now if this is its first transmission (EMAP-6.3.2-05; re-sends are identical).
        """
        if self.envelope is None:
            self.envelope = self.build()
        return self.envelope

    @property
    def body(self) -> dict:
        return self.materialize()[self.name]

    @property
    def request_id(self) -> str:
        """The requestID the response echoes (`""` for `emapRequestReregistration`, EMAP-6.1-02)."""
        return self.body.get("requestID", "")

    @property
    def resource(self) -> str:
        """The lower EMA's resource this request is POSTed to in push mode (Table 7.1-2)."""
        return SERVICE_RESOURCE[self.name]


class OutboundQueue:
    """FIFO of requests awaiting delivery to one lower EMA (EMAP-6.6-01), at most ``limit`` entries; its storage
    exists only while it holds requests (most lower EMAs' queues are empty most of the time)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[Outgoing] | None = None

    def __len__(self) -> int:
        return len(self._items) if self._items else 0

    def append(self, item: Outgoing) -> None:
        if self._items is None:
            self._items = deque()
        elif len(self._items) >= self.limit:
            raise QueueFull(f"outbound queue full ({self.limit} undelivered requests)")
        self._items.append(item)

    def waiting_distribute(self) -> bool:
        """An `emapDistributeEvent` not transmitted yet is in the queue (EMAP-6.3.2-05)."""
        return any(item.name == DISTRIBUTE and item.envelope is None for item in self._items or ())

    def head(self) -> Outgoing | None:
        return self._items[0] if self._items else None

    def pop(self) -> Outgoing:
        if not self._items:
            raise IndexError("pop from an empty outbound queue")
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def remove(self, item: Outgoing) -> None:
        if self._items and item in self._items:
            self._items.remove(item)
            if not self._items:
                self._items = None

    def clear(self) -> None:
        self._items = None


def _answered_requests(response_name: str, resource: str) -> frozenset[str]:
    """U-initiated request messages that ``response_name`` POSTed at ``resource`` may answer (EMAP-6.1-07)."""
    return frozenset(
        request
        for request, responses in RESPONSES_OF.items()
        if response_name in responses
        and "U" in MESSAGES[request].senders
        and SERVICE_RESOURCE[request] == resource
    )


class Outstanding:
    """Requests delivered to one lower EMA whose response U has not accepted (EMAP-6.1-07)."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], Outgoing] = OrderedDict()

    def add(self, item: Outgoing) -> None:
        self._items[(item.name, item.request_id)] = item
        distributes = [key for key in self._items if key[0] == DISTRIBUTE]
        for key in distributes[:-KEEP_DISTRIBUTE_OUTSTANDING]:
            del self._items[key]

    def match(self, response_name: str, resource: str, request_id: str) -> Outgoing | None:
        """The outstanding request a POSTed response-type message answers, or None (then 450)."""
        for request in _answered_requests(response_name, resource):
            item = self._items.get((request, request_id))
            if item is not None:
                return item
        return None

    def remove(self, item: Outgoing) -> None:
        self._items.pop((item.name, item.request_id), None)

    def clear(self) -> None:
        self._items.clear()
