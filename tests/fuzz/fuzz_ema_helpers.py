"""Helpers of the fuzz tests: the in-process sample upper EMA and a fuzz target against it."""

from __future__ import annotations

import contextlib

from conformance.ema import main as ema_main
from conformance.ema.main import RunningEma, config_from_args
from conformance.ema.role import SingleRoleAgent
from conformance.fuzz.target import UpperTarget
from conformance.peer import LowerPeer
from conformance.transport.trace import Trace

EMA_ARGS = ["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--control", "coap://127.0.0.1:0",
            "--t-prompt", "2", "--poll-freq", "1", "--ack-timeout", "0.5", "--max-retransmit", "2"]


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
async def variant_target(monkeypatch, timing, upper_class):
    """A fuzz target against an in-process sample upper EMA whose agent is ``upper_class`` (a deliberately
    broken variant)."""
    monkeypatch.setattr(ema_main, "build_agent", lambda config: SingleRoleAgent(upper_class(config),
                                                                                config.bind.path))
    ema = RunningEma(config_from_args(EMA_ARGS))
    target = await started_target(ema, timing)
    try:
        yield target
    finally:
        await stop_target(target, ema)
