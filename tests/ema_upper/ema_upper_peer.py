"""Test helpers: the sample upper EMA started in-process with short timings, and a plain CoAP client playing
one or more lower EMAs against it."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.main import RunningEma
from conformance.messages import build
from conformance.transport.client import CoapClient, CoapResponse

WAIT = 5.0


def fast_config(**changes) -> EmaConfig:
    """An upper EMA on 127.0.0.1 port 0 with short timings (T_PROMPT 2 s, poll frequency 1 s)."""
    values = dict(
        role="upper",
        bind=Endpoint("127.0.0.1", 0, ("emap",)),
        t_prompt=2.0,
        poll_freq=1.0,
        ack_timeout=0.3,
        ack_random_factor=1.0,
        max_retransmit=1,
        backoff_initial=0.3,
        backoff_cap=1.0,
        preallocated_ven_ids=("ven-pre-1",),
    )
    values.update(changes)
    return EmaConfig(**values)


@dataclass
class Upper:
    """The running EMA as seen by the test: base URI and control URI."""

    running: RunningEma
    client: CoapClient

    @property
    def base(self) -> str:
        return self.running.ready["upper"]

    async def post(self, resource: str, envelope, **options) -> CoapResponse:
        return await self.client.request(f"{self.base}/{resource}", payload=envelope, timeout=WAIT, **options)

    async def body(self, resource: str, envelope) -> dict:
        """POST and return the answer's envelope (asserting a 2.04 carrying a valid message)."""
        response = await self.post(resource, envelope)
        assert response.code == "2.04", (response.code, response.payload)
        assert response.message is not None, response.message_error
        return response.message.envelope

    async def stimulate(self, action: str, args: dict | None = None) -> dict:
        response = await self.client.request(
            f"{self.running.ready['control']}/stimulus/{action}", payload=json.dumps(args or {}), timeout=WAIT
        )
        assert response.code == "2.04"
        return json.loads(response.payload)

    async def register(self, *, pull: bool = True, request_id: str | None = None, **kw) -> dict:
        """Create a registration; returns the `emapCreatedPartyRegistration` body."""
        request_id = request_id or f"c-{time.monotonic_ns()}"
        answer = await self.body(
            "EiRegisterParty", build.create_party_registration(request_id, pull=pull, **kw)
        )
        body = answer["emapCreatedPartyRegistration"]
        assert body["eiResponse"]["responseCode"] == "200", body
        return body

    async def poll(self, ven_id: str) -> dict:
        return await self.body("EmapPoll", build.poll(ven_id))

    async def registered_pull(self) -> str:
        """A pull-mode lower EMA that fetched and acknowledged U's metadata: its venID."""
        ven_id = (await self.register())["venID"]
        metadata = (await self.poll(ven_id))["emapRegisterReport"]
        ack = await self.body("EiReport", build.registered_report(metadata["requestID"], ven_id))
        assert ack["emapResponse"]["eiResponse"]["responseCode"] == "200"
        return ven_id


def code_of(envelope: dict) -> str:
    """The top-level responseCode of a response envelope."""
    name, body = next(iter(envelope.items()))
    if name == "emapCreatedEvent":
        return body["eiCreatedEvent"]["eiResponse"]["responseCode"]
    return body["eiResponse"]["responseCode"]


async def eventually(check, timeout: float = WAIT, step: float = 0.05):
    """Poll ``check()`` (sync or async) until it returns a truthy value; bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)
