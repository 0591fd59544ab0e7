"""A deliberately fragile upper EMA (crashes on replyLimit >= 2**31) is found and shrunk within the default budget."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import EMA_ARGS, started_target, stop_target

from conformance.ema import main as ema_main
from conformance.ema.main import RunningEma, config_from_args
from conformance.ema.role import SingleRoleAgent
from conformance.ema.upper import UpperEma
from conformance.fuzz import strategies
from conformance.fuzz.runner import Budget, fuzz
from conformance.fuzz.stats import TargetStats
from conformance.plugin.options import DEFAULT_FUZZ_EXAMPLES

INT32_LIMIT = 2 ** 31


class FragileUpper(UpperEma):
    """The sample upper EMA with an int32 overflow on ``replyLimit`` (a crash: the front door answers 5.00)."""

    async def handle(self, resource, message, remote):
        if message.name == "emapRequestEvent" and message.body["eiRequestEvent"].get("replyLimit", 0) >= INT32_LIMIT:
            raise OverflowError("replyLimit does not fit a 32-bit signed integer")
        return await super().handle(resource, message, remote)


@pytest.fixture
async def fragile_target(monkeypatch, timing):
    monkeypatch.setattr(ema_main, "build_agent", lambda config: SingleRoleAgent(FragileUpper(config),
                                                                                config.bind.path))
    ema = RunningEma(config_from_args(EMA_ARGS))
    target = await started_target(ema, timing)
    try:
        yield target
    finally:
        await stop_target(target, ema)


@pytest.mark.parametrize("seed", range(10))
async def test_fragile_variant_found_and_shrunk(fragile_target, seed):
    stats = TargetStats("fragile")
    finding = await fuzz(strategies.message_cases("emapRequestEvent"), fragile_target,
                         Budget(DEFAULT_FUZZ_EXAMPLES, None, seed), stats, timeout=30)
    assert finding is not None, f"not found in {stats.examples} cases"
    assert "5.00" in finding.problem
    body = finding.case.envelope["emapRequestEvent"]["eiRequestEvent"]
    assert body["replyLimit"] == INT32_LIMIT  # shrunk to the smallest crashing value
    assert finding.case.mutation is None and finding.case.resource == "EiEvent"
