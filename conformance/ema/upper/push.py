"""Delivery of a push-mode lower EMA's outbound queue by POST (EMAP-7.1.2-02, EMAP-7.1.5-03 to -08).

One request at a time, in queue order (EMAP-7.1.5-06). An exchange succeeds when any response other than 5.03
arrives; a failed exchange (RST, network error, no response within the wait) is re-sent identically after
T_BACKOFF (doubling up to the cap); a 5.03 is re-sent after its Max-Age (60 s without one); any other
4.xx/5.xx ends the procedure without re-send (EMAP-7.1.5-15). A re-send happens only while the entry is still
queued, the registration lasts, and (for reports) the request is active (EMAP-6.4.4-01)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from conformance.ema.config import EmaConfig
from conformance.ema.upper.links import Link
from conformance.ema.upper.outbound import Outgoing
from conformance.messages import ValidMessage
from conformance.transport.client import CoapClient, TransportError

log = logging.getLogger("conformance.ema.upper.push")

DEFAULT_MAX_AGE = 60.0

Delivered = Callable[[Link, Outgoing, "ValidMessage | None"], None]


class PushDelivery:
    """Sends one lower EMA's queue while it is registered in push mode."""

    def __init__(self, link: Link, config: EmaConfig, delivered: Delivered) -> None:
        self.link = link
        self.config = config
        self.delivered = delivered
        self._task: asyncio.Task | None = None
        self._client: CoapClient | None = None  # one per lower EMA: a recycled context disturbs no other link

    def kick(self) -> None:
        """Start sending if not already doing so."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"push {self.link.ven_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    def _sendable(self, item: Outgoing) -> bool:
        link = self.link
        return link.active and not link.pull and link.queue.head() is item and item.still_valid()

    async def _run(self) -> None:
        try:
            await self._deliver()
        finally:
            if not self.link.active and self._client is not None:  # registration ended: nothing more to send
                client, self._client = self._client, None
                await client.close()

    async def _deliver(self) -> None:
        link = self.link
        backoff = self.config.backoff_initial
        while link.active and not link.pull:
            item = link.queue.head()
            if item is None:
                return
            if not item.still_valid():  # a report whose request ended before transmission (EMAP-6.4.4-01)
                link.queue.pop()
                continue
            item.materialize()
            if item.name == "emapRegisterReport":  # L may request reports from it as soon as it has it (EMAP-6.4.3-03)
                link.u_metadata = item.context["metadata"]
            outcome, value = await self._exchange(link.transport_address, item)
            if outcome != "done":
                delay = backoff if outcome == "failed" else value
                if outcome == "failed":
                    backoff = min(backoff * 2, self.config.backoff_cap)
                log.info("push %s to %s %s; re-send in %.1f s", item.name, link.ven_id, outcome, delay)
                await asyncio.sleep(delay)
                if not self._sendable(item) and link.queue.head() is item:
                    link.queue.pop()
                continue
            backoff = self.config.backoff_initial
            if link.queue.head() is item:
                link.queue.pop()
            if item.epoch == link.epoch and link.active:
                self.delivered(link, item, value)

    async def _exchange(self, base: str, item: Outgoing):
        """POST the entry once: ``("done", ValidMessage | None)`` (a response other than 5.03 arrived: the
        entry is delivered; None unless a valid 2.04 message), ``("failed", None)`` or ``("unavailable",
        max_age)``."""
        uri = f"{base}/{item.resource}"
        wait = 2 * self.config.max_transmit_wait + self.config.t_prompt
        try:
            if self._client is None:
                self._client = await CoapClient.create(self.config.transmission)
            response = await self._client.request(uri, payload=item.envelope, timeout=wait)
        except TransportError as exc:
            log.info("push %s to %s failed: %s", item.name, uri, exc)
            return "failed", None
        if response.code == "5.03":
            return "unavailable", float(DEFAULT_MAX_AGE if response.max_age is None else response.max_age)
        log.info("POST %s %s -> %s", uri, item.name, response.code)
        if response.code != "2.04":
            log.info("push %s to %s answered %s: procedure ended", item.name, uri, response.code)
            return "done", None
        if response.payload and response.message is None:
            log.info("push %s to %s: invalid response (%s)", item.name, uri, response.message_error)
        return "done", response.message
