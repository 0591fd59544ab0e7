"""Shared helpers of the lower-IUT test cases: driving the link, finding the IUT's answers in the trace, judging.

Every judging helper reads the captured trace and raises ``Fail`` naming the requirement id and what was on the
wire. Driving helpers (``LowerLink``) only make things happen and wait, always bounded by the profile's timings.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from conformance.messages import MESSAGES, RESPONSES_OF, SERVICE_RESOURCE, encode
from conformance.messages import build as B
from conformance.messages.rules import RESPONSE_CODES
from conformance.peer.upper import Queued
from conformance.verdict import Fail, Inconclusive

LOWER = 'role in ("lower", "intermediate")'
PULL = f'{LOWER} and mode == "pull"'
PUSH = f'{LOWER} and mode == "push"'
OPT_CHANGE = f"{LOWER} and opt_change"
POLL_PATH_END = "/EmapPoll"

#: Table 5-2: messages a lower EMA sends as a request, and as a response (CoAP response, step two or follow-up).
LOWER_REQUESTS = frozenset({"emapQueryRegistration", "emapCreatePartyRegistration", "emapCancelPartyRegistration",
                            "emapRequestEvent", "emapPoll", "emapRegisterReport", "emapCreateReport",
                            "emapUpdateReport", "emapCancelReport", "emapCreateOpt", "emapCancelOpt"})
LOWER_RESPONSES = frozenset({"emapCanceledPartyRegistration", "emapResponse", "emapCreatedEvent",
                             "emapRegisteredReport", "emapCreatedReport", "emapUpdatedReport",
                             "emapCanceledReport"})


def fail(requirement: str, text: str) -> Fail:
    return Fail(f"{requirement}: {text}")


def is_response_type(name: str) -> bool:
    return MESSAGES[name].kind == "response"


def code_of(message) -> str | None:
    """The top-level responseCode (for emapCreatedEvent: eiCreatedEvent.eiResponse)."""
    if message.name == "emapCreatedEvent":
        return message.body["eiCreatedEvent"]["eiResponse"]["responseCode"]
    return message.response_code


def echo_of(message) -> str | None:
    if message.name == "emapCreatedEvent":
        return message.body["eiCreatedEvent"]["eiResponse"]["requestID"]
    return message.request_id


def event_responses(message) -> list[dict]:
    return message.body["eiCreatedEvent"].get("eventResponses", {}).get("eventResponse", [])


def describe(exchange) -> str:
    """One line: what an exchange carried."""
    if exchange is None:
        return "no such exchange on the wire"
    request = exchange.request_message
    sent = request.name if request is not None else f"payload not EMAP ({exchange.request_message_error})"
    if exchange.response is None:
        return f"{exchange.direction} {exchange.method} {exchange.path} ({sent}) got no response"
    answer = exchange.response_message
    shown = answer.name if answer is not None else f"no EMAP message ({exchange.response_message_error})"
    code = f" responseCode {code_of(answer)}" if answer is not None and code_of(answer) else ""
    return f"{exchange.direction} {exchange.method} {exchange.path} ({sent}) -> {exchange.code} {shown}{code}"


# -- finding things in the trace ---------------------------------------------------------------------------------
def is_poll(exchange) -> bool:
    return exchange.direction == "from-iut" and exchange.path.endswith(POLL_PATH_END)


def iut_requests(trace, name: str | tuple[str, ...] | None = None) -> list:
    """Exchanges the IUT started (its POSTs to the peer), optionally only those carrying message ``name``."""
    names = (name,) if isinstance(name, str) else name
    return [ex for ex in trace.exchanges() if ex.direction == "from-iut"
            and (names is None or (ex.request_message is not None and ex.request_message.name in names))]


def polls(trace) -> list:
    return [ex for ex in trace.exchanges() if is_poll(ex)]


def end_seq(exchange) -> int:
    """Sequence number of the last datagram of an exchange (its response, or its last transmission)."""
    return max(r.seq for r in exchange.records)


def end_time(exchange) -> float:
    return max(r.t for r in exchange.records)


def delivery_poll(trace, payload: bytes):
    """The poll exchange whose reply carried exactly ``payload`` (pull mode), or None."""
    for exchange in polls(trace):
        if exchange.response_payload == payload:
            return exchange
    return None


def pushed_exchange(trace, payload: bytes):
    """The peer's POST to the IUT that carried exactly ``payload`` (push mode), or None."""
    for exchange in trace.exchanges():
        if exchange.direction == "to-iut" and exchange.request_payload == payload:
            return exchange
    return None


def after(trace, seq: int, predicate=lambda ex: True) -> list:
    """IUT-started exchanges whose request came after datagram ``seq``, matching ``predicate``."""
    return [ex for ex in iut_requests(trace) if ex.request.seq > seq and predicate(ex)]


def step_two_after(trace, poll) -> object | None:
    """The step two of a poll reply: the first response-type message the IUT POSTed after the reply."""
    found = after(trace, end_seq(poll), lambda ex: ex.request_message is not None
                  and is_response_type(ex.request_message.name))
    return found[0] if found else None


def next_poll_after(trace, seq: int):
    found = after(trace, seq, is_poll)
    return found[0] if found else None


@dataclass(frozen=True)
class Sent:
    """A message the peer gave the IUT: exact payload, name and requestID (None for raw or id-less payloads)."""

    payload: bytes
    name: str | None
    request_id: str | None
    pull: bool


@dataclass(frozen=True)
class Answer:
    """How the IUT answered a U-initiated request, as seen on the wire."""

    message: object  # ValidMessage
    exchange: object  # the push exchange, or the step-two exchange
    delivered: object  # the push exchange, or the poll that delivered the request


def answer_to(trace, sent: Sent, requirement: str) -> Answer:
    """The IUT's response message to ``sent``: the 2.04 payload (push) or the step two (pull); else Fail."""
    if sent.pull:
        poll = delivery_poll(trace, sent.payload)
        if poll is None:
            raise fail(requirement, f"the queued {sent.name} was never fetched by an emapPoll")
        step = step_two_after(trace, poll)
        if step is None:
            raise fail(requirement, f"no step two POSTed after the poll reply carrying {sent.name}")
        return Answer(step.request_message, step, poll)
    exchange = pushed_exchange(trace, sent.payload)
    if exchange is None:
        raise RuntimeError(f"the POST of {sent.name} is missing from the trace")
    if exchange.code != "2.04" or exchange.response_message is None:
        raise fail(requirement, f"expected 2.04 carrying the response message; wire: {describe(exchange)}")
    return Answer(exchange.response_message, exchange, exchange)


def expect_answer(trace, sent: Sent, requirement: str, *, name: str | tuple[str, ...] | None = None,
                  code: str | tuple[str, ...] | None = "200", echo: str | None = None) -> Answer:
    """Judge the IUT's answer to ``sent``: message type (default: Table 6.1-1), responseCode, echoed requestID."""
    answer = answer_to(trace, sent, requirement)
    message = answer.message
    names = (name,) if isinstance(name, str) else (name or tuple(RESPONSES_OF[sent.name]))
    if message.name not in names:
        raise fail(requirement, f"{sent.name} answered with {message.name}, expected {' or '.join(names)}; "
                                f"wire: {describe(answer.exchange)}")
    codes = (code,) if isinstance(code, str) else code
    if codes is not None and code_of(message) not in codes:
        raise fail(requirement, f"{sent.name} answered with responseCode {code_of(message)}, expected "
                                f"{' or '.join(codes)}; wire: {describe(answer.exchange)}")
    wanted = sent.request_id if echo is None else echo
    if wanted is not None and echo_of(message) != wanted:
        raise fail("EMAP-6.1-02", f"{message.name} echoes requestID {echo_of(message)!r}, the {sent.name} "
                                  f"carried {wanted!r}")
    return answer


def check_step_two(trace, sent: Sent, prompt: float) -> Answer:
    """Pull-mode step two of ``sent``: POSTed to U's resource of its service (EMAP-6.1-05), started within
    T_PROMPT of the poll reply and ended before the next emapPoll (EMAP-6.6-04)."""
    answer = answer_to(trace, sent, "EMAP-6.6-04")
    step, poll = answer.exchange, answer.delivered
    resource = SERVICE_RESOURCE[sent.name]
    if not step.path.endswith("/" + resource) or step.method != "POST":
        raise fail("EMAP-6.1-05", f"step two of {sent.name} must be POSTed to {resource}; wire: {describe(step)}")
    delay = step.request.t - end_time(poll)
    if delay > prompt:
        raise fail("EMAP-6.6-04", f"step two of {sent.name} started {delay:.2f} s after the poll reply "
                                  f"(bound T_PROMPT + tolerance = {prompt:g} s)")
    follow = next_poll_after(trace, poll.request.seq)
    if follow is not None and follow.request.seq < end_seq(step):
        raise fail("EMAP-6.6-04", f"emapPoll sent at t={follow.request.t:.2f} s before the step two of "
                                  f"{sent.name} had ended (t={end_time(step):.2f} s)")
    return answer


def check_messages_valid(trace, requirement: str, service: str | None = None) -> None:
    """Fail ``requirement`` when a payload the IUT sent (of ``service``, Table B-1) is not a valid message."""
    for exchange in trace.exchanges():
        if exchange.direction == "from-iut" and exchange.request_payload and exchange.request_message_error:
            error = exchange.request_message_error
        elif exchange.direction == "to-iut" and exchange.response_payload and exchange.response_message_error:
            error = exchange.response_message_error
        else:
            continue
        name = error.split(":", 1)[0]
        if service is None or name not in MESSAGES or MESSAGES[name].service == service:
            raise fail(requirement, f"{describe(exchange)}: {error}")


def sent_by_iut(trace, name: str | None = None) -> list:
    """(record, message) of every EMAP message the IUT sent: its requests, step twos and CoAP responses."""
    return trace.messages(name, direction="from-iut")


def check_response_codes(trace) -> None:
    """EMAP-6.1-10: only responseCodes of Table 6.1-3, at the top level and in every eventResponse."""
    for _, message in sent_by_iut(trace):
        codes = [code_of(message)] if is_response_type(message.name) else []
        if message.name == "emapCreatedEvent":
            codes += [r["responseCode"] for r in event_responses(message)]
        for code in codes:
            if code is not None and code not in RESPONSE_CODES:
                raise fail("EMAP-6.1-10", f"{message.name} carries responseCode {code!r}, not in Table 6.1-3")


# -- driving the link ------------------------------------------------------------------------------------------
class LowerLink:
    """The current test's view of the session's UpperPeer: delivers messages, waits, stimulates the IUT."""

    def __init__(self, peer, trace, timing, profile, stimulus):
        self.peer, self.trace, self.timing, self.profile, self.stimulus = peer, trace, timing, profile, stimulus

    # bounds, all from the profile
    @property
    def prompt(self) -> float:
        """T_PROMPT plus the measurement tolerance."""
        return self.timing.t_prompt_s + self.timing.tolerance_s

    @property
    def poll_period(self) -> float:
        """Longest gap between two polls of a registered pull-mode IUT (EMAP-6.6-07, DEC-108) plus tolerance."""
        longest = self.profile.pixit.get("longest_poll_period_s") or 0
        return max(longest, self.peer.poll_freq_s) + self.timing.tolerance_s

    @property
    def exchange_timeout(self) -> float:
        return self.timing.max_transmit_wait + self.timing.tolerance_s

    @property
    def answer_timeout(self) -> float:
        """How long an answer to a delivered request may take: a poll, T_PROMPT and one exchange."""
        return self.poll_period + self.prompt + self.exchange_timeout

    @property
    def pull(self) -> bool:
        return self.profile.mode == "pull"

    @property
    def ven_id(self) -> str:
        return self.peer.ven_id

    # registration state
    async def registered(self) -> LowerLink:
        """Precondition of most tests: the IUT holds a registration with the peer (made by stimulus if needed)."""
        if not self.peer.registered:
            await self.peer.wait_for(lambda: self.peer.registered, self.prompt)
        if not self.peer.registered:
            await self.act("create-registration", {})
            await self.peer.wait_for(lambda: self.peer.registered, self.prompt + self.exchange_timeout)
        if not self.peer.registered:
            refused = [ex.response_message for ex in iut_requests(self.trace, "emapCreatePartyRegistration")
                       if ex.response_message is not None and ex.response_message.response_code != "200"]
            why = ""
            if refused:
                response = refused[-1].body["eiResponse"]
                why = f" (its create was answered {response['responseCode']}: " \
                      f"{response.get('responseDescription', '')})"
            raise Inconclusive(f"precondition: the IUT did not register with the reference upper EMA{why}")
        await self.settled()
        return self

    async def settled(self) -> None:
        """Wait (bounded) until the IUT's post-registration exchanges (EMAP-6.2.3-12) are over: its
        emapRequestEvent has been answered and, in pull mode, the outbound queue is drained."""
        await self.peer.wait_for(lambda: self.peer.bootstrapped and not self.peer.queue,
                                 2 * self.prompt + self.poll_period)

    async def reregister(self) -> int:
        """Make the IUT re-register (stimulus create-registration with its registrationID); returns the
        peer's count of registrations before, Inconclusive when it does not happen."""
        before = self.peer.registrations
        await self.act("create-registration", {"registrationID": self.peer.link.registration_id})
        if not await self.peer.wait_for(lambda: self.peer.registrations > before,
                                        self.prompt + self.exchange_timeout):
            raise Inconclusive("precondition: the IUT did not re-register on the create-registration stimulus")
        return before

    @contextlib.asynccontextmanager
    async def granting(self, seconds: float):
        """Re-register the IUT under an ``emapRequestedPollFreq`` of ``seconds`` for the block, then restore the
        profile's grant (poll timing is only measurable when the grant is well above the 1 s tolerance)."""
        original = self.peer.poll_freq_s
        self.peer.poll_freq_s = max(original, seconds)
        try:
            await self.reregister()
            await self.settled()
            yield self
        finally:
            self.peer.poll_freq_s = original
            if self.peer.registered:
                await self.reregister()
                await self.settled()

    # stimuli
    async def act(self, action: str, args: dict | None = None) -> None:
        """Make the IUT start a procedure; not possible -> Inconclusive (the test needs it)."""
        outcome = await self.stimulus.stimulate(action, {"role": "lower", **(args or {})})
        if outcome.status == "accepted":
            return
        if outcome.status in ("unavailable", "unsupported", "refused"):
            raise Inconclusive(f"stimulus {action} {outcome.status}: {outcome.detail}")
        raise RuntimeError(f"stimulus {action} failed: {outcome.detail}")

    async def try_act(self, action: str, args: dict | None = None) -> str:
        """Ask for a procedure the binding forbids now: the outcome status (refused and accepted both fine)."""
        outcome = await self.stimulus.stimulate(action, {"role": "lower", **(args or {})})
        if outcome.status in ("unavailable", "unsupported"):
            raise Inconclusive(f"stimulus {action} {outcome.status}: {outcome.detail}")
        if outcome.status == "error":
            raise RuntimeError(f"stimulus {action} failed: {outcome.detail}")
        return outcome.status

    # delivering U-initiated requests
    async def deliver(self, message: dict | bytes, *, resource: str | None = None, step_two: bool = True,
                      content_format: int | None = 50) -> Sent:
        """Give the IUT ``message`` (queued for its next poll, or POSTed) and wait (bounded) for the answer:
        the CoAP response (push) or, with ``step_two``, the step two echoing its requestID (pull)."""
        envelope = None if isinstance(message, bytes) else message
        name = next(iter(envelope)) if envelope is not None else None
        rid = None
        if envelope is not None:
            rid = envelope[name].get("requestID", "" if name == "emapRequestReregistration" else None)
        outcome = await self.peer.send(message, resource=resource, content_format=content_format,
                                       timeout=self.exchange_timeout + self.prompt)
        sent = Sent(envelope and encode(envelope) or message, name, rid, isinstance(outcome, Queued))
        if isinstance(outcome, Queued):
            await self.peer.wait_for(lambda: outcome.delivered_at is not None, self.poll_period + self.prompt)
            if step_two and rid is not None:
                await self.peer.inbox.take(lambda item: item.message is not None
                                           and is_response_type(item.message.name)
                                           and echo_of(item.message) == rid, self.prompt + self.exchange_timeout)
        return sent

    async def next_request(self, name: str | tuple[str, ...], timeout: float):
        """The next request of ``name`` the IUT sends to the peer (Inbound), or None after ``timeout``."""
        return await self.peer.next_request(name, timeout=timeout)

    async def observe(self, seconds: float) -> None:
        """Let the IUT act for ``seconds`` (a bounded observation window of a timing or silence check)."""
        await asyncio.sleep(seconds)

    async def next_poll(self) -> None:
        """Wait (bounded) until the IUT has polled again (pull mode): proof it kept polling."""
        start = self.trace.elapsed()
        await self.peer.inbox.take(lambda item: item.message is not None and item.message.name == "emapPoll"
                                   and item.t > start, self.poll_period + self.prompt)

    # message builders with the link's identities
    def event(self, **members) -> dict:
        members.setdefault("target", {"venID": [self.ven_id]})
        return B.event(members.pop("event_id", None) or self.peer.ids("ev"), **members)

    def distribute(self, *events: dict, vtn_id: str | None = None) -> dict:
        return self.peer.distribute(list(events), vtn_id=vtn_id)
