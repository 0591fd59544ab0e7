"""Soak-fuzz an upper EMA (by default the bundled sample EMA, started as a subprocess) and measure the fuzzer.

    python benchmarks/fuzz_soak.py [--cases 100000] [--seed 0] [--batch 5000] [--plain 3000] [--iut URI]

First it measures plain exchanges/s (known-good emapQueryRegistration, one at a time, through the same peer and
tap as the fuzzer), then runs ``--cases`` fuzz cases in batches of ``--batch`` (one hypothesis run per batch,
seeded ``seed + batch number``): every message type valid and near-valid, the state rules, CoAP options, body
and framing changes, each followed by the liveness probe. It prints one progress line per batch, every finding
(saved as a replay file under ``--out``), and at the end cases/s next to plain exchanges/s, their ratio, and where
a case's time goes (the fuzzed exchange, the liveness probe, hypothesis). A case costs at least two exchanges, so
the ratio cannot exceed 0.5.
Exit status 0: no finding; 1: findings; 2: could not run. Not part of CI: 100,000 cases take several minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from hypothesis import strategies as st

from conformance.fuzz import replay, strategies
from conformance.fuzz.runner import Budget, fuzz
from conformance.fuzz.stats import FuzzStats
from conformance.fuzz.target import UpperTarget
from conformance.messages import MESSAGES
from conformance.messages import build as B
from conformance.peer import LowerPeer
from conformance.profiles import load_profile
from conformance.transport.trace import Trace

EMA_COMMAND = ["emap-conformance", "ema", "--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--t-prompt", "2",
               "--poll-freq", "1", "--ack-timeout", "0.5", "--max-retransmit", "2", "--log-level", "ERROR"]


class DiscardingTrace(Trace):
    """A trace that keeps nothing: a soak run sends far more datagrams than a report could show."""

    def record(self, direction, src, dst, raw, *, fault=None):
        return None

    def note(self, text):
        return None


class TimedTarget:
    """The fuzz target with a stopwatch: time in the fuzzed exchanges (sending, judging, silence windows) and in
    the liveness probes; the rest of a case's time is hypothesis (drawing, bookkeeping) and the thread hand-over."""

    def __init__(self, target: UpperTarget):
        self.target = target
        self.run_s = self.probe_s = 0.0

    @property
    def history(self):
        return self.target.history

    async def check(self, case):
        started = time.perf_counter()
        outcome = await self.target.run(case)
        ran = time.perf_counter()
        problem = outcome.problem or await self.target.probe()
        self.run_s += ran - started
        self.probe_s += time.perf_counter() - ran
        return outcome, problem


def all_cases() -> st.SearchStrategy:
    """Every kind of case: each message type, the state rules, the three CoAP groups."""
    kinds = [strategies.message_cases(name) for name in sorted(MESSAGES)]
    kinds += [strategies.state_cases()] + [strategies.coap_cases(group) for group in sorted(strategies.COAP_GROUPS)]
    return st.one_of(kinds)


async def start_ema() -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(*EMA_COMMAND, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.DEVNULL)
    async with asyncio.timeout(30):
        line = await process.stdout.readline()
    ready = json.loads(line)
    return process, ready["upper"]


async def plain_rate(peer: LowerPeer, count: int) -> float:
    started = time.monotonic()
    for n in range(count):
        posted = await peer.post("EiRegisterParty", B.query_registration(f"plain-{n}", peer.ven_id))
        if posted.code != "2.04":
            raise RuntimeError(f"plain exchange {n} got {posted.code}")
    return count / (time.monotonic() - started)


async def soak(args) -> int:
    process, uri = (None, args.iut) if args.iut else await start_ema()
    timing = load_profile("upper").timing
    peer = LowerPeer(trace=DiscardingTrace("soak"), timing=timing, iut_uri=uri, name="soak")
    target = UpperTarget(peer, max_payload=args.max_payload, silence_s=args.silence)
    stats = FuzzStats(args.seed, args.batch, None)
    findings = 0
    try:
        await target.start()
        plain = await plain_rate(peer, args.plain)
        print(f"plain exchanges: {plain:.0f}/s ({args.plain} known-good queries)", flush=True)
        strategy = all_cases()
        timed = TimedTarget(target)
        started = time.monotonic()
        done = 0
        batch = 0
        while done < args.cases:
            size = min(args.batch, args.cases - done)
            budget = Budget(size, None, args.seed + batch)
            target_stats = stats.target(f"batch-{batch}")
            finding = await fuzz(strategy, timed, budget, target_stats, timeout=60)
            done += target_stats.examples
            rate = done / (time.monotonic() - started)
            print(f"batch {batch}: {done} cases, {rate:.0f} cases/s, answers {dict(target_stats.answers)}",
                  flush=True)
            if finding is not None:
                findings += 1
                path = replay.save(Path(args.out), f"TC-F-SOAK-{batch}", profile="upper", seed=budget.seed,
                                   problem=finding.problem, sent=finding.sent,
                                   cases=[c.to_dict() for c in target.history])
                print(f"FINDING {finding.problem}\n  case: {finding.case.summary()}\n  saved: {path}", flush=True)
            batch += 1
        elapsed = time.monotonic() - started
        rate = done / elapsed
        plain_end = await plain_rate(peer, args.plain)
        print(f"fuzz cases: {rate:.0f}/s ({done} cases in {elapsed:.0f} s; each case = the fuzzed exchange + the "
              f"liveness probe, so {2 * rate:.0f} exchanges/s)")
        print(f"per case {1000 * elapsed / done:.2f} ms: fuzzed exchange and its judging "
              f"{1000 * timed.run_s / done:.2f} ms, liveness probe {1000 * timed.probe_s / done:.2f} ms, hypothesis "
              f"and hand-over {1000 * (elapsed - timed.run_s - timed.probe_s) / done:.2f} ms; plain exchange "
              f"{1000 / plain:.2f} ms")
        print(f"plain exchanges: {plain:.0f}/s before, {plain_end:.0f}/s after; ratio cases/plain = "
              f"{rate / plain:.2f}; findings: {findings}")
        (Path(args.out) / "soak-stats.json").write_text(json.dumps(stats.as_dict(), indent=1) + "\n")
    finally:
        await target.stop()
        await peer.stop()
        if process is not None:
            process.terminate()
            await process.wait()
    return 1 if findings else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--plain", type=int, default=3_000, help="known-good exchanges for the plain rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iut", help="base URI of an upper EMA to soak instead of the sample EMA")
    parser.add_argument("--max-payload", type=int, default=65536, help="the IUT's payload limit (ICS-9)")
    parser.add_argument("--silence", type=float, default=0.05,
                        help="how long to wait for an answer that must not come (loopback: short)")
    parser.add_argument("--out", default="reports/soak", help="where replay files and soak-stats.json go")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(soak(args))
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"fuzz_soak: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
