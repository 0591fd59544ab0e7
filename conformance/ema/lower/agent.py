"""The sample lower EMA: registration, polling (pull) or serving its resources (push), events, reports, opts.

Registration: EMAP-6.2.1-03/-06, EMAP-6.2.3-01/-12/-13, EMAP-6.2.4-04/-06, EMAP-6.2.5-02/-03, Table 6.2-2.
Pull: EMAP-6.1-05, EMAP-6.3.3-01, EMAP-6.6-04 to -09, -11, EMAP-7.1.5-04. Push: EMAP-6.6-10, EMAP-7.1.2-03,
EMAP-7.1.5-05. Request event: EMAP-6.3.3-05. Every wait is bounded and every time comes from the configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from functools import partial

from conformance.messages import (
    POLL_REPLIES,
    RESPONSES_OF,
    SERVICE_RESOURCE,
    ValidMessage,
    build,
    encode,
    timefmt,
)
from conformance.transport.client import CoapClient, TransportError
from conformance.transport.params import TransmissionParams

from . import inbound, stimuli
from .events import EventBook, Identity
from .reporter import Reporter, declared_offer
from .requester import Requester
from .sender import EMPTY, Outbox, Outcome, Outgoing, exchange
from .state import Link, RequestIds

log = logging.getLogger("conformance.ema.lower")

#: Step-two resource of each poll reply (Table 6.6-1).
STEP_TWO_RESOURCE = {name: SERVICE_RESOURCE[name] for name in POLL_REPLIES}


class LowerEma:
    """Implements conformance.ema.role.Role for the lower side (``side`` "L")."""

    side = "L"

    def __init__(self, config) -> None:
        self.config = config
        self.ids = RequestIds("l")
        self.events = EventBook(Identity.of(config), config.events_limit)
        self.reporter = Reporter(offered=declared_offer(config.metadata_reports))
        self.requester = Requester()
        self.link: Link | None = None
        self.registrations = 0
        """Successful create exchanges so far (registrations and re-registrations)."""
        self.opts: dict[str, dict] = {}
        self.outbox = Outbox(config.queue_limit)
        self.client: CoapClient | None = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._creating = 0
        self._registration_backoff: float | None = None
        self._latest_create = -1
        self._no_create = asyncio.Event()
        self._no_create.set()
        self._stopped = False
        # pull mode
        self._polling = False
        self._next_poll: float | None = None
        self._last_poll: float | None = None
        self._poll_round = 0

    # Role protocol

    async def start(self) -> None:
        params = TransmissionParams(self.config.ack_timeout, self.config.ack_random_factor,
                                    self.config.max_retransmit)
        self.client = await CoapClient.create(params)
        self._task = asyncio.create_task(self._run(), name="lower-ema")
        self.query()
        self.register(retry=True)

    async def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None

    def peer_key(self, message: ValidMessage, remote: str) -> str:
        """At L the peer of EMAP-7.1.5-07 is its upper EMA."""
        return "upper"

    def response_ven_id(self, message: ValidMessage) -> str | None:
        """The link's venID; unregistered, the pre-allocated one, else the message's (Table 6.2.6-14)."""
        if self.link is not None:
            return self.link.ven_id
        return self.config.ven_id or message.body.get("venID")

    async def handle(self, resource: str, message: ValidMessage, remote: str) -> dict | None:
        """A request POSTed by the upper EMA (push mode); held while the create exchange is open (EMAP-6.2.3-13)."""
        if not self._no_create.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2 * self.config.max_transmit_wait + self.config.t_prompt):
                    await self._no_create.wait()
        reply, after = self.process(message)
        if after is not None:
            after()
        return reply

    async def stimulate(self, action: str, args: dict) -> tuple[str, str]:
        return await stimuli.run(self, action, args)

    # Timing helpers

    @property
    def upper_uri(self) -> str:
        return self.config.upper.rstrip("/")

    @property
    def exchange_timeout(self) -> float:
        """Longest wait for one exchange: MAX_TRANSMIT_WAIT, plus as much for a separate response
        (EMAP-7.1.1-03)."""
        return 2 * self.config.max_transmit_wait

    @property
    def transport_address(self) -> str | None:
        """`emapTransportAddress` of a push-mode registration: the configured one (a relay in front of L's
        resources), else L's base URI (EMAP-7.1.3-06)."""
        return self.config.transport_address or self.config.lower_base_uri

    @property
    def poll_freq(self) -> float:
        return self.link.poll_freq if self.link and self.link.poll_freq else self.config.poll_freq

    def send(self, out: Outgoing, delay: float = 0.0) -> None:
        out.due = time.monotonic() + delay
        self.outbox.add(out)
        self._wake.set()

    # Registration (6.2)

    def register(self, *, registration_id: str | None = None, pull: bool | None = None,
                 opt_change: bool | None = None, retry: bool = False, delay: float = 0.0) -> None:
        """Create a registration, or re-register with ``registration_id`` (EMAP-6.2.3-01, EMAP-6.2.5-03);
        ``retry``: a failure is retried after T_BACKOFF while unregistered (start-up)."""
        pull = self.config.mode == "pull" if pull is None else pull
        if opt_change is None:
            opt_change = self.config.opt_change or None
        ven_id = self.link.ven_id if self.link else self.config.ven_id
        envelope = build.create_party_registration(
            self.ids("cr"), pull=pull, transport_address=None if pull else self.transport_address,
            registration_id=registration_id, ven_id=ven_id, opt_change=opt_change or None)
        out = Outgoing("EiRegisterParty", envelope, RESPONSES_OF["emapCreatePartyRegistration"], bound=False)
        out.done = partial(self._created, envelope["emapCreatePartyRegistration"], retry)
        self.outbox.drop_named("emapCreatePartyRegistration")  # one create waits at a time: the latest
        self._latest_create = out.seq
        self.send(out, delay)

    def query(self) -> None:
        envelope = build.query_registration(self.ids("qr"), self.link.ven_id if self.link else None)
        self.send(Outgoing("EiRegisterParty", envelope, RESPONSES_OF["emapQueryRegistration"], bound=False,
                           resend=lambda: False))

    def _created(self, request: dict, retry: bool, response: ValidMessage | None, outcome: Outcome) -> None:
        body = response.body if response is not None else {}
        if outcome is not Outcome.OK or response.response_code != "200" or not body.get("registrationID") \
                or not body.get("venID"):
            log.warning("registration failed (%s, %s)", outcome.value, response.response_code if response else "-")
            if retry and self.link is None:
                self.register(retry=True, delay=self._next_backoff())
            return
        self._registration_backoff = None
        self.registrations += 1
        renewed = self.link is not None and request.get("registrationID") == self.link.registration_id
        self.outbox.drop_bound()
        self.reporter.reset(new_registration=not renewed)
        self.requester.reset(new_registration=not renewed)
        if not renewed:
            self.events.clear()
            self.opts.clear()
        poll_freq = body.get("emapRequestedPollFreq")
        self.link = Link(body["registrationID"], body["venID"], body["vtnID"], pull=request["emapPullModel"],
                         poll_freq=timefmt.parse_duration(poll_freq) if poll_freq else None,
                         opt_change=body.get("emapOptChange") is True)
        self._polling, self._next_poll, self._last_poll = False, None, None
        log.info("registered: %s", self.link)
        self._bootstrap()

    def _next_backoff(self) -> float:
        current = self._registration_backoff
        current = self.config.backoff_initial if current is None else min(current * 2, self.config.backoff_cap)
        self._registration_backoff = current
        return current

    def _bootstrap(self) -> None:
        """`emapRegisterReport`, then `emapRequestEvent`, then (pull) the first poll (EMAP-6.2.3-12, 6.6-09)."""
        self.register_report(then=partial(self.request_event, None, bootstrap=True))

    def end_registration(self) -> None:
        """Table 6.2-2 "Cancel": everything of the link is discarded; polling stops (EMAP-6.2.4-06)."""
        log.info("registration ended")
        self.link = None
        self.outbox.drop_bound()
        self.events.clear()
        self.reporter.reset(new_registration=True)
        self.requester.reset(new_registration=True)
        self.opts.clear()
        self._polling, self._next_poll = False, None

    def cancel_registration(self) -> None:
        link = self.link
        envelope = build.cancel_party_registration(self.ids("xr"), link.registration_id, link.ven_id)

        def done(response, outcome):
            if outcome is Outcome.OK and response.response_code == "200" and self.link is link:
                self.end_registration()

        self.send(Outgoing("EiRegisterParty", envelope, RESPONSES_OF["emapCancelPartyRegistration"], done))

    # L-initiated requests of the link

    def request(self, resource: str, envelope: dict, done=None, failed=None) -> None:
        name = next(iter(envelope))
        self.send(Outgoing(resource, envelope, RESPONSES_OF[name], done, failed=failed))

    def register_report(self, names: tuple[str, ...] | None = None, then=None) -> None:
        metadata = self.reporter.publish(names)
        envelope = build.register_report(self.ids("rr"), self.link.ven_id, metadata)

        then = _once(then)

        def done(response, outcome):
            if outcome is Outcome.OK and response.response_code == "200":
                self.reporter.withdraw_missing()
            then()

        self.request("EiReport", envelope, done, failed=then)

    def request_event(self, reply_limit: int | None = None, *, bootstrap: bool = False) -> None:
        link = self.link
        if link is None:
            return
        envelope = build.request_event(self.ids("re"), link.ven_id, reply_limit)

        def start_polling():
            if bootstrap and link.pull and self.link is link and not self._polling:
                self._polling, self._next_poll = True, time.monotonic()
                self._wake.set()

        def done(response, outcome):
            if self.link is not link:
                return
            if outcome is Outcome.OK and (response.body.get("eiResponse") or {}).get("responseCode") == "200":
                self._follow_up(response.body, partial_set=reply_limit is not None)
            start_polling()

        self.request("EiEvent", envelope, done, failed=start_polling)

    def _follow_up(self, body: dict, *, partial_set: bool) -> None:
        """Evaluate the events answering `emapRequestEvent`; POST an `emapCreatedEvent` if that yields one
        (EMAP-6.3.3-05), nothing otherwise."""
        reply = self.events.answer(body, self.link, partial=partial_set)
        if "emapCreatedEvent" in reply:
            self.send(Outgoing("EiEvent", reply, frozenset({"emapResponse"}), first=True))

    # Requests from the upper EMA (pushed, or as poll replies)

    def process(self, message: ValidMessage) -> tuple[dict, object]:
        """The response envelope to a request of the upper EMA, and an action to run once it is sent."""
        return inbound.answer(self, message)

    def arm_reports(self, ids: list[str]) -> None:
        """The `emapCreatedReport` for ``ids`` is being sent: their reports may follow (EMAP-6.4.3-06/-07)."""
        self.reporter.started(ids)
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    # The work loop: due requests, due reports, polls

    async def _run(self) -> None:
        while not self._stopped:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the EMA keeps working whatever the network sent
                log.exception("lower EMA step failed")
                await asyncio.sleep(self.config.ack_timeout)

    async def _step(self) -> None:
        now = time.monotonic()
        self._queue_reports(now)
        out = self.outbox.pop_due(now)
        if out is not None:
            await self._transmit(out)
            return
        if self._poll_due(now):
            if self.outbox.release(self._poll_round + 1):  # EMAP-7.1.5-04: re-sends before the poll
                return
            await self._poll()
            return
        wake = [t for t in (self.outbox.next_due(), self.reporter.next_due(),
                            self._next_poll if self._polling else None) if t is not None]
        self._wake.clear()
        timeout = max(0.0, min(wake) - now) if wake else None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def _transmit(self, out: Outgoing) -> None:
        if out.bound and self.link is None:
            return
        creating = out.name == "emapCreatePartyRegistration"
        if creating:
            self._creating += 1
            self._no_create.clear()
        try:
            if out.transmissions == 0 and out.sent is not None:
                out.sent()
            out.transmissions += 1
            outcome, response, max_age = await exchange(self.client, self.upper_uri, out, self.exchange_timeout)
            if outcome in (Outcome.FAILED, Outcome.BUSY) and creating and out.seq != self._latest_create:
                return  # a newer create registration replaced this one: no re-send
            if outcome in (Outcome.FAILED, Outcome.BUSY) and out.resend():
                if out.failed is not None:
                    out.failed, failed = None, out.failed
                    failed()
                self._reschedule(out, outcome, max_age)
            elif out.done is not None:
                out.done(response, outcome)
        finally:
            if creating:
                self._creating -= 1
                if not self._creating:
                    self._no_create.set()

    def _reschedule(self, out: Outgoing, outcome: Outcome, max_age: float | None) -> None:
        """EMAP-7.1.5-03/-04/-05/-08: the identical message again, later."""
        if outcome is Outcome.BUSY:
            self.send(out, max_age)
        elif self.link is not None and self.link.pull and self._polling:
            out.at_poll = max(self._poll_round, out.released) + 1  # the next poll not yet released for
            self.outbox.add(out)
        else:
            out.backoff = self.config.backoff_initial if out.backoff is None else min(
                out.backoff * 2, self.config.backoff_cap)
            self.send(out, out.backoff)

    def _queue_reports(self, now: float) -> None:
        if self.link is None:
            return
        for serving, report in self.reporter.take_due(now):
            if report is None:  # a METADATA request is answered by emapRegisterReport (EMAP-6.4.2-06)
                envelope = build.register_report(self.ids("rr"), self.link.ven_id, self.reporter.publish(),
                                                 report_request_id=serving.request_id)
            else:
                envelope = build.update_report(self.ids("ur"), self.link.ven_id, [report])
            out = Outgoing("EiReport", envelope, RESPONSES_OF[next(iter(envelope))])
            out.resend = partial(self.reporter.is_active, serving.request_id)  # EMAP-7.1.5-03, 6.4.4-01
            self.outbox.add(out)

    # Pull mode (6.6)

    def _poll_due(self, now: float) -> bool:
        return (self.link is not None and self.link.pull and self._polling and self._next_poll is not None
                and now >= self._next_poll)

    def poll_soon(self) -> None:
        """Poll as soon as EMAP-6.6-06 allows."""
        earliest = time.monotonic() if self._last_poll is None else self._last_poll + self.poll_freq
        self._next_poll = earliest if self._next_poll is None else min(self._next_poll, earliest)
        self._wake.set()

    async def _poll(self) -> None:
        link = self.link
        self._poll_round += 1
        self._last_poll = time.monotonic()
        self._next_poll = self._last_poll + self.poll_freq  # EMAP-6.6-06/-07/-08, also after a failed poll
        try:
            response = await self.client.request(f"{self.upper_uri}/EmapPoll", payload=encode(build.poll(link.ven_id)),
                                                 timeout=self.exchange_timeout)
        except TransportError as exc:
            log.info("poll failed: %s", exc)
            return
        message = response.message if response.code == "2.04" else None
        if self.link is not link:
            return
        if message is None or message.name not in POLL_REPLIES:  # EMAP-6.6-11
            log.info("poll reply discarded: %s %s", response.code, response.message_error or "")
            return
        if message.name == "emapResponse":  # R0
            return
        reply, after = self.process(message)
        step_two = Outgoing(STEP_TWO_RESOURCE[message.name], reply, frozenset({"emapResponse", EMPTY}),
                            first=True, bound=message.name != "emapCancelPartyRegistration")
        step_two.sent = after
        self.send(step_two)
        if self.link is not None:
            self._next_poll = time.monotonic()  # EMAP-6.6-05: drain; due requests go first


def _once(action):
    """``action`` (or nothing) callable any number of times, run at most once."""
    ran = []

    def run():
        if action is not None and not ran:
            ran.append(True)
            action()

    return run
