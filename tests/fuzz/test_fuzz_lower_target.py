"""Fuzzing the sample lower EMA in-process from a reference UpperPeer, push and pull, with small budgets; a lower EMA
that crashes on one field value is found and shrunk."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import started_lower_target, stop_lower_target

from conformance.ema.lower import LowerEma
from conformance.fuzz import strategies
from conformance.fuzz.runner import DEFAULT_EXAMPLES, Budget, fuzz
from conformance.fuzz.stats import TargetStats

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


@pytest.mark.parametrize("strategy", [
    strategies.message_cases("emapCancelPartyRegistration", "L"),
    strategies.message_cases("emapDistributeEvent", "L"),
    strategies.state_cases("L"),
    strategies.coap_cases("options"),
], ids=["cancel-registration", "distribute-event", "state", "coap-options"])
async def test_sample_lower_push_survives(strategy):
    target, ema = await started_lower_target("push")
    try:
        stats = TargetStats("t")
        finding = await fuzz(strategy, target, SMALL, stats, timeout=30)
    finally:
        await stop_lower_target(target, ema)
    assert finding is None, finding.problem
    assert stats.examples >= SMALL.examples


async def test_sample_lower_pull_survives_poll_replies():
    target, ema = await started_lower_target("pull")
    try:
        stats = TargetStats("t")
        finding = await fuzz(strategies.poll_reply_cases(), target, Budget(8, None, 0), stats, timeout=30)
    finally:
        await stop_lower_target(target, ema)
    assert finding is None, finding.problem
    assert stats.examples >= 8 and stats.answers


async def test_fragile_lower_found_and_shrunk(monkeypatch):
    target, ema = await started_lower_target("push", FragileLower, monkeypatch)
    try:
        stats = TargetStats("fragile")
        finding = await fuzz(strategies.message_cases("emapDistributeEvent", "L"), target,
                             Budget(DEFAULT_EXAMPLES, None, 0), stats, timeout=30)
    finally:
        await stop_lower_target(target, ema)
    assert finding is not None, f"not found in {stats.examples} cases"
    assert "5.00" in finding.problem
    events = finding.case.envelope["emapDistributeEvent"]["emapEvent"]
    numbers = [e["eiEvent"]["eventDescriptor"]["modificationNumber"] for e in events]
    # shrunk: the crashing value itself, any other event at its minimum (the sample lower EMA keeps the events of
    # earlier cases, so the shrinker may keep one that is harmless)
    assert numbers.count(UINT16_LIMIT) == 1 and set(numbers) <= {0, UINT16_LIMIT}, numbers
