"""Benchmark 3 (community load) and the sample-EMA benchmark: the sample upper EMA with N registered pull-mode
lower EMAs, against a bare aiocoap echo server measured in the same run.

For each N (default 100, 1000, 5000): start the sample upper EMA in its own process, register N simulated
pull-mode lower EMAs (the full bootstrap of EMAP-6.2.3-12, every answer checked) and measure its memory (below),
then drive polls for a fixed time with a fixed window of exchanges in flight, round robin over the N lower EMAs
(each from its own socket); then the same polls, from N fresh sockets, against the echo server. Printed: poll
exchanges/s of both and their `ratio` (target >= 0.6), `cpu_ratio` (echo CPU / EMA CPU per poll) and each
server's share of a core (when a server is below one core, the driver or the machine limited the rate, and the
CPU ratio is the capacity ratio), the memory figures, KiB per simulated lower EMA in the simulator, violations.

Memory, per registered lower EMA (the EMA process answers queries on stdin, see `support.SAMPLE_UPPER`):
- `ema_state_kib_per_lower`: the Python heap (tracemalloc) the EMA still holds for a registration once its
  per-message stores are expired: link state (Table 6.2-1), outstanding requests, L's metadata, bounded caches
  (validation verdicts, remote names). This is the figure compared with the 20 KiB target.
- `ema_heap_kib_per_lower`: all heap growth right after registering = state + `ema_transient_kib_per_lower`,
  what the per-message stores hold: aiocoap's duplicate detection (each request's message ID with the response,
  RFC 7252 section 4.5) and the EMAP-7.1.5-07 repeat cache, kept EXCHANGE_LIFETIME (247 s), and the Block2
  store, kept MAX_TRANSMIT_WAIT. The stores are expired early by dropping them as the lifetime would.
- `ema_rss_kib_per_lower`: RSS growth right after registering the first half of the lower EMAs (no tracemalloc
  running): everything, stores included, with allocator overhead. The heap figures come from the second half.
- `kib_per_stored_poll_exchange`: what one poll exchange holds in the duplicate-detection store until
  EXCHANGE_LIFETIME; `ema_kib_per_lower_polling_every_10s` = state + (247 s / 10 s) of them: the memory per
  lower EMA that polls at the default emapRequestedPollFreq, in steady operation. `heap_kept_kib_per_poll`:
  heap a poll leaves behind once the stores are expired (a leak check: about 0).

The poll phase sends polls as fast as the window allows (a capacity measurement): a lower EMA then polls more
often than emapRequestedPollFreq, which the load command never does. Tracemalloc slows the second half of the
registrations (`register_s`), not the poll phase.

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
from conformance.transport.params import TransmissionParams

TIMING = Timing(t_prompt_s=10, ack_timeout_s=2, max_retransmit=4)

#: EXCHANGE_LIFETIME of the sample EMA started by SAMPLE_UPPER (default CoAP transmission parameters).
EXCHANGE_LIFETIME_S = TransmissionParams().exchange_lifetime


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
        half = max(1, count // 2)
        started = time.monotonic()
        rss_before = ema.rss_kib()  # first half: RSS, nothing else running in the EMA
        joined = await bounded([m.join() for m in members[:half]], window)
        await asyncio.sleep(0.5)
        rss_kib = (ema.rss_kib() - rss_before) / max(1, sum(joined))
        first = await ema.ask("stores")
        await ema.ask("trace")  # second half: the Python heap, split into registration state and stores
        joined += await bounded([m.join() for m in members[half:]], window)
        register_s = time.monotonic() - started
        await asyncio.sleep(0.5)
        memory = await ema.ask("memory")  # also expires the per-message stores and stops tracemalloc
        traced = max(1, sum(joined[half:]))
        registered = [m for m, ok in zip(members, joined, strict=True) if ok]
        await ema.ask("trace")  # one poll of each lower EMA: what one stored poll exchange holds
        before = await ema.ask("stores")
        await bounded([m.poll() for m in registered], window)
        polled = await ema.ask("memory")
        poll_exchange_kib = polled["transient_kib"] / max(
            1, polled["duplicate_detection_entries"] - before["duplicate_detection_entries"]
        )
        cpu_before = ema.cpu_s()
        polls = await poll_phase(registered, seconds, window)
        ema_cpu_ms = (ema.cpu_s() - cpu_before) * 1000 / max(1, polls)
        after_polls = await ema.ask("stores")
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
    state_kib = memory["steady_kib"] / traced
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
        "ema_cpu_ms_per_poll": round(ema_cpu_ms, 3),
        "echo_cpu_ms_per_poll": round(echo_cpu_ms, 3),
        "ema_state_kib_per_lower": round(state_kib, 2),
        "ema_rss_kib_per_lower": round(rss_kib, 2),
        "ema_heap_kib_per_lower": round(memory["heap_kib"] / traced, 2),
        "ema_transient_kib_per_lower": round(memory["transient_kib"] / traced, 2),
        "stored_exchanges_per_registration": round(
            (memory["duplicate_detection_entries"] - first["duplicate_detection_entries"]) / traced, 2
        ),
        "repeat_cache_answers_per_registration": round(
            (memory["repeat_cache_entries"] - first["repeat_cache_entries"]) / traced, 2
        ),
        "kib_per_stored_poll_exchange": round(poll_exchange_kib, 2),
        "heap_kept_kib_per_poll": round(polled["steady_kib"] / max(1, len(registered)), 3),
        "stored_exchanges_after_poll_phase": after_polls["duplicate_detection_entries"],
        "ema_kib_per_lower_polling_every_10s": round(state_kib + EXCHANGE_LIFETIME_S / 10 * poll_exchange_kib, 2),
        "simulator_kib_per_lower": round(sim_kib, 2),
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
            "ema_state_kib_per_lower_at_N": f"{at_1000['ema_state_kib_per_lower']} (registration state; "
            f"{verdict(at_1000['ema_state_kib_per_lower'], 20, at_least=False)})",
            "ema_rss_kib_per_lower_at_N": f"{at_1000['ema_rss_kib_per_lower']} (RSS right after registering, "
            f"per-message stores included)",
            "ema_kib_per_lower_polling_every_10s_at_N": at_1000["ema_kib_per_lower_polling_every_10s"],
            "growth": {
                r["lower_emas"]: {
                    "ratio": r["ratio"],
                    "cpu_ratio": r["cpu_ratio"],
                    "ema_polls_per_s": r["ema_polls_per_s"],
                    "ema_state_kib_per_lower": r["ema_state_kib_per_lower"],
                    "ema_rss_kib_per_lower": r["ema_rss_kib_per_lower"],
                    "ema_transient_kib_per_lower": r["ema_transient_kib_per_lower"],
                }
                for r in rows
            },
        },
    )
    return 1 if any(r["violations"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
