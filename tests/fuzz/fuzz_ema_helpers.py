"""Helpers of the fuzz tests: the in-process sample upper or lower EMA (or a variant) and a fuzz target against
it."""

from __future__ import annotations

import contextlib

from conformance.ema import main as ema_main
from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.lower import LowerEma
from conformance.ema.main import RunningEma, config_from_args
from conformance.ema.role import SingleRoleAgent
from conformance.fuzz.lowertarget import LowerBounds, LowerTarget
from conformance.fuzz.target import UpperTarget
from conformance.peer import LowerPeer
from conformance.peer.upper import UpperPeer
from conformance.profiles import load_profile
from conformance.transport.trace import Trace

EMA_ARGS = ["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--control", "coap://127.0.0.1:0",
            "--t-prompt", "2", "--poll-freq", "1", "--ack-timeout", "0.5", "--max-retransmit", "2"]
FAST = dict(t_prompt=2.0, poll_freq=1.0, ack_timeout=0.3, ack_random_factor=1.0, max_retransmit=1,
            backoff_initial=0.5, backoff_cap=2.0)


async def started_target(ema: RunningEma, timing) -> UpperTarget:
    """Start ``ema`` and a fuzz target (its own registered lower EMA) against it."""
    ready = await ema.start()
    peer = LowerPeer(trace=Trace("TC-F-test"), timing=timing, iut_uri=ready["upper"], name="fuzz")
    target = UpperTarget(peer, max_payload=65536, silence_s=0.2)
    await target.start()
    return target


async def stop_target(target: UpperTarget, ema: RunningEma) -> None:
    await target.stop()
    await target.peer.stop()
    await ema.stop()


@contextlib.asynccontextmanager
async def upper_target(timing, upper_class=None, monkeypatch=None):
    """A fuzz target against a fresh in-process sample upper EMA (``upper_class``: a deliberately broken
    variant)."""
    if upper_class is not None:
        monkeypatch.setattr(ema_main, "build_agent", lambda config: SingleRoleAgent(upper_class(config),
                                                                                    config.bind.path))
    ema = RunningEma(config_from_args(EMA_ARGS))
    target = await started_target(ema, timing)
    try:
        yield target
    finally:
        await stop_target(target, ema)


async def started_lower_target(mode: str, lower_class=LowerEma, monkeypatch=None) -> tuple[LowerTarget, RunningEma]:
    """An in-process sample lower EMA (``lower_class``: a variant) registered with a reference upper peer in
    ``mode``, and a started fuzz target against it."""
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


async def stop_lower_target(target: LowerTarget, ema: RunningEma) -> None:
    await target.stop()
    await ema.stop()
    await target.peer.stop()
