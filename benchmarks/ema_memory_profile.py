"""Where the sample upper EMA's memory per registered lower EMA goes (a diagnostic next to community_load.py).

Runs the sample upper EMA in this process, registers N simulated pull-mode lower EMAs (full bootstrap), and
prints the Python heap growth per lower EMA from tracemalloc, by file and by line: first all of it, then what
stays once the per-message stores are expired (`support.expire_exchange_stores`: aiocoap's duplicate
detection, the EMAP-7.1.5-07 repeat cache and the block-wise stores), i.e. the registration state. The
simulated lower EMAs are created before the first snapshot and keep nothing of the answers, so the growth is
the EMA's.

    python benchmarks/ema_memory_profile.py [N]
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import sys
import tracemalloc

from community_load import bounded, population, shared_for
from support import expire_exchange_stores

from conformance.ema.main import RunningEma, config_from_args


async def main(count: int) -> None:
    config = config_from_args(
        [
            "--role",
            "upper",
            "--bind",
            "coap://127.0.0.1:0/emap",
            "--control",
            "coap://127.0.0.1:0",
            "--poll-freq",
            "1",
            "--log-level",
            "ERROR",
        ]
    )
    ema = RunningEma(dataclasses.replace(config, registrations_limit=count))
    ready = await ema.start()
    try:
        shared = shared_for(ready["upper"], 64)
        members, _ = await population(shared, count, full_checks=0)
        gc.collect()
        tracemalloc.start(4)
        before = tracemalloc.take_snapshot()
        joined = await bounded([member.join() for member in members], 64)
        for member in members:
            await member.stop()
        gc.collect()
        after = tracemalloc.take_snapshot()
        stores = expire_exchange_stores(ema)
        await asyncio.sleep(0)  # the event loop discards the cancelled timers
        gc.collect()
        steady = tracemalloc.take_snapshot()
        tracemalloc.stop()
    finally:
        await ema.stop()
    print(f"registered {sum(joined)} of {count}; per-message stores held {stores}")
    for title, snapshot in (("all", after), ("registration state (stores expired)", steady)):
        total = sum(stat.size_diff for stat in snapshot.compare_to(before, "filename"))
        print(f"== {title}: heap growth {total / 1024 / count:.2f} KiB per lower EMA")
        for key, top in (("filename", 10), ("lineno", 15)):
            print(f"-- by {key}")
            for stat in snapshot.compare_to(before, key)[:top]:
                print(f"{stat.size_diff / 1024 / count:8.2f} KiB  {stat.traceback}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
