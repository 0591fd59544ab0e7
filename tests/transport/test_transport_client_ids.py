"""Client contexts start at unpredictable Message IDs and tokens, even when the global ``random`` is seeded alike
before each (as hypothesis does for every example): otherwise a context made during a fuzz case could repeat an
earlier one's IDs and be answered from the receiver's duplicate store (EMAP-7.1.5-02)."""

from __future__ import annotations

import random

from conformance.transport.client import new_context


async def _first_ids() -> tuple[int, int]:
    random.seed(0)
    context = await new_context(None)
    try:
        tokens = context.request_interfaces[0]
        return tokens._token, tokens.token_interface.message_id
    finally:
        await context.shutdown()


async def test_contexts_made_under_the_same_seed_start_at_different_ids():
    first, second = await _first_ids(), await _first_ids()
    assert first[0] != second[0] or first[1] != second[1]
