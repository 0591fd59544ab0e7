"""Fuzzing the sample lower EMA in-process from a reference UpperPeer, push and pull, with small budgets; a lower EMA
that crashes on one field value is found and shrunk."""

from __future__ import annotations

import pytest

from conformance.ema import main as ema_main
from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.lower import LowerEma
from conformance.ema.main import RunningEma
from conformance.ema.role import SingleRoleAgent
from conformance.fuzz import strategies
from conformance.fuzz.lowertarget import LowerBounds, LowerTarget
from conformance.fuzz.runner import DEFAULT_EXAMPLES, Budget, fuzz
from conformance.fuzz.stats import TargetStats
from conformance.peer.upper import UpperPeer
from conformance.profiles import load_profile
from conformance.transport.trace import Trace

FAST = dict(t_prompt=2.0, poll_freq=1.0, ack_timeout=0.3, ack_random_factor=1.0, max_retransmit=1,
            backoff_initial=0.5, backoff_cap=2.0)
SMALL = Budget(10, None, 0)
UINT16_LIMIT = 2 ** 16


class FragileLower(LowerEma):
    """The sample lower EMA with a 16-bit overflow on an event's ``modificationNumber``: it crashes (5.00)."""

    async def handle(self, resource, message, remote):
        if message.name == "emapDistributeEvent" and any(
                event["eiEvent"]["eventDescriptor"]["modificationNumber"] >= UINT16_LIMIT
                for event in message.body.get("emapEvent", [])):
            raise OverflowError("modificationNumber does not fit a 16-bit unsigned integer")
        return await super().handle(resource, message, remote)


async def _lower_target(mode: str, lower_class=LowerEma, monkeypatch=None):
    timing = load_profile(f"lower-{mode}").timing
    peer = UpperPeer(trace=Trace("TC-F-test"), timing=timing, poll_freq_s=1)
    await peer.serve_at(("127.0.0.1", 0))
    if monkeypatch is not None:
        monkeypatch.setattr(ema_main, "build_agent", lambda config: SingleRoleAgent(lower_class(config),
                                                                                    config.lower_endpoint.path))
    config = EmaConfig(role="lower", mode=mode, bind=Endpoint("127.0.0.1", 0, ("emap",)),
                       lower_bind=Endpoint("127.0.0.1", 0, ("emapl",)), upper=peer.base_uri,
                       control=Endpoint("127.0.0.1", 0), **FAST)
    ema = RunningEma(config)
    await ema.start()
    prompt = timing.t_prompt_s + timing.tolerance_s
    exchange = timing.max_transmit_wait + timing.tolerance_s

    async def settled() -> None:
        assert await peer.wait_for(lambda: peer.registered and peer.bootstrapped and not peer.queue,
                                   3 * prompt + exchange), "the sample lower EMA did not register"

    async def reregister() -> None:
        status, detail = await ema.agent.stimulate("create-registration", {})
        assert status == "accepted", detail
        await settled()

    await settled()
    bounds = LowerBounds(poll=2 + prompt, answer=prompt + exchange, exchange=exchange,
                         silence=timing.ack_timeout_s, hold=timing.ack_timeout_s)
    target = LowerTarget(peer, reregister=reregister, bounds=bounds, max_payload=65536)
    await target.start()
    return target, ema


async def _stop(target: LowerTarget, ema: RunningEma) -> None:
    await target.stop()
    await ema.stop()
    await target.peer.stop()


@pytest.mark.parametrize("strategy", [
    strategies.message_cases("emapCancelPartyRegistration", "L"),
    strategies.message_cases("emapDistributeEvent", "L"),
    strategies.state_cases("L"),
    strategies.coap_cases("options"),
], ids=["cancel-registration", "distribute-event", "state", "coap-options"])
async def test_sample_lower_push_survives(strategy):
    target, ema = await _lower_target("push")
    try:
        stats = TargetStats("t")
        finding = await fuzz(strategy, target, SMALL, stats, timeout=30)
    finally:
        await _stop(target, ema)
    assert finding is None, finding.problem
    assert stats.examples >= SMALL.examples


async def test_sample_lower_pull_survives_poll_replies():
    target, ema = await _lower_target("pull")
    try:
        stats = TargetStats("t")
        finding = await fuzz(strategies.poll_reply_cases(), target, Budget(8, None, 0), stats, timeout=30)
    finally:
        await _stop(target, ema)
    assert finding is None, finding.problem
    assert stats.examples >= 8 and stats.answers


async def test_fragile_lower_found_and_shrunk(monkeypatch):
    target, ema = await _lower_target("push", FragileLower, monkeypatch)
    try:
        stats = TargetStats("fragile")
        finding = await fuzz(strategies.message_cases("emapDistributeEvent", "L"), target,
                             Budget(DEFAULT_EXAMPLES, None, 0), stats, timeout=30)
    finally:
        await _stop(target, ema)
    assert finding is not None, f"not found in {stats.examples} cases"
    assert "5.00" in finding.problem
    events = finding.case.envelope["emapDistributeEvent"]["emapEvent"]
    numbers = [e["eiEvent"]["eventDescriptor"]["modificationNumber"] for e in events]
    # shrunk: the crashing value itself, any other event at its minimum (the sample lower EMA keeps the events of
    # earlier cases, so the shrinker may keep one that is harmless)
    assert numbers.count(UINT16_LIMIT) == 1 and set(numbers) <= {0, UINT16_LIMIT}, numbers
