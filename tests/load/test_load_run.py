"""The load simulator against the sample upper EMA (in process) and against broken upper EMAs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys

import pytest

from conformance.ema.main import RunningEma, config_from_args
from conformance.load import IutUnreachable, LoadPlan, Mix, run_load
from conformance.load.results import results_of
from conformance.messages import build as B
from conformance.messages import encode
from conformance.profiles.model import Timing
from conformance.report.results import validate_results
from conformance.transport import CoapReply, CoapServer

FAST = Timing(t_prompt_s=2, ack_timeout_s=0.5, max_retransmit=2, backoff_initial_s=1, backoff_cap_s=2)


def upper_config():
    """The sample upper EMA on loopback with short timings."""
    return config_from_args(["--role", "upper", "--bind", "coap://127.0.0.1:0/emap", "--control", "coap://127.0.0.1:0",
                             "--poll-freq", "1", "--t-prompt", "2", "--ack-timeout", "0.5", "--max-retransmit", "2",
                             "--log-level", "ERROR"])


@pytest.fixture
async def sample_upper():
    ema = RunningEma(dataclasses.replace(upper_config(), registrations_limit=64))
    ready = await ema.start()
    try:
        yield ema, ready
    finally:
        await ema.stop()


async def test_twenty_lower_emas_meet_the_sample_upper_ema_without_violation(sample_upper):
    ema, ready = sample_upper
    plan = LoadPlan(
        iut=ready["upper"],
        lower_emas=20,
        duration_s=3,
        timing=FAST,
        ramp_s=0.5,
        mix=Mix.parse("pull=0.75,push=0.25,opt=0.3,report=0.3,event=0.3"),
    )
    section = await run_load(plan)
    assert section["violations"]["total"] == 0, section["violations"]
    assert section["registered"] == 20 and section["push_emas"] == 5
    assert section["failed"] == 0, section["errors_by_code"]
    assert {"EiRegisterParty", "EiReport", "EiEvent", "EmapPoll"} <= set(section["resources"])
    assert section["resources"]["EmapPoll"]["latency_ms"]["p50"] is not None
    assert section["violations"]["full_checks"] > 0
    assert len(ema.agent.routes[("emap",)].registry) == 0  # every registration was cancelled at the end
    results = results_of(section, started=0.0, finished=3.5)
    validate_results(results)
    assert results["tests"][0]["verdict"] == "pass"


async def answering(envelope_of):
    """A broken upper EMA: every POST answered 2.04 with ``envelope_of(request)``."""

    async def handle(request):
        return CoapReply(payload=encode(envelope_of(request)), content_format=50)

    return await CoapServer.start(handle)


async def test_wrong_answers_are_violations_naming_the_requirement():
    server = await answering(lambda request: B.response("", "200", "ven-x"))
    try:
        host, port = server.address
        section = await run_load(
            LoadPlan(
                iut=f"coap://{host}:{port}/emap",
                lower_emas=3,
                duration_s=1,
                timing=FAST,
                ramp_s=0,
                mix=Mix.parse("push=0"),
            )
        )
    finally:
        await server.stop()
    by_requirement = section["violations"]["by_requirement"]
    assert by_requirement.get("EMAP-6.1-01", 0) >= 3  # emapCreatePartyRegistration answered with emapResponse
    assert section["registered"] == 0
    assert results_of(section, started=0.0, finished=1.0)["tests"][0]["verdict"] == "fail"


async def test_a_requestid_not_echoed_is_a_violation():
    def created(request):
        return B.created_party_registration(
            "not-the-request", "vtn-x", registration_id="reg-1", ven_id="ven-1", poll_freq=1
        )

    server = await answering(created)
    try:
        host, port = server.address
        section = await run_load(
            LoadPlan(
                iut=f"coap://{host}:{port}/emap",
                lower_emas=2,
                duration_s=1,
                timing=FAST,
                ramp_s=0,
                mix=Mix.parse("push=0"),
                full_check_emas=0,
            )
        )
    finally:
        await server.stop()
    assert section["violations"]["by_requirement"].get("EMAP-6.1-02", 0) >= 2


async def test_the_command_refuses_a_public_address_in_one_line():
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conformance.load.cli",
        "--iut",
        "coap://8.8.8.8/emap",
        "--lower-emas",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "8.8.8.8" in lines[0] and "loopback" in lines[0]


async def test_the_command_writes_results_and_reports(sample_upper, tmp_path):
    _, ready = sample_upper
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conformance.load.cli",
        "--iut",
        ready["upper"],
        "--lower-emas",
        "10",
        "--duration",
        "2",
        "--ramp",
        "0.2",
        "--report-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()
    assert "violations: 0" in out.decode()
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["load"]["registered"] == 10
    html = (tmp_path / "conformance.html").read_text()
    assert 'id="run1-load"' in html and "No violation under load." in html  # the report's load section
    assert 'data-series="p50"' in html and 'data-series="p99"' in html and "<code>EmapPoll</code>" in html


async def test_an_upper_ema_that_executes_a_repeat_again_breaks_7_1_5_07():
    ema = RunningEma(dataclasses.replace(upper_config(), cache_per_peer=0))  # forgets every answer at once
    ready = await ema.start()
    try:
        section = await run_load(
            LoadPlan(
                iut=ready["upper"],
                lower_emas=4,
                duration_s=6,
                timing=FAST,
                ramp_s=0,
                mix=Mix.parse("push=0,opt=1,report=0,event=0"),
            )
        )
    finally:
        await ema.stop()
    assert section["violations"]["by_requirement"].get("EMAP-7.1.5-07", 0) >= 1, section["violations"]


async def test_an_iut_that_does_not_answer_is_reported_at_once():
    loop = asyncio.get_running_loop()
    silent, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
    port = silent.get_extra_info("sockname")[1]
    try:
        with pytest.raises(IutUnreachable, match="does not answer"):
            await run_load(
                LoadPlan(
                    iut=f"coap://127.0.0.1:{port}/emap",
                    lower_emas=50,
                    duration_s=60,
                    timing=Timing(ack_timeout_s=0.1, max_retransmit=1),
                )
            )
    finally:
        silent.close()
