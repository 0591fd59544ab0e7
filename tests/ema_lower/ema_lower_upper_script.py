"""A tiny scripted upper EMA for testing the sample lower EMA (imported by conftest.py and the tests)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.main import RunningEma
from conformance.messages import ValidMessage, build, encode, rules, validate
from conformance.transport.client import CoapClient
from conformance.transport.server import CoapReply, CoapServer

T_PROMPT = 2.0
POLL_FREQ = 1.0
VEN_ID = "ven-7"
VTN_ID = "vtn-1"


@dataclass
class Seen:
    """One request the scripted upper EMA received."""

    t: float
    resource: str
    message: ValidMessage

    @property
    def name(self) -> str:
        return self.message.name


class ScriptedUpper:
    """Answers like a correct upper EMA; poll replies come from ``queue`` (R0 when empty); ``create_code``
    and ``events`` script the answers. Every request is recorded in ``seen``."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.violations: list[tuple[str, rules.RuleViolation]] = []
        """Sender-rule violations (B.6 rule 6) found in what the lower EMA sent."""
        self.queue: list[dict] = []
        self.events: list[dict] = []
        self.create_code = "200"
        self.registrations = 0
        self.silent: dict[str, int] = {}
        """Message name -> how many of them to leave unanswered (answered only after ``late`` seconds)."""
        self.late = 3.0
        self.create_delay = 0.0
        self._changed = asyncio.Condition()
        self.server: CoapServer | None = None

    @property
    def base(self) -> str:
        return f"coap://{self.server.uri_authority}/emap"

    async def handler(self, request) -> CoapReply:
        message = validate(request.payload, posted=True)
        resource = request.path[-1]
        self.violations += [(message.name, v) for v in rules.check(message, sender="L")]
        async with self._changed:
            self.seen.append(Seen(time.monotonic(), resource, message))
            self._changed.notify_all()
        if self.silent.get(message.name):
            self.silent[message.name] -= 1
            await asyncio.sleep(self.late)  # longer than the lower EMA waits: its exchange fails
        if message.name == "emapCreatePartyRegistration":
            await asyncio.sleep(self.create_delay)
        reply = self.answer(message)
        if reply is None:
            return CoapReply("2.04")
        return CoapReply("2.04", encode(reply), content_format=50)

    def answer(self, message: ValidMessage) -> dict | None:
        body, name = message.body, message.name
        if name == "emapQueryRegistration":
            return build.created_party_registration(body["requestID"], VTN_ID)
        if name == "emapCreatePartyRegistration":
            if self.create_code != "200":
                return build.created_party_registration(body["requestID"], VTN_ID, code=self.create_code)
            if "registrationID" not in body:
                self.registrations += 1
            return build.created_party_registration(
                body["requestID"], VTN_ID, registration_id=body.get("registrationID") or f"reg-{self.registrations}",
                ven_id=VEN_ID, poll_freq=POLL_FREQ if body["emapPullModel"] else None,
                opt_change=body.get("emapOptChange"))
        if name == "emapCancelPartyRegistration":
            return build.canceled_party_registration(body["requestID"], body["registrationID"], body["venID"])
        if name == "emapRequestEvent":
            request = body["eiRequestEvent"]
            return build.distribute_event(f"de-req-{len(self.seen)}", VTN_ID, self.events,
                                          ei_response=build.ei_response(request["requestID"]))
        if name == "emapPoll":
            return self.queue.pop(0) if self.queue else build.response("", ven_id=VEN_ID)
        if name == "emapRegisterReport":
            return build.registered_report(body["requestID"], VEN_ID)
        if name == "emapCreateReport":
            ids = [r["reportRequestID"] for r in body["emapReportRequest"]]
            return build.created_report(body["requestID"], VEN_ID, ids)
        if name == "emapUpdateReport":
            return build.updated_report(body["requestID"], VEN_ID)
        if name == "emapCancelReport":
            return build.canceled_report(body["requestID"], VEN_ID, [])
        if name == "emapCreateOpt":
            return build.created_opt(body["requestID"], body["optID"])
        if name == "emapCancelOpt":
            return build.canceled_opt(body["requestID"], body["optID"])
        if name == "emapResponse":
            return None
        return build.response(message.request_id or "", ven_id=VEN_ID)  # step two / follow-up acknowledged

    async def wait_for(self, name: str, count: int = 1, timeout: float = 10.0, since: float = 0.0) -> list[Seen]:
        """The first ``count`` requests named ``name`` received after ``since``; fails after ``timeout``."""
        def found():
            return [s for s in self.seen if s.name == name and s.t >= since]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(found()) >= count)
        return found()[:count]

    def names(self, since: float = 0.0) -> list[str]:
        return [s.name for s in self.seen if s.t >= since]


async def until(condition, timeout: float = 8.0, what: str = "condition") -> None:
    """Wait (bounded) until ``condition()`` holds; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def lower_config(upper_base: str, mode: str) -> EmaConfig:
    return EmaConfig(role="lower", mode=mode, bind=Endpoint("127.0.0.1", 0, ("emap",)),
                     lower_bind=Endpoint("127.0.0.1", 0, ("emapl",)), upper=upper_base,
                     control=Endpoint("127.0.0.1", 0), t_prompt=T_PROMPT, poll_freq=POLL_FREQ, ack_timeout=0.3,
                     ack_random_factor=1.0, max_retransmit=1, backoff_initial=0.5, backoff_cap=2.0)



class Lower:
    """A running sample lower EMA (front door, control, agent) and a client to push to it."""

    def __init__(self, running: RunningEma, client: CoapClient) -> None:
        self.running = running
        self.client = client

    @property
    def role(self):
        return self.running.agent.role

    async def push(self, resource: str, envelope: dict) -> ValidMessage | None:
        response = await self.client.request(f"{self.running.ready['lower']}/{resource}", payload=encode(envelope),
                                             timeout=5.0)
        assert response.code == "2.04", response
        return response.message
