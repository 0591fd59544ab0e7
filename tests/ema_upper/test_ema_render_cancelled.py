"""A request whose requester loses interest before its rendering task starts leaves no coroutine that was never
awaited (a RuntimeWarning, an error under ``filterwarnings = error``)."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

from aiocoap import Code, Message
from aiocoap.pipe import Pipe

from conformance.ema.frontdoor import render_with_plain_task_names


class Context:
    log = logging.getLogger("test")
    rendered = 0

    async def _render_to_pipe(self, pipe) -> None:
        Context.rendered += 1


async def test_interest_lost_before_rendering_starts():
    ctx = Context()
    render_with_plain_task_names(ctx)
    outer = Pipe(Message(code=Code.POST), ctx.log)
    outer.on_event(lambda event: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ctx.render_to_pipe(outer)
        outer._end()  # the requester is gone before the loop ran the task
        for _ in range(3):
            await asyncio.sleep(0)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert Context.rendered == 0
