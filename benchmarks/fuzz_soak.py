"""Soak-fuzz a sample EMA (by default the bundled one, started as a subprocess) and measure the fuzzer.

    python benchmarks/fuzz_soak.py [--role upper|lower] [--cases 100000] [--seed 0] [--batch 5000] [--plain 3000]
    python benchmarks/fuzz_soak.py --role lower --draw 2000     # only hypothesis: ms per drawn case

``--role upper`` (default) soaks an upper EMA (``--iut URI``, or the sample upper EMA) from the reference lower
EMA: every message type valid and near-valid, the state rules, CoAP options, body and framing changes, each
followed by the liveness probe (a known-good emapQueryRegistration). ``--role lower`` soaks the sample lower EMA
in push mode, registered with the reference upper EMA: every message a lower EMA accepts, its state rules and the
CoAP groups, each followed by the liveness probe (a known-good emapDistributeEvent answered 200); a case that
cancelled the registration is followed by the create-registration stimulus through the EMA's control resource.

First it measures plain exchanges/s (the known-good request of the probe, one at a time, through the same peer and
tap as the fuzzer), then runs ``--cases`` fuzz cases in batches of ``--batch`` (one hypothesis run per batch,
seeded ``seed + batch number``). It prints one progress line per batch (with the sample EMA's resident
memory), every finding (saved as a replay file under ``--out``), and at the end cases/s next to plain
exchanges/s, their ratio, and where a case's time goes (the fuzzed exchange, the liveness probe, hypothesis). A
case costs at least two exchanges, so the ratio cannot exceed 0.5. ``--draw N`` only draws N cases of the role's mix through a no-op property and prints ms per drawn case.
Exit status 0: no finding; 1: findings; 2: could not run. Not part of CI: 100,000 cases take several minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from support import Server, command_process

from conformance.fuzz import replay, strategies
from conformance.fuzz.lowertarget import PROBE_NAMES, LowerBounds, LowerTarget
from conformance.fuzz.runner import Budget, fuzz, hypothesis_settings
from conformance.fuzz.stats import FuzzStats
from conformance.fuzz.target import UpperTarget
from conformance.messages import MESSAGES
from conformance.messages import build as B
from conformance.peer import LowerPeer
from conformance.peer.upper import UpperPeer
from conformance.profiles import load_profile
from conformance.transport.client import CoapClient
from conformance.transport.trace import Trace

EMA = ["emap-conformance", "ema", "--bind", "coap://127.0.0.1:0/emap", "--control", "coap://127.0.0.1:0",
       "--log-level", "ERROR"]
UPPER_EMA = [*EMA, "--role", "upper", "--t-prompt", "2", "--poll-freq", "1", "--ack-timeout", "0.5",
             "--max-retransmit", "2"]
#: The push-mode lower EMA with the timings of the lower-push profile (the peer's timing).
LOWER_PROFILE = "lower-push"
WARM_UP = 200  # cases drawn before ``--draw`` measures


def lower_ema(upper: str, timing) -> list[str]:
    return [*EMA, "--role", "lower", "--mode", "push", "--lower-bind", "coap://127.0.0.1:0/emapl", "--upper", upper,
            "--t-prompt", f"{timing.t_prompt_s:g}", "--ack-timeout", f"{timing.ack_timeout_s:g}",
            "--ack-random-factor", f"{timing.ack_random_factor:g}", "--max-retransmit", str(timing.max_retransmit),
            "--backoff-initial", f"{timing.backoff_initial_s:g}", "--backoff-cap", f"{timing.backoff_cap_s:g}"]


class DiscardingTrace(Trace):
    """A trace that keeps nothing: a soak run sends far more datagrams than a report could show."""

    def record(self, direction, src, dst, raw, *, fault=None):
        return None

    def note(self, text):
        return None


class TimedTarget:
    """The fuzz target with a stopwatch: time in the fuzzed exchanges (sending, judging, silence windows) and in
    the liveness probes; the rest of a case's time is hypothesis (drawing, bookkeeping) and the thread hand-over."""

    def __init__(self, target):
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


@dataclass
class Soaked:
    """A started IUT and the fuzz target on it: ``plain(n)`` is one known-good exchange with a new requestID (so
    never a cached repeat; raises when it is not answered right), ``profile`` the profile a replay file names."""

    target: UpperTarget | LowerTarget
    plain: Callable[[int], Awaitable[None]]
    profile: str
    what: str  # the plain exchange, for the output
    process: Server | None  # the sample EMA's process (None for --iut): its memory is printed per batch


def upper_cases() -> st.SearchStrategy:
    """Every kind of case against an upper EMA: each message type, the state rules, the three CoAP groups."""
    kinds = [strategies.message_cases(name) for name in sorted(MESSAGES)]
    kinds += [strategies.state_cases()] + [strategies.coap_cases(group) for group in sorted(strategies.COAP_GROUPS)]
    return st.one_of(kinds)


def lower_cases() -> st.SearchStrategy:
    """Every kind of case against a push-mode lower EMA: each message it accepts, its state rules, the CoAP
    groups."""
    kinds = [strategies.message_cases(name, "L") for name in strategies.LOWER_MESSAGES]
    kinds += [strategies.state_cases("L")] + [strategies.coap_cases(group) for group in sorted(strategies.COAP_GROUPS)]
    return st.one_of(kinds)


ROLE_CASES = {"upper": upper_cases, "lower": lower_cases}


@asynccontextmanager
async def upper_soaked(args):
    timing = load_profile("upper").timing
    async with _iut(args.iut, UPPER_EMA) as (uri, process):
        peer = LowerPeer(trace=DiscardingTrace("soak"), timing=timing, iut_uri=uri, name="soak")
        target = UpperTarget(peer, max_payload=args.max_payload, silence_s=args.silence)

        async def plain(n: int) -> None:
            posted = await peer.post("EiRegisterParty", B.query_registration(peer.ids("plain"), peer.ven_id))
            if posted.code != "2.04":
                raise RuntimeError(f"plain exchange {n} got {posted.code}")

        try:
            await target.start()
            yield Soaked(target, plain, "upper", "known-good queries", process)
        finally:
            await target.stop()
            await peer.stop()


@asynccontextmanager
async def _iut(uri: str | None, command: list[str]):
    """(base URI, process): ``uri``, or the sample EMA started with ``command``."""
    if uri:
        yield uri, None
        return
    async with command_process(*command) as ema:
        yield ema.uri, ema


@asynccontextmanager
async def lower_soaked(args):
    timing = load_profile(LOWER_PROFILE).timing
    peer = UpperPeer(trace=DiscardingTrace("soak"), timing=timing, poll_freq_s=1)
    prompt = timing.t_prompt_s + timing.tolerance_s
    exchange = timing.max_transmit_wait + timing.tolerance_s
    # One client for every stimulus of the run (not a context per stimulus).
    control = await CoapClient.create()
    try:
        await peer.serve_at(("127.0.0.1", 0))
        async with command_process(*lower_ema(peer.base_uri, timing)) as ema:

            async def settled() -> None:
                if not await peer.wait_for(lambda: peer.registered and peer.bootstrapped, 3 * prompt + exchange):
                    raise RuntimeError("the sample lower EMA did not register with the reference upper EMA")

            async def reregister() -> None:
                response = await control.request(f"{ema.ready['control']}/stimulus/create-registration",
                                                 payload={}, timeout=exchange)
                if response.code != "2.04" or json.loads(response.payload).get("status") != "accepted":
                    raise RuntimeError(f"create-registration stimulus: {response.code} {response.payload!r}")
                await settled()

            async def plain(n: int) -> None:
                posted = await peer.send(peer.distribute(request_id=peer.ids("plain")), timeout=exchange)
                answer = posted.message
                if answer is None or answer.name not in PROBE_NAMES or answer.response_code != "200":
                    raise RuntimeError(f"plain exchange {n} got {posted.code} "
                                       f"{answer and answer.name} {answer and answer.response_code}")

            await settled()
            bounds = LowerBounds(poll=timing.t_prompt_s + prompt, answer=prompt + exchange, exchange=exchange,
                                 silence=args.silence, hold=timing.ack_timeout_s)
            target = LowerTarget(peer, reregister=reregister, bounds=bounds, max_payload=args.max_payload)
            await target.start()
            try:
                yield Soaked(target, plain, LOWER_PROFILE, "known-good emapDistributeEvent POSTs", ema)
            finally:
                await target.stop()
    finally:
        await peer.stop()
        await control.close()


ROLE_SOAKED = {"upper": upper_soaked, "lower": lower_soaked}


async def plain_rate(plain: Callable[[int], Awaitable[None]], count: int) -> float:
    started = time.monotonic()
    for n in range(count):
        await plain(n)
    return count / (time.monotonic() - started)


async def soak(args) -> int:
    async with ROLE_SOAKED[args.role](args) as soaked:
        return await _soak(args, soaked)


async def _soak(args, soaked: Soaked) -> int:
    target = soaked.target
    stats = FuzzStats(args.seed, args.batch, None)
    findings = 0
    plain = await plain_rate(soaked.plain, args.plain)
    print(f"plain exchanges: {plain:.0f}/s ({args.plain} {soaked.what})", flush=True)
    strategy = ROLE_CASES[args.role]()
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
        memory = f", IUT RSS {soaked.process.rss_kib() // 1024} MiB" if soaked.process else ""
        print(f"batch {batch}: {done} cases, {rate:.0f} cases/s{memory}, answers {dict(target_stats.answers)}",
              flush=True)
        if finding is not None:
            findings += 1
            path = replay.save(Path(args.out), f"TC-F-SOAK-{args.role}-{batch}", profile=soaked.profile,
                               seed=budget.seed, problem=finding.problem, sent=finding.sent,
                               cases=[c.to_dict() for c in target.history])
            print(f"FINDING {finding.problem}\n  case: {finding.case.summary()}\n  saved: {path}", flush=True)
        batch += 1
    elapsed = time.monotonic() - started
    rate = done / elapsed
    plain_end = await plain_rate(soaked.plain, args.plain)
    print(f"fuzz cases: {rate:.0f}/s ({done} cases in {elapsed:.0f} s; each case = the fuzzed exchange + the "
          f"liveness probe, so {2 * rate:.0f} exchanges/s)")
    print(f"per case {1000 * elapsed / done:.2f} ms: fuzzed exchange and its judging "
          f"{1000 * timed.run_s / done:.2f} ms, liveness probe {1000 * timed.probe_s / done:.2f} ms, hypothesis "
          f"and hand-over {1000 * (elapsed - timed.run_s - timed.probe_s) / done:.2f} ms; plain exchange "
          f"{1000 / plain:.2f} ms")
    print(f"plain exchanges: {plain:.0f}/s before, {plain_end:.0f}/s after; ratio cases/plain = "
          f"{rate / plain:.2f}; findings: {findings}")
    (Path(args.out) / f"soak-stats-{args.role}.json").write_text(json.dumps(stats.as_dict(), indent=1) + "\n")
    return 1 if findings else 0


def draw_cost(role: str, count: int, seed: int) -> float:
    """Milliseconds per case of the role's mix drawn by hypothesis through a no-op property (the fuzzer's
    settings), engine included; after a warm-up run, so one-time costs (building strategies) are left out."""
    strategy = ROLE_CASES[role]()
    drawn = []

    def body(case) -> None:
        drawn.append(case)

    def run(examples: int) -> float:
        drawn.clear()
        prop = hypothesis_settings(Budget(examples, None, seed))(hypothesis_seed(seed)(given(strategy)(body)))
        started = time.perf_counter()
        prop()
        return 1000 * (time.perf_counter() - started) / len(drawn)

    run(WARM_UP)
    return run(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=sorted(ROLE_SOAKED), default="upper", help="the role of the EMA soaked")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--plain", type=int, default=3_000, help="known-good exchanges for the plain rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iut", help="base URI of an upper EMA to soak instead of the sample EMA (--role upper)")
    parser.add_argument("--max-payload", type=int, default=65536, help="the IUT's payload limit (ICS-9)")
    parser.add_argument("--silence", type=float, default=0.05,
                        help="how long to wait for an answer that must not come (loopback: short)")
    parser.add_argument("--out", default="reports/soak", help="where replay files and soak-stats-<role>.json go")
    parser.add_argument("--draw", type=int, metavar="N", help="only draw N cases and print ms per drawn case")
    args = parser.parse_args(argv)
    if args.iut and args.role != "upper":
        parser.error("--iut soaks an upper EMA: use it with --role upper")
    if args.draw:
        print(f"{args.role} mix: {draw_cost(args.role, args.draw, args.seed):.2f} ms per drawn case "
              f"({args.draw} cases, seed {args.seed})")
        return 0
    Path(args.out).mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(soak(args))
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"fuzz_soak: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
