"""``emap-conformance stimulate --control URI ACTION [ARGS_JSON]``: ask a running sample EMA to act.

Exit codes (interfaces.md section 3): 0 accepted, 4 refused, 3 unsupported, 1 error, unreachable or bad
arguments (one-line message on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import aiocoap
from aiocoap import Code, Message

from conformance.ema.role import STIMULUS_EXIT
from conformance.transport.client import unpredictable_ids

ERROR_EXIT = 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emap-conformance stimulate",
        description="Ask a running sample EMA to carry out a stimulus action.",
    )
    p.add_argument("--control", required=True, help="control URI printed in the EMA's ready line")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer (default 10)")
    p.add_argument("action", help="action name, e.g. create-event")
    p.add_argument("args", nargs="?", default="{}", help="JSON object of arguments (default {})")
    return p


async def stimulate(control: str, action: str, args: dict, timeout: float) -> tuple[str, str]:
    """POST the action to the control resource: ``(status, detail)``; raises OSError-like errors on failure.
    """
    ctx = unpredictable_ids(await aiocoap.Context.create_client_context(transports=["udp6"]))
    try:
        request = Message(
            code=Code.POST,
            uri=f"{control.rstrip('/')}/stimulus/{action}",
            payload=json.dumps(args).encode(),
            content_format=50,
        )
        async with asyncio.timeout(timeout):
            response = await ctx.request(request).response
    finally:
        await ctx.shutdown()
    if response.code != Code.CHANGED:
        return (
            "error",
            f"control resource answered {response.code}: {response.payload.decode(errors='replace')}",
        )
    answer = json.loads(response.payload)
    return answer["status"], answer.get("detail", "")


def main(argv: list[str] | None = None) -> int:
    try:
        ns = parser().parse_args(argv)
    except SystemExit as exc:
        return ERROR_EXIT if exc.code else 0
    try:
        args = json.loads(ns.args)
    except ValueError as exc:
        print(f"stimulate: ARGS_JSON is not JSON: {exc}", file=sys.stderr)
        return ERROR_EXIT
    if not isinstance(args, dict):
        print("stimulate: ARGS_JSON must be a JSON object", file=sys.stderr)
        return ERROR_EXIT
    try:
        status, detail = asyncio.run(stimulate(ns.control, ns.action, args, ns.timeout))
    except TimeoutError:
        print(f"stimulate: no answer from {ns.control} within {ns.timeout} s", file=sys.stderr)
        return ERROR_EXIT
    except Exception as exc:
        print(f"stimulate: {ns.control}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return ERROR_EXIT
    print(json.dumps({"status": status, "detail": detail}))
    return STIMULUS_EXIT.get(status, ERROR_EXIT)


if __name__ == "__main__":
    sys.exit(main())
