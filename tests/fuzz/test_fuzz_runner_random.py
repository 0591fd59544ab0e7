"""How the fuzz runner keeps hypothesis to the suite's own strategies: the event loop may use the global
``random`` (aiocoap's retransmission timers) while the hypothesis thread draws a case, which is no strategy using
``random`` (a warning, an error under ``filterwarnings = error``); and the constants hypothesis would collect from
whatever local modules are loaded do not change what a seed draws."""

from __future__ import annotations

import asyncio
import random

from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers

from conformance.fuzz.cases import FuzzCase
from conformance.fuzz.oracle import Answer, Expectation
from conformance.fuzz.runner import Budget, fuzz, in_engine_thread
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


async def test_no_constants_of_loaded_modules_are_mixed_into_draws():
    """What a seed draws must not depend on which local modules a run has imported (they differ between a whole
    run and a ``-k`` selection, and between an editable and a regular install)."""
    seen = []

    def engine():
        seen.append(providers._get_local_constants())

    await in_engine_thread(engine)
    assert not any(seen[0].set_for_type(kind) for kind in ("integer", "float", "bytes", "string"))
    assert providers._get_local_constants().set_for_type("string")  # the suite's own modules have some
