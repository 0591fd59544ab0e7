"""`emap-conformance ema` as a program: ready line, stimulus CLI exit codes, clean SIGTERM, bad options."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from conformance.messages import build
from conformance.transport.client import CoapClient
from conformance.transport.params import TransmissionParams

EMA = [sys.executable, "-m", "conformance.ema.main"]
STIMULATE = [sys.executable, "-m", "conformance.ema.stimulate"]


async def _run(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 20)
    return process.returncode, out.decode(), err.decode()


async def test_ready_line_stimuli_and_sigterm():
    process = await asyncio.create_subprocess_exec(
        *EMA,
        "--role",
        "upper",
        "--bind",
        "coap://127.0.0.1:0/emap",
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
        assert ready["event"] == "ready" and ready["lower"] is None
        assert ready["upper"].startswith("coap://127.0.0.1:") and ready["upper"].endswith("/emap")
        client = await CoapClient.create(TransmissionParams(0.5, 1.0, 2))
        try:
            answer = await client.request(
                ready["upper"] + "/EiRegisterParty", payload=build.query_registration("q-1"), timeout=5
            )
            assert answer.code == "2.04" and answer.message.name == "emapCreatedPartyRegistration"
        finally:
            await client.close()
        control = ready["control"]
        event = json.dumps({"eventID": "ev-1", "eiTarget": {}})
        assert (await _run(*STIMULATE, "--control", control, "create-event", event))[0] == 0
        assert (await _run(*STIMULATE, "--control", control, "create-event", event))[0] == 4
        assert (await _run(*STIMULATE, "--control", control, "poll"))[0] == 3
        assert (await _run(*STIMULATE, "--control", control, "cancel-event", '{"eventID": "zz"}'))[0] == 1
        code, _, err = await _run(*STIMULATE, "--control", control, "create-event", "{not json")
        assert code == 1 and "not JSON" in err
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_bad_options_exit_2():
    code, out, err = await _run(*EMA, "--role", "upper", "--poll-freq", "0.5")
    assert code == 2 and out == "" and err.count("\n") == 1 and "--poll-freq" in err
    code, _, err = await _run(*EMA, "--role", "lower")
    assert code == 2 and "--upper" in err
