"""The sample lower EMA against the sample upper EMA, both in pull and push mode, and the sample intermediate EMA
between them: registration, an event and its answer, an opt, reports, re-registration and cancel complete."""

from __future__ import annotations

import pytest
from ema_lower_upper_script import until

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.main import RunningEma

FAST = dict(t_prompt=2.0, poll_freq=1.0, ack_timeout=0.3, ack_random_factor=1.0, max_retransmit=1,
            backoff_initial=0.5, backoff_cap=2.0)


def _config(role: str, upper: str | None = None, mode: str = "pull") -> EmaConfig:
    return EmaConfig(role=role, mode=mode, bind=Endpoint("127.0.0.1", 0, ("emap",)),
                     lower_bind=Endpoint("127.0.0.1", 0, ("emapl",)) if role == "lower" else None, upper=upper,
                     control=Endpoint("127.0.0.1", 0), vtn_id=f"vtn-{role}", **FAST)


async def _started(config: EmaConfig, stack: list[RunningEma]) -> RunningEma:
    running = RunningEma(config)
    await running.start()
    stack.append(running)
    return running


async def _stop(stack: list[RunningEma]) -> None:
    for running in reversed(stack):
        await running.stop()


@pytest.mark.parametrize("mode", ["pull", "push"])
async def test_lower_with_sample_upper(mode):
    stack: list[RunningEma] = []
    try:
        upper = await _started(_config("upper"), stack)
        lower = await _started(_config("lower", upper.ready["upper"], mode), stack)
        role = lower.agent.role
        await until(lambda: role.link is not None and role.link.pull == (mode == "pull"), what="registration")
        assert role.link.vtn_id == "vtn-upper"
        status, detail = await upper.agent.stimulate("create-event", {"eventID": "ev-1"})
        assert status == "accepted", detail
        await until(lambda: "ev-1" in role.events.records and role.events.records["ev-1"].answered,
                    what="the event answered")
        status, detail = await lower.agent.stimulate("create-opt", {"optID": "o-1", "optType": "optOut",
                                                                    "eventID": "ev-1"})
        assert status == "accepted", detail
        await until(lambda: "o-1" in role.opts, what="the opt accepted")
        status, detail = await upper.agent.stimulate("request-report", {"reportSpecifierID": "rs-status",
                                                                        "rIDs": ["status-1"]})
        assert status == "accepted", detail
        await until(lambda: role.reporter.used_ids, what="the report request")
        registration, count = role.link.registration_id, role.registrations
        status, detail = await upper.agent.stimulate("request-reregistration", {})
        assert status == "accepted", detail
        await until(lambda: role.registrations > count, what="re-registration")
        assert role.link.registration_id == registration and role.reporter.used_ids  # Table 6.2-2
        status, detail = await lower.agent.stimulate("cancel-registration", {})
        assert status == "accepted", detail
        await until(lambda: role.link is None, what="the cancel")
    finally:
        await _stop(stack)


async def test_intermediate_between_upper_and_lower():
    """EMAP-5-07/-08: one endpoint, two base paths; own vtnID downwards, assigned venID upwards."""
    stack: list[RunningEma] = []
    try:
        top = await _started(_config("upper"), stack)
        config = _config("intermediate", top.ready["upper"], "push")
        config.vtn_id = "vtn-middle"
        middle = await _started(config, stack)
        assert middle.ready["upper"].rsplit("/", 1)[0] == middle.ready["lower"].rsplit("/", 1)[0]
        bottom = await _started(_config("lower", middle.ready["upper"], "pull"), stack)
        as_lower, leaf = middle.agent.lower, bottom.agent.role
        await until(lambda: as_lower.link is not None and leaf.link is not None, what="both registrations")
        assert as_lower.link.vtn_id == "vtn-upper" and leaf.link.vtn_id == "vtn-middle"
        status, _ = await middle.agent.stimulate("cancel-registration", {})
        assert status == "error"
        status, _ = await middle.agent.stimulate("poll", {"role": "upper"})
        assert status == "unsupported"
        status, detail = await middle.agent.stimulate("create-event", {"eventID": "ev-m"})
        assert status == "accepted", detail
        await until(lambda: "ev-m" in leaf.events.records, what="the event at the leaf")
        status, detail = await middle.agent.stimulate("cancel-registration", {"role": "lower"})
        assert status == "accepted", detail
        await until(lambda: as_lower.link is None, what="the intermediate's cancel")
        assert leaf.link is not None
    finally:
        await _stop(stack)
