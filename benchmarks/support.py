"""Shared helpers of the benchmark scripts: servers in their own processes, memory readings, output.

Each server under measurement runs in its own process (the machine's second core) so the driver and the server
do not share one event loop; both are started on loopback with port 0 and print one ready line of JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: A sample upper EMA whose registration limit fits the benchmark (the CLI keeps the default of 256). It answers
#: one JSON line on stdout for each line on stdin: "trace" starts tracemalloc, "memory" reports `memory_split`
#: and stops it, "stores" reports `store_sizes`.
SAMPLE_UPPER = """
import asyncio, dataclasses, json, signal, sys, tracemalloc
from conformance.ema.main import RunningEma, config_from_args
from support import memory_split, store_sizes
limit, poll_freq = int(sys.argv[1]), sys.argv[2]
config = config_from_args(["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--control",
                           "coap://127.0.0.1:0", "--poll-freq", poll_freq, "--log-level", "ERROR"])
config = dataclasses.replace(config, registrations_limit=limit)
async def queries(ema):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        try:
            if line == "trace":
                answer = {"tracing": True}
                tracemalloc.start()
            elif line == "stores":
                answer = store_sizes(ema)
            else:
                answer = await memory_split(ema)
                tracemalloc.stop()
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
async def main():
    ema = RunningEma(config)
    ready = await ema.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps(ready), flush=True)
    asking = asyncio.create_task(queries(ema))
    await stop.wait()
    asking.cancel()
    await ema.stop()
asyncio.run(main())
"""

#: A bare aiocoap server answering every POST with 2.04 and a fixed JSON payload (the reference of "fast").
ECHO_SERVER = """
import asyncio, json, signal, sys
import aiocoap, aiocoap.resource
BODY = sys.argv[1].encode()
class Echo(aiocoap.resource.Resource):
    async def render_post(self, request):
        return aiocoap.Message(code=aiocoap.CHANGED, payload=BODY, content_format=50)
async def main():
    ctx = await aiocoap.Context.create_server_context(Echo(), bind=("127.0.0.1", 0), transports=["udp6"])
    from conformance.transport.server import bound_port
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps({"upper": f"coap://127.0.0.1:{bound_port(ctx)}/emap"}), flush=True)
    await stop.wait()
    await ctx.shutdown()
asyncio.run(main())
"""


class Server:
    """A server process: ``ready`` is its ready line, ``pid`` its process id."""

    def __init__(self, proc: asyncio.subprocess.Process, ready: dict):
        self.proc, self.ready = proc, ready

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def uri(self) -> str:
        return self.ready["upper"]

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    async def ask(self, query: str, timeout: float = 60.0) -> dict:
        """Send one query line to the process and read its one-line JSON answer."""
        self.proc.stdin.write(query.encode() + b"\n")
        await self.proc.stdin.drain()
        answer = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), timeout))
        if "error" in answer:
            raise RuntimeError(f"server process: {query}: {answer['error']}")
        return answer

    def cpu_s(self) -> float:
        """User + system CPU seconds the process has used."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def server_process(code: str, *args: str, timeout: float = 60.0):
    """Run ``python -c code args`` until the block ends (SIGTERM, then kill); yields a Server."""
    async with command_process(sys.executable, "-c", code, *args, timeout=timeout) as server:
        yield server


@asynccontextmanager
async def command_process(*argv: str, timeout: float = 60.0):
    """Run the command ``argv`` (e.g. ``emap-conformance ema ...``) until the block ends (SIGTERM, then kill);
    yields a Server once the command printed its ready line."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=HERE,
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"server process exited with {await proc.wait()} before it was ready")
        yield Server(proc, json.loads(line))
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def store_sizes(ema) -> dict:
    """Entries now held by the started ``RunningEma``'s per-message stores: aiocoap's duplicate detection
    (RFC 7252 section 4.5: every request's message ID with the response sent, so that a retransmission is
    answered alike) and the front door's repeat cache (EMAP-7.1.5-07: the answer to each request with a
    requestID), both kept EXCHANGE_LIFETIME (247 s with the default CoAP parameters); and the block-wise
    stores (responses larger than one block, incomplete Block1 requests), kept MAX_TRANSMIT_WAIT (93 s)."""
    from conformance.ema.frontdoor import message_managers

    duplicates = sum(len(m._recent_messages) for m in message_managers(ema.front_context))
    return {
        "duplicate_detection_entries": duplicates,
        "repeat_cache_entries": len(ema.front_door.cache),
        "blockwise_entries": sum(len(store._items) for store in _blockwise_stores(ema)),
    }


def _blockwise_stores(ema) -> tuple:
    """aiocoap's TimeoutDicts of the front door's Block2 responses and Block1 assemblies."""
    return ema.front_door._blocks2._completes, ema.front_door._spool._assemblies


def expire_exchange_stores(ema) -> dict:
    """Do now what EXCHANGE_LIFETIME does later to the per-message stores of `store_sizes`; returns their
    sizes before."""
    from conformance.ema.frontdoor import message_managers

    sizes = store_sizes(ema)
    loop = asyncio.get_running_loop()
    for manager in message_managers(ema.front_context):
        store = manager._recent_messages
        # aiocoap drops each entry with a timer (a partial of store.pop); cancel those, then drop the entries.
        for handle in loop._scheduled:
            callback = getattr(handle, "_callback", None)
            if getattr(getattr(callback, "func", None), "__self__", None) is store:
                handle.cancel()
        store.clear()
    ema.front_door.cache.expire(float("inf"))
    for store in _blockwise_stores(ema):
        store._items.clear()  # its timer finds nothing left and stops
        if store._recently_accessed:
            store._recently_accessed.clear()
    return sizes


async def memory_split(ema) -> dict:
    """The Python heap (tracemalloc, running since the lower EMAs registered) held now by the sample EMA
    ``ema``, and how much of it its per-message stores held (`expire_exchange_stores`): KiB."""
    import gc
    import tracemalloc

    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    dropped = expire_exchange_stores(ema)
    await asyncio.sleep(0)  # the event loop discards the cancelled timers
    gc.collect()
    steady = tracemalloc.get_traced_memory()[0]
    return {
        "heap_kib": held / 1024,
        "steady_kib": steady / 1024,
        "transient_kib": (held - steady) / 1024,
        "tracemalloc_kib": tracemalloc.get_tracemalloc_memory() / 1024,
        **dropped,
    }


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def verdict(value: float, target: float, *, at_least: bool) -> str:
    ok = value >= target if at_least else value <= target
    return f"{'meets' if ok else 'MISSES'} target {'>=' if at_least else '<='} {target:g}"


def emit(name: str, data: dict) -> None:
    """Print one benchmark's figures: a readable block, then one JSON line (for the README and CI logs)."""
    print(f"== {name}")
    for key, value in data.items():
        print(f"   {key}: {value}")
    print("JSON " + json.dumps({"benchmark": name, **data}), flush=True)
