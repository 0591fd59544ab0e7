"""The event loop may use the global ``random`` (aiocoap's retransmission timers) while the hypothesis thread
draws a case; the fuzz runner does not let hypothesis take that for a strategy using ``random`` (a warning, an
error under ``filterwarnings = error``)."""

from __future__ import annotations

import asyncio
import random

from hypothesis import strategies as st

from conformance.fuzz.cases import FuzzCase
from conformance.fuzz.oracle import Answer, Expectation
from conformance.fuzz.runner import Budget, fuzz
from conformance.fuzz.stats import TargetStats
from conformance.fuzz.target import FuzzTarget, Outcome

CASE = FuzzCase("coap", "EiRegisterParty", coap={"mutation": "empty-con"})


class Accepting(FuzzTarget):
    async def run(self, case):
        return Outcome(case, b"", Expectation("silence", "EMAP-7.1.5-13"), Answer(None), None)

    async def probe(self):
        return None


async def test_random_used_by_the_loop_during_draws_is_no_finding():
    stop = asyncio.Event()

    async def timers():
        while not stop.is_set():
            random.uniform(2, 3)
            await asyncio.sleep(0)

    busy = asyncio.create_task(timers())
    cases = st.lists(st.text(max_size=50), min_size=20, max_size=40).map(lambda _: CASE)
    try:
        finding = await fuzz(cases, Accepting(), Budget(60, None, 0), TargetStats("t"), timeout=10)
    finally:
        stop.set()
        await busy
    assert finding is None
