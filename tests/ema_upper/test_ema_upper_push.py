"""Sample upper EMA towards push-mode lower EMAs: POSTs to emapTransportAddress (EMAP-7.1.2-02), one at a
time, re-sent after failures (EMAP-7.1.5-05, -06, -08)."""

from __future__ import annotations

import asyncio
import json
import time

from ema_upper_peer import eventually

from conformance.messages import build, validate
from conformance.transport.server import CoapReply, CoapServer


class PushLower:
    """A scripted push-mode lower EMA: records every request, answers each with its response message."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str, dict]] = []
        self.ven_id = ""
        self.unavailable = 0

    async def handler(self, request):
        message = validate(request.payload)
        self.received.append((time.monotonic(), "/".join(request.path), message.envelope))
        if self.unavailable:
            self.unavailable -= 1
            return CoapReply(code="5.03", max_age=1)
        body, rid = message.body, message.request_id
        if message.name == "emapRegisterReport":
            envelope = build.registered_report(rid, self.ven_id)
        elif message.name == "emapDistributeEvent":
            envelope = build.created_event(
                rid,
                self.ven_id,
                [
                    build.event_response(
                        rid,
                        e["eiEvent"]["eventDescriptor"]["eventID"],
                        e["eiEvent"]["eventDescriptor"]["modificationNumber"],
                    )
                    for e in body["emapEvent"]
                ],
            )
        else:
            envelope = build.canceled_party_registration(rid, body["registrationID"], self.ven_id)
        return CoapReply(payload=json.dumps(envelope).encode(), content_format=50)

    def names(self) -> list[str]:
        return [next(iter(envelope)) for _, _, envelope in self.received]


async def test_push_delivery_in_order(upper):
    lower = PushLower()
    server = await CoapServer.start(lower.handler)
    try:
        address = f"coap://127.0.0.1:{server.address[1]}/emapl"
        created = await upper.register(pull=False, transport_address=address)
        lower.ven_id = created["venID"]
        await eventually(lambda: lower.names() == ["emapRegisterReport"])
        assert lower.received[0][1] == "emapl/EiReport"
        await upper.stimulate("create-event", {"eventID": "ev-1"})
        await upper.stimulate("create-event", {"eventID": "ev-2"})
        await eventually(lambda: "emapDistributeEvent" in lower.names())
        role = upper.running.agent.role
        link = role.registry.by_ven(lower.ven_id)
        await eventually(lambda: link.decisions == {"ev-1": "optIn", "ev-2": "optIn"})  # EMAP-A-07
        lower.unavailable = 1
        await upper.stimulate("cancel-registration", {})
        await eventually(lambda: lower.names()[-2:] == ["emapCancelPartyRegistration"] * 2, timeout=5)
        (t1, _, first), (t2, _, second) = lower.received[-2:]
        assert first == second and t2 - t1 >= 0.9  # identical re-send after Max-Age (EMAP-7.1.5-08)
        await eventually(lambda: role.registry.by_ven(lower.ven_id) is None)
    finally:
        await server.stop()


async def test_failed_exchange_is_resent_after_backoff(upper):
    lower = PushLower()
    probe = await CoapServer.start(lower.handler)
    port = probe.address[1]
    await probe.stop()  # nobody listens: the first POSTs fail (ICMP port unreachable)
    created = await upper.register(pull=False, transport_address=f"coap://127.0.0.1:{port}/emapl")
    lower.ven_id = created["venID"]
    await asyncio.sleep(0.5)
    server = await CoapServer.start(lower.handler, bind=("127.0.0.1", port))
    try:
        await eventually(lambda: lower.names() == ["emapRegisterReport"])
    finally:
        await server.stop()
