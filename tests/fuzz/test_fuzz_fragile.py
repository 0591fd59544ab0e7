"""A deliberately fragile upper EMA (crashes on a replyLimit above 65535) is found and shrunk within the default
budget, for each of ten seeds."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import upper_target

from conformance.ema.upper import UpperEma
from conformance.fuzz import strategies
from conformance.fuzz.runner import DEFAULT_EXAMPLES, Budget, fuzz
from conformance.fuzz.stats import TargetStats

UINT16_LIMIT = 2 ** 16


class FragileUpper(UpperEma):
    """The sample upper EMA with a 16-bit overflow on ``replyLimit`` (a crash: the front door answers 5.00)."""

    async def handle(self, resource, message, remote):
        if message.name == "emapRequestEvent" and message.body["eiRequestEvent"].get("replyLimit", 0) >= UINT16_LIMIT:
            raise OverflowError("replyLimit does not fit a 16-bit unsigned integer")
        return await super().handle(resource, message, remote)


@pytest.fixture
async def fragile_target(monkeypatch, timing):
    async with upper_target(timing, FragileUpper, monkeypatch) as target:
        yield target


@pytest.mark.parametrize("seed", range(10))
async def test_fragile_variant_found_and_shrunk(fragile_target, seed):
    stats = TargetStats("fragile")
    finding = await fuzz(strategies.message_cases("emapRequestEvent"), fragile_target,
                         Budget(DEFAULT_EXAMPLES, None, seed), stats, timeout=30)
    assert finding is not None, f"not found in {stats.examples} cases"
    assert "5.00" in finding.problem
    body = finding.case.envelope["emapRequestEvent"]["eiRequestEvent"]
    assert body["replyLimit"] == UINT16_LIMIT  # shrunk to the smallest crashing value
    assert finding.case.mutation is None and finding.case.resource == "EiEvent"
