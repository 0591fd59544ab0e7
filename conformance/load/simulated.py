"""``SimulatedLower``: one lower EMA of the simulated building, the reference ``LowerPeer`` on a lean
transport.

It keeps the peer's registration, request-building and answering logic (``LowerPeer``) and replaces only the
transport: requests go through its own ``channel.Endpoint`` (one UDP socket, no tap, no trace) and every
answer is judged by the shared ``Checker`` and counted by the shared ``LoadStats``. A push-mode lower EMA is
served by the shared ``PushSite`` under its own base path.

Its life follows the binding: create registration, then ``emapRegisterReport`` and ``emapRequestEvent`` with
the step two of the delivered event set (EMAP-6.2.3-12); in pull mode polls (first poll at once, EMAP-6.6-09;
after a non-empty reply the step two and the next poll at once, EMAP-6.6-04, -05; after R0 the next poll one
``emapRequestedPollFreq`` later, EMAP-6.6-06, -08); between polls, at the rates of the mix, opts (create,
later cancel, within half an EXCHANGE_LIFETIME the identical cancel again, EMAP-7.1.5-07), report requests (a
one-shot ``METADATA`` request, EMAP-6.4.3-01) and event requests. A registration that the IUT forgets (463) is
made again after T_BACKOFF (EMAP-7.1.5-05).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from conformance.load.channel import ChannelError, Endpoint
from conformance.load.checks import Checker, light_message, outcome_of
from conformance.load.stats import LoadStats
from conformance.messages import ValidMessage, encode
from conformance.messages import build as B
from conformance.peer.base import JSON, PeerError, Posted
from conformance.peer.ids import IdSource
from conformance.peer.lower import LowerPeer
from conformance.transport import CoapReply, CoapServer
from conformance.transport.client import CoapResponse
from conformance.transport.trace import Trace

log = logging.getLogger("conformance.load")


class DiscardInbox:
    """The peer's inbox for a simulated EMA: nothing waits on pushed requests, so none is kept."""

    async def put(self, item) -> None:
        return None


@dataclass
class Shared:
    """What every simulated lower EMA of one run shares."""

    target: tuple[str, int]
    base_path: tuple[str, ...]
    timing: object  # conformance.profiles.Timing
    checker: Checker
    stats: LoadStats
    inflight: asyncio.Semaphore
    stop: asyncio.Event
    rates: dict  # activity -> probability per cycle ("opt", "report", "event")
    ends_at: float = float("inf")  # run time (s) of the stop signal
    trace: Trace = field(default_factory=lambda: Trace("load"))
    push: PushSite | None = None

    def __post_init__(self):
        self.started = asyncio.get_running_loop().time()

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.started


class PushSite:
    """One CoAP server for every push-mode simulated EMA: ``/<prefix>/<tag>/<resource>`` goes to that EMA."""

    PREFIX = "emapl"

    def __init__(self):
        self.server: CoapServer | None = None
        self.members: dict[str, SimulatedLower] = {}

    @classmethod
    async def start(cls, host: str, params) -> PushSite:
        site = cls()
        site.server = await CoapServer.start(site.handle, bind=(host, 0), params=params)
        return site

    def attach(self, member: SimulatedLower) -> str:
        tag = member.ids.tag
        self.members[tag] = member
        member.serve_path = (self.PREFIX, tag)
        host, port = self.server.address
        return f"coap://{host}:{port}/{self.PREFIX}/{tag}"

    async def handle(self, request) -> CoapReply:
        member = self.members.get(request.path[1]) if len(request.path) > 1 else None
        if member is None:
            return CoapReply(code="4.04", payload=b"no such simulated lower EMA")
        return await member.handle_push(request)

    async def stop(self) -> None:
        await self.server.stop()


class SimulatedLower(LowerPeer):
    """A lower EMA of the building; ``full_check`` selects it for the full checks."""

    def __init__(
        self, index: int, shared: Shared, *, pull: bool, full_check: bool, rng: random.Random, run_tag: str
    ):
        super().__init__(
            trace=shared.trace,
            timing=shared.timing,
            iut_uri=None,
            pull=pull,
            ids=IdSource(f"{run_tag}{index:05d}"),
            name=f"sim{index:05d}",
        )
        self.shared = shared
        self.full_check = full_check
        self.rng = rng
        self.inbox = DiscardInbox()
        self.endpoint: Endpoint | None = None
        self.open_opts: list[str] = []
        self.repeat: tuple[Posted, float] | None = None  # an accepted request to send again (EMAP-7.1.5-07)
        self.registrations = 0
        self.failures = 0
        self.internal_errors = 0

    # -- transport -------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.endpoint is None:
            self.endpoint = await Endpoint.open(self.shared.target, self.params, self.rng)

    async def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None

    async def serve(self) -> str:
        if self.base_uri is None:
            self.base_uri = self.shared.push.attach(self)
        return self.base_uri

    async def post(
        self,
        resource: str,
        message: dict | bytes,
        *,
        timeout: float | None = None,
        content_format: int | None = JSON,
        accept: int | None = None,
        method: str = "POST",
        fresh: bool = False,
        expect_answer: bool = True,
    ) -> Posted:
        """POST through the lean endpoint; the answer is judged and counted, then handed back like the
        peer's."""
        await self.start()
        shared = self.shared
        payload = message if isinstance(message, bytes) else encode(message)
        request = light_message(payload)
        wait = self.exchange_timeout if timeout is None else timeout
        async with shared.inflight:
            began = shared.now()
            try:
                reply = await self.endpoint.post(shared.base_path + (resource,), payload, timeout=wait)
            except ChannelError as exc:
                shared.stats.record(resource, exc.kind, None, began)
                if expect_answer:
                    raise PeerError(f"{resource}: {exc}") from None
                return Posted(resource, payload, message, None)
            ended = shared.now()
        answer = shared.checker.answer(
            resource=resource,
            request=request,
            code=reply.code,
            content_format=reply.content_format,
            payload=reply.payload,
            full=self.full_check,
            ven_id=self.ven_id,
            t=ended,
            tolerance=self.timing.tolerance_s + (ended - began),
            request_payload=payload,
        )
        outcome = outcome_of(reply.code, answer)
        if reply.code == "2.04" and reply.payload and answer is None:
            outcome = "2.04/invalid"
        shared.stats.record(resource, outcome, ended - began, began, retransmitted=reply.retransmissions)
        response = CoapResponse(
            code=reply.code, payload=reply.payload, content_format=reply.content_format, message=answer
        )
        return Posted(resource, payload, message, response)

    async def handle_push(self, request) -> CoapReply:
        """A request U pushed: the peer's conformant handling; what it refuses is reported as U's fault."""
        reply = await self._handle(request)
        if reply.code != "2.04":
            self.shared.checker.inbound(
                request.path[-1], request.payload, reply.code, self.ven_id, self.shared.now()
            )
        return reply

    async def answer_request(self, resource: str, message: ValidMessage) -> dict | None:
        if self.full_check:  # pushed: in transit up to MAX_TRANSMIT_WAIT
            tolerance = self.timing.tolerance_s + self.timing.max_transmit_wait
            self.shared.checker.full(resource, message, self.ven_id, self.shared.now(), tolerance)
        return await super().answer_request(resource, message)

    # -- life ------------------------------------------------------------------------------------------------
    @property
    def period(self) -> float:
        """Poll period (pull) or activity period (push): the granted poll frequency, else T_PROMPT."""
        return self.poll_freq or max(1.0, self.timing.t_prompt_s)

    async def live(self) -> None:
        """Run until the shared stop event; every step is one bounded exchange."""
        stop = self.shared.stop
        while not stop.is_set():
            try:
                if not self.registered:
                    if not await self.join():
                        await self.pause(self.backoff())
                        continue
                if self.pull:
                    await self.poll_until_empty()
                if self.registered and not stop.is_set():
                    await self.activity()
                await self.pause(self.period * self.rng.uniform(1.0, 1.05))
            except PeerError:
                self.failures += 1
                await self.pause(self.period)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a message it could not act on
                self.internal_errors += 1
                log.warning(
                    "%s could not act on a message of the IUT: %s: %s", self.name, type(exc).__name__, exc
                )
                await self.pause(self.period)

    async def pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.shared.stop.wait(), seconds)
        except TimeoutError:
            pass

    def backoff(self) -> float:
        """T_BACKOFF after a failed registration, doubled per failure up to the cap (EMAP-7.1.5-05)."""
        timing = self.timing
        return min(timing.backoff_cap_s, timing.backoff_initial_s * 2 ** min(self.failures, 16))

    async def join(self, *, reregister: bool = False) -> bool:
        """Create registration and the bootstrap of EMAP-6.2.3-12; False when the IUT refused."""
        posted = await self.register(reregister=reregister)
        if not self.registered or posted.message is None or posted.message.response_code != "200":
            self.failures += 1
            return False
        self.registrations += 1
        self.failures = 0
        await self.register_report()
        await self.request_events()
        if self.pull:
            message = (await self.poll()).message
            self.shared.checker.first_poll(message, self.ven_id, self.shared.now())
            await self.answer_poll_reply(message)
        return True

    async def request_events(self) -> None:
        """``emapRequestEvent`` and the step two for the delivered event set (it is outstanding at U)."""
        message = (await self.request_event()).message
        if message is not None and message.name == "emapDistributeEvent":
            await self.step_two(message)

    async def poll_until_empty(self, limit: int = 32) -> None:
        for _ in range(limit):
            if not self.registered or self.shared.stop.is_set():
                return
            if not await self.answer_poll_reply((await self.poll()).message):
                return

    async def answer_poll_reply(self, message: ValidMessage | None) -> bool:
        """Step two of Table 6.6-1; True when the reply was non-empty (poll again at once, EMAP-6.6-05)."""
        if message is None:
            return False
        if message.name == "emapResponse":
            if message.response_code == "463":
                self.forget()
            return False
        await self.step_two(message)
        if message.name == "emapRequestReregistration":
            await self.join(reregister=True)
        return True

    async def activity(self) -> None:
        """At most one L-initiated procedure per period: the pending repeat check, else one drawn from the
        mix."""
        if self.repeat is not None and self.shared.now() >= self.repeat[1]:
            await self.check_repeat()
            return
        rates, draw = self.shared.rates, self.rng.random()
        if draw < rates["opt"]:
            await self.opt_activity()
        elif draw < rates["opt"] + rates["report"]:
            await self.create_report([B.report_request(self.ids("rq"), "METADATA")])
        elif draw < rates["opt"] + rates["report"] + rates["event"]:
            await self.request_events()

    async def opt_activity(self) -> None:
        """Cancel the oldest open opt, or create a schedule opt (EMAP-6.5.2, 6.5.3)."""
        if self.repeat is not None:
            return  # one repeat check at a time
        if self.open_opts:
            posted = await self.cancel_opt(self.open_opts.pop(0))
            if posted.message is not None and posted.message.response_code == "200":
                self.repeat = (posted, self.repeat_time())
            return
        opt_id = self.ids("opt")
        posted = await self.create_opt(opt_id, "optOut")
        if posted.message is not None and posted.message.response_code == "200":
            self.open_opts.append(opt_id)

    def repeat_time(self) -> float:
        """When to send an accepted request again: a random time within the first half of EXCHANGE_LIFETIME
        that still falls in the run, so an answer cache that forgets too early (EMAP-7.1.5-07) is seen."""
        now = self.shared.now()
        latest = min(now + self.timing.exchange_lifetime / 2, self.shared.ends_at - self.period)
        return self.rng.uniform(now, max(now, latest))

    async def check_repeat(self) -> None:
        """Send the accepted ``emapCancelOpt`` once more, unchanged: within EXCHANGE_LIFETIME U must answer it
        with the same response and not execute it again (EMAP-7.1.5-07); executed again it would name an
        unknown optID."""
        first, _ = self.repeat
        self.repeat = None
        again = await self.post(first.resource, first.payload)
        if again.message is not None and again.message.envelope != first.message.envelope:
            self.shared.checker.repeat_differs(
                first.resource,
                next(iter(first.envelope)),
                first.message,
                again.message,
                self.ven_id,
                self.shared.now(),
            )

    async def leave(self) -> None:
        """Cancel the registration at the end of the run (the IUT is left as it was found)."""
        if self.registered:
            try:
                await self.cancel()
            except PeerError:
                self.failures += 1
