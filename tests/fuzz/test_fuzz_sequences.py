"""The procedure-sequence machine finds a registration bug of an EMA variant, shrinks it and replays it."""

from __future__ import annotations

import pytest
from fuzz_ema_helpers import upper_target

from conformance.ema.upper import UpperEma
from conformance.fuzz.machine import ProcedureModel, fuzz_sequences
from conformance.fuzz.runner import DEFAULT_EXAMPLES, Budget
from conformance.fuzz.stats import TargetStats


class ForgetfulUpper(UpperEma):
    """Answers a query of a registered lower EMA without its registrationID (breaks EMAP-6.2.2-05)."""

    async def handle(self, resource, message, remote):
        answer = await super().handle(resource, message, remote)
        if message.name == "emapQueryRegistration":
            answer["emapCreatedPartyRegistration"].pop("registrationID", None)
        return answer


@pytest.fixture
async def forgetful_target(monkeypatch, timing):
    async with upper_target(timing, ForgetfulUpper, monkeypatch) as target:
        yield target


async def test_registration_bug_found_shrunk_and_replayed(forgetful_target):
    model = ProcedureModel(forgetful_target.peer)
    found = await fuzz_sequences(model, Budget(DEFAULT_EXAMPLES, None, 0), TargetStats("seq"), timeout=30)
    assert found is not None
    finding, steps = found
    assert finding.problem.startswith("liveness: EMAP-6.2.2-05")
    assert [step["rule"] for step in steps] == ["register"]
    replayed = await ProcedureModel(forgetful_target.peer).replay(steps)
    assert replayed is not None and replayed.startswith("liveness: EMAP-6.2.2-05")
