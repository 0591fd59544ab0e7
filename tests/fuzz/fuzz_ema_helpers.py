"""Helpers of the fuzz tests: the in-process sample upper EMA and a fuzz target against it."""

from __future__ import annotations

from conformance.ema.main import RunningEma
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
