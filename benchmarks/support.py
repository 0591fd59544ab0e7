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

#: A sample upper EMA whose registration limit fits the benchmark (the CLI keeps the default of 256).
SAMPLE_UPPER = """
import asyncio, dataclasses, json, signal, sys
from conformance.ema.main import RunningEma, config_from_args
limit, poll_freq = int(sys.argv[1]), sys.argv[2]
config = config_from_args(["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--control",
                           "coap://127.0.0.1:0", "--poll-freq", poll_freq, "--log-level", "ERROR"])
config = dataclasses.replace(config, registrations_limit=limit)
async def main():
    ema = RunningEma(config)
    ready = await ema.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps(ready), flush=True)
    await stop.wait()
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

    def cpu_s(self) -> float:
        """User + system CPU seconds the process has used."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def server_process(code: str, *args: str, timeout: float = 60.0):
    """Run ``python -c code args`` until the block ends (SIGTERM, then kill); yields a Server."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
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
