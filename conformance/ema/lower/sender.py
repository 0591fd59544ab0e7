"""The lower EMA's outgoing requests: one exchange with the upper EMA, and the ordered set of requests waiting to
be sent or re-sent.

EMAP-7.1.4-07 (only a 2.04 carrying a response of the expected type, or the empty 2.04 of EMAP-6.1-06,
completes a procedure), EMAP-7.1.5-03 (a failed exchange is re-sent identically), EMAP-7.1.5-04 (pull: at the
next poll time, before that poll), EMAP-7.1.5-05 (push: after T_BACKOFF, doubling up to the cap),
EMAP-7.1.5-08 (after 5.03: Max-Age, default 60 s), EMAP-7.1.5-15 (no re-send after another 4.xx/5.xx).
"""

from __future__ import annotations

import enum
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.messages import ValidMessage, encode
from conformance.transport.client import CoapClient, TransportError

log = logging.getLogger("conformance.ema.lower")

DEFAULT_MAX_AGE = 60.0
EMPTY = ""
"""Stands for the empty 2.04 in ``Outgoing.accepts`` (an accepted POSTed `emapResponse`, EMAP-6.1-06)."""

_seq = itertools.count()


class Outcome(enum.Enum):
    OK = "ok"  # a valid response of an expected type (or the allowed empty 2.04)
    FAILED = "failed"  # the exchange failed (timeout, RST, network): re-send
    BUSY = "busy"  # 5.03: re-send after Max-Age
    ENDED = "ended"  # any other answer: the procedure failed, no re-send


@dataclass(eq=False)
class Outgoing:
    """One request (or step-two / follow-up response message) L POSTs to a resource of its upper EMA."""

    resource: str
    envelope: dict
    accepts: frozenset[str]
    done: Callable[[ValidMessage | None, Outcome], None] | None = None
    """Called once when the procedure ends (OK or ENDED), or with FAILED when a re-send is not allowed."""
    sent: Callable[[], None] | None = None
    """Called at the first transmission."""
    failed: Callable[[], None] | None = None
    """Called at the first failed exchange that will be re-sent (what waits for this exchange to end goes on)."""
    resend: Callable[[], bool] = lambda: True
    """Whether a failed exchange may still be re-sent (a report only while its request is active)."""
    bound: bool = True
    """Belongs to the registration: dropped when it ends (EMAP-6.2.4-06)."""
    first: bool = False
    """Sent before other due requests (step two and follow-ups, EMAP-6.6-04)."""
    due: float = 0.0
    at_poll: int | None = None
    """Pull mode: the number of the poll before which the failed request is re-sent (EMAP-7.1.5-04)."""
    released: int = 0
    """The poll number it was last released for."""
    backoff: float | None = None
    transmissions: int = 0
    seq: int = field(default_factory=lambda: next(_seq))

    @property
    def name(self) -> str:
        return next(iter(self.envelope))


async def exchange(client: CoapClient, base_uri: str, out: Outgoing, timeout: float
                   ) -> tuple[Outcome, ValidMessage | None, float | None]:
    """POST ``out`` once: (outcome, response message, Max-Age of a 5.03)."""
    uri = f"{base_uri}/{out.resource}"
    try:
        response = await client.request(uri, payload=encode(out.envelope), timeout=timeout)
    except TransportError as exc:
        log.info("%s to %s failed: %s", out.name, uri, exc)
        return Outcome.FAILED, None, None
    except Exception as exc:  # an unexpected client failure counts as a failed exchange
        log.warning("%s to %s failed unexpectedly: %s: %s", out.name, uri, type(exc).__name__, exc)
        return Outcome.FAILED, None, None
    if response.code == "5.03":
        return Outcome.BUSY, None, float(response.max_age if response.max_age is not None else DEFAULT_MAX_AGE)
    if response.code != "2.04":
        log.info("%s to %s answered %s: procedure failed", out.name, uri, response.code)
        return Outcome.ENDED, None, None
    if not response.payload:
        outcome = Outcome.OK if EMPTY in out.accepts else Outcome.ENDED
        log.info("%s to %s: empty 2.04 (%s)", out.name, uri, outcome.value)
        return outcome, None, None
    message = response.message
    if message is None or message.name not in out.accepts:
        what = response.message_error or (message.name if message else "no message")
        log.info("%s to %s: unexpected answer (%s): procedure failed", out.name, uri, what)
        return Outcome.ENDED, message, None
    log.info("%s to %s: %s", out.name, uri, message.name if message else "empty 2.04")
    return Outcome.OK, message, None


class Outbox:
    """Requests waiting for their (re-)transmission, in order of due time; step twos first."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._items: list[Outgoing] = []

    def add(self, out: Outgoing) -> None:
        """Queue ``out``; beyond the limit the oldest request of the registration is dropped (bounded memory
        while the upper EMA is unreachable)."""
        self._items.append(out)
        if len(self._items) > self.limit:
            oldest = min((o for o in self._items if o.bound), key=lambda o: o.seq, default=None)
            if oldest is not None:
                log.warning("outbox full: dropping %s", oldest.name)
                self._items.remove(oldest)

    def _key(self, out: Outgoing) -> tuple:
        return (out.due, not out.first, out.seq)

    def pop_due(self, now: float) -> Outgoing | None:
        ready = [o for o in self._items if o.at_poll is None and o.due <= now]
        if not ready:
            return None
        out = min(ready, key=self._key)
        self._items.remove(out)
        return out

    def next_due(self) -> float | None:
        return min((o.due for o in self._items if o.at_poll is None), default=None)

    def release(self, poll_number: int) -> bool:
        """Make the requests waiting for poll ``poll_number`` due now; True if there were any."""
        released = False
        for out in self._items:
            if out.at_poll is not None and out.at_poll <= poll_number:
                out.at_poll, out.due, out.released, released = None, 0.0, poll_number, True
        return released

    def drop_named(self, name: str) -> None:
        """Forget the waiting requests named ``name`` (a newer one replaces them)."""
        self._items = [o for o in self._items if o.name != name]

    def drop_bound(self) -> None:
        """The registration ended or was replaced: its requests are not sent any more."""
        self._items = [o for o in self._items if not o.bound]

    def __len__(self) -> int:
        return len(self._items)
