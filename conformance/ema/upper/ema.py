"""The sample upper EMA (role "U"): registrations, events, reports, opts and polls of every lower EMA.

`handle` applies Table 6.1-4 from step 2 on (the front door did the CoAP-level checks and step 1): 463 for an
unidentified or unregistered sender (EMAP-6.2.1-02), 450 for a response-type message that answers no
outstanding request (EMAP-6.1-07), then each procedure's checks in order. A failed check changes no state
(EMAP-6.1-08) and is answered with the procedure's complete response message (EMAP-6.1-01, -09, -11)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from conformance.ema.config import EmaConfig
from conformance.ema.upper import procedures, stimuli
from conformance.ema.upper.events import EventStore
from conformance.ema.upper.ids import IdSource
from conformance.ema.upper.links import Link, Registry
from conformance.ema.upper.outbound import DISTRIBUTE, Outgoing, QueueFull
from conformance.ema.upper.push import PushDelivery
from conformance.ema.upper.replies import Rejected, error_reply, sender_ven_id
from conformance.ema.upper.reporter import Reporter
from conformance.ema.upper.requester import Requester
from conformance.messages import RESPONSES_OF, ValidMessage, build, timefmt

log = logging.getLogger("conformance.ema.upper")


class UpperEma:
    """Implements `conformance.ema.role.Role` for the upper EMA."""

    side = "U"

    def __init__(self, config: EmaConfig) -> None:
        self.config = config
        self.ids = IdSource()
        self.registry = Registry(config.registrations_limit)
        self.events = EventStore(config.events_limit)
        self.reporter = Reporter(self.ids, self.send, max_active=config.queue_limit)
        self.requester = Requester(self.ids)
        self.offered: tuple[str, ...] = tuple(config.metadata_reports)
        self._pushers: dict[str, PushDelivery] = {}

    # Role
    async def start(self) -> None:
        log.info("upper EMA %s ready", self.config.vtn_id)

    async def stop(self) -> None:
        for link in self.registry:
            link.end_report_requests()
        pushers, self._pushers = list(self._pushers.values()), {}
        for pusher in pushers:
            await pusher.stop()

    def peer_key(self, message: ValidMessage, remote: str) -> str:
        """EMAP-7.1.5-07 / EMAP-6.2.1-01: the lower EMA by `venID`, or by `registrationID` for a create
        without `venID`; messages that identify none share one key."""
        ven_id = sender_ven_id(message)
        if ven_id is None and message.name == "emapCreatePartyRegistration":
            link = self.registry.by_registration(message.body.get("registrationID"))
            ven_id = link.ven_id if link else None
        return f"ven:{ven_id}" if ven_id is not None else "unidentified"

    def response_ven_id(self, message: ValidMessage) -> str | None:
        """Table 6.2.6-14, sent by U: the link's `venID` when known, else the message's."""
        return sender_ven_id(message)

    async def handle(self, resource: str, message: ValidMessage, remote: str) -> dict | None:
        link = None
        try:
            if message.name in procedures.UNREGISTERED:
                return procedures.UNREGISTERED[message.name](self, message)
            ven_id = sender_ven_id(message)
            link = self.registry.by_ven(ven_id)
            if link is None:  # Table 6.1-4 step 2
                raise Rejected("463", f"venID {ven_id!r} is not registered at {self.config.vtn_id}")
            if message.kind == "response":
                return procedures.acknowledge(self, link, resource, message)
            return procedures.REGISTERED[message.name](self, link, message)
        except Rejected as rejected:
            log.info("%s from %s rejected: %s", message.name, remote, rejected)
            pending = self.reporter.pending(link) if link else []
            return error_reply(
                message,
                rejected.code,
                rejected.description,
                vtn_id=self.config.vtn_id,
                link=link,
                pending=pending,
                new_request_id=self.ids.new("de"),
            )

    async def stimulate(self, action: str, args: dict) -> tuple[str, str]:
        return await stimuli.run(self, action, args)

    # Sending to lower EMAs
    def send(self, link: Link, item: Outgoing) -> bool:
        """Queue a request for L (pull: delivered by polls; push: POSTed in order, EMAP-7.1.5-06); False when
        the registration ended or the queue is full."""
        if not link.active:
            return False
        try:
            link.queue.append(item)
        except QueueFull as exc:
            log.warning("%s to %s dropped: %s", item.name, link.ven_id, exc)
            return False
        if not link.pull:
            pusher = self._pushers.get(link.ven_id)
            if pusher is None or pusher.link is not link:
                pusher = self._pushers[link.ven_id] = PushDelivery(link, self.config, self.delivered)
            asyncio.get_running_loop().call_soon(pusher.kick)  # after the current answer has left
        return True

    def distribute(self, link: Link) -> bool:
        """Queue an `emapDistributeEvent`, built at its first transmission; none while one waits
        (EMAP-6.3.2-01, -05)."""
        if not link.active or link.queue.waiting_distribute():
            return link.active
        vtn_id = self.config.vtn_id
        return self.send(
            link,
            Outgoing(
                DISTRIBUTE,
                build=lambda: build.distribute_event(
                    self.ids.new("de"), vtn_id, self.distribution(link, timefmt.utc_now())
                ),
                epoch=link.epoch,
            ),
        )

    def distribution(self, link: Link, now: datetime, limit: int | None = None) -> list[dict]:
        return self.events.distribution(
            link.ven_id,
            now,
            opt_change=link.opt_change,
            registered_at=link.registered_at,
            delivered_cancellations=link.delivered_cancellations,
            limit=limit,
        )

    def delivered(
        self, link: Link, item: Outgoing, response: ValidMessage | None, *, outstanding: bool = False
    ) -> None:
        """``item`` reached L (poll reply, `emapRequestEvent` answer, or a push exchange that succeeded)."""
        if item.name == DISTRIBUTE:  # EMAP-6.3.2-02 delivered cancellations; EMAP-A-06 latest EmapEvent sent
            for event in item.body["emapEvent"]:
                descriptor = event["eiEvent"]["eventDescriptor"]
                if descriptor["eventStatus"] == "cancelled":
                    link.delivered_cancellations.add(descriptor["eventID"])
                link.last_sent[descriptor["eventID"]] = event
        elif item.name == "emapRegisterReport":
            link.u_metadata = item.context["metadata"]
        if outstanding:
            link.outstanding.add(item)
        else:
            self.apply_response(link, item, response)

    def apply_response(self, link: Link, item: Outgoing, response: ValidMessage | None) -> None:
        """Effects of L's accepted answer to U's request (push: CoAP response; pull: step two)."""
        if response is None or response.name not in RESPONSES_OF[item.name]:
            return  # no valid answer: the procedure failed (EMAP-7.1.4-07)
        accepted = response.response_code == "200"
        if item.name == "emapCancelPartyRegistration" and accepted:
            self.end_link(link)  # EMAP-6.2.4-05
        elif item.name == DISTRIBUTE and response.name == "emapCreatedEvent" and accepted:
            self.record_decisions(link, response.body["eiCreatedEvent"])
        elif item.name == "emapRegisterReport" and accepted:
            self.reporter.metadata_accepted(link, item.context["metadata"])
        elif item.name == "emapCreateReport":
            self.requester.created(link, item, response)
        elif item.name == "emapCancelReport":
            self.requester.canceled(link, item, response)

    def record_decisions(self, link: Link, created: dict) -> None:
        """L's decisions: the `optType` of each 200 `eventResponse` naming the current modificationNumber
        (EMAP-6.3.3-06, EMAP-A-07)."""
        for response in created.get("eventResponses", {}).get("eventResponse", []):
            qualified = response["qualifiedEventID"]
            event = self.events.get(qualified["eventID"])
            if (
                response["responseCode"] == "200"
                and event is not None
                and event.modification_number == qualified["modificationNumber"]
            ):
                link.decisions[event.event_id] = response["optType"]

    def end_link(self, link: Link) -> None:
        """The registration ends (Table 6.2-2): nothing more is sent to L (EMAP-6.2.4-07)."""
        self.registry.remove(link)
        log.info("registration %s of %s ended", link.registration_id, link.ven_id)
