"""Benchmark 3 (community load) and the sample-EMA benchmark: the sample upper EMA with N registered pull-mode
lower EMAs, against a bare aiocoap echo server measured in the same run.

For each N (default 100, 1000, 5000): start the sample upper EMA in its own process, register N simulated
pull-mode lower EMAs (the full bootstrap of EMAP-6.2.3-12, every answer checked), read the EMA's memory per
registered lower EMA, then drive polls for a fixed time with a fixed window of exchanges in flight, round
robin over the N lower EMAs (each from its own socket); then the same polls, from N fresh sockets, against the
echo server. Printed: poll exchanges/s of both and their ratio (target >= 0.6), the ratio of their CPU time
per poll and each server's share of a core (when a server is below one core, the driver or the machine limited
the rate, and the CPU ratio is the capacity ratio), KiB per registered lower EMA in the EMA (target <= 20),
KiB per simulated lower EMA in the simulator, and violations seen.

The poll phase sends polls as fast as the window allows (a capacity measurement): a lower EMA then polls more
often than emapRequestedPollFreq, which the load command never does.

    python benchmarks/community_load.py [--sizes 100 1000 5000] [--seconds 10] [--window 64]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import random
import sys
import time
import tracemalloc

from support import ECHO_SERVER, SAMPLE_UPPER, emit, server_process, verdict

from conformance.load.checks import Checker
from conformance.load.plan import resolve_target
from conformance.load.simulated import Shared, SimulatedLower
from conformance.load.stats import LoadStats
from conformance.messages import build as B
from conformance.messages import encode
from conformance.profiles.model import Timing

TIMING = Timing(t_prompt_s=10, ack_timeout_s=2, max_retransmit=4)


def shared_for(uri: str, window: int) -> Shared:
    host, port, path = resolve_target(uri)
    return Shared(
        target=(host, port),
        base_path=path,
        timing=TIMING,
        checker=Checker(),
        stats=LoadStats(),
        inflight=asyncio.Semaphore(window),
        stop=asyncio.Event(),
        rates={"opt": 0.0, "report": 0.0, "event": 0.0},
    )


async def population(shared: Shared, count: int, *, full_checks: int) -> tuple[list[SimulatedLower], float]:
    """``count`` pull-mode simulated lower EMAs with open sockets; and their memory, KiB each
    (tracemalloc)."""
    rng = random.Random(7)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    members = [
        SimulatedLower(
            i,
            shared,
            pull=True,
            full_check=i < full_checks,
            rng=random.Random(rng.getrandbits(64)),
            run_tag="b",
        )
        for i in range(count)
    ]
    for member in members:
        await member.start()
    per_member = (tracemalloc.get_traced_memory()[0] - before) / 1024 / count
    tracemalloc.stop()
    return members, per_member


async def bounded(coros, limit: int) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def poll_phase(members: list[SimulatedLower], seconds: float, window: int) -> int:
    """Polls, round robin, ``window`` in flight, for ``seconds``; the number of completed poll exchanges."""
    order = itertools.cycle(members)
    deadline = time.monotonic() + seconds
    done = 0

    async def worker():
        nonlocal done
        while time.monotonic() < deadline:
            member = next(order)
            await member.poll()
            done += 1

    await asyncio.gather(*(worker() for _ in range(window)))
    return done


async def measure(count: int, seconds: float, window: int) -> dict:
    async with server_process(SAMPLE_UPPER, str(count), "1") as ema:
        shared = shared_for(ema.uri, window)
        members, sim_kib = await population(shared, count, full_checks=min(count, 50))
        rss_before = ema.rss_kib()
        started = time.monotonic()
        joined = await bounded([m.join() for m in members], window)
        register_s = time.monotonic() - started
        await asyncio.sleep(0.5)
        ema_kib = (ema.rss_kib() - rss_before) / max(1, sum(joined))
        cpu_before = ema.cpu_s()
        polls = await poll_phase([m for m, ok in zip(members, joined, strict=True) if ok], seconds, window)
        ema_cpu_ms = (ema.cpu_s() - cpu_before) * 1000 / max(1, polls)
        for member in members:
            await member.stop()
        checker = shared.checker.summary()
    r0 = encode(B.response("", "200", members[0].ven_id or "ven-0"))
    async with server_process(ECHO_SERVER, r0.decode()) as echo:
        echo_shared = shared_for(echo.uri, window)
        twins, _ = await population(echo_shared, count, full_checks=0)
        for twin, member in zip(twins, members, strict=True):
            twin.ven_id = member.ven_id or "ven-0"
        cpu_before = echo.cpu_s()
        echo_polls = await poll_phase(twins, seconds, window)
        echo_cpu_ms = (echo.cpu_s() - cpu_before) * 1000 / max(1, echo_polls)
        for twin in twins:
            await twin.stop()
    ema_rate, echo_rate = polls / seconds, echo_polls / seconds
    return {
        "lower_emas": count,
        "registered": sum(joined),
        "register_s": round(register_s, 2),
        "ema_polls_per_s": round(ema_rate, 1),
        "echo_polls_per_s": round(echo_rate, 1),
        "ratio": round(ema_rate / echo_rate, 3) if echo_rate else None,
        "cpu_ratio": round(echo_cpu_ms / ema_cpu_ms, 3) if ema_cpu_ms else None,
        "ema_core_use": round(ema_cpu_ms * polls / 1000 / seconds, 2),
        "echo_core_use": round(echo_cpu_ms * echo_polls / 1000 / seconds, 2),
        "ema_kib_per_lower": round(ema_kib, 2),
        "simulator_kib_per_lower": round(sim_kib, 2),
        "ema_cpu_ms_per_poll": round(ema_cpu_ms, 3),
        "echo_cpu_ms_per_poll": round(echo_cpu_ms, 3),
        "violations": checker["total"],
        "violations_by_requirement": checker["by_requirement"],
    }


async def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    p.add_argument("--seconds", type=float, default=10.0, help="length of each poll phase (default 10)")
    p.add_argument("--window", type=int, default=64, help="poll exchanges in flight (default 64)")
    ns = p.parse_args(argv)
    rows = []
    for count in ns.sizes:
        row = await measure(count, ns.seconds, ns.window)
        rows.append(row)
        emit(f"community-load N={count}", row)
    at_1000 = next((r for r in rows if r["lower_emas"] == 1000), rows[-1])
    emit(
        "community-load summary",
        {
            "ratio_at_N": f"{at_1000['ratio']} at N={at_1000['lower_emas']} ("
            f"{verdict(at_1000['ratio'] or 0, 0.6, at_least=True)})",
            "cpu_ratio_at_N": f"{at_1000['cpu_ratio']} (echo CPU / EMA CPU per poll; "
            f"{verdict(at_1000['cpu_ratio'] or 0, 0.6, at_least=True)})",
            "ema_kib_per_lower_at_N": f"{at_1000['ema_kib_per_lower']} ("
            f"{verdict(at_1000['ema_kib_per_lower'], 20, at_least=False)})",
            "growth": {
                r["lower_emas"]: {
                    "ratio": r["ratio"],
                    "cpu_ratio": r["cpu_ratio"],
                    "ema_kib_per_lower": r["ema_kib_per_lower"],
                    "ema_polls_per_s": r["ema_polls_per_s"],
                }
                for r in rows
            },
        },
    )
    return 1 if any(r["violations"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
