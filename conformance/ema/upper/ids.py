"""Identifiers the upper EMA assigns: each carries a per-start random tag so that no value repeats, also
across restarts (EMAP-6.1-03 requestIDs, EMAP-6.2.1-05 registrationIDs, EMAP-6.3.1-01 eventIDs, venIDs)."""

from __future__ import annotations

import itertools
import secrets


class IdSource:
    """Fresh identifiers ``<prefix>-<tag><n>``; ``taken`` tells which candidates to skip (e.g. venIDs held).
    """

    def __init__(self) -> None:
        self._tag = secrets.token_hex(2)
        self._counter = itertools.count(1)

    def new(self, prefix: str, taken=lambda value: False) -> str:
        while True:
            value = f"{prefix}-{self._tag}{next(self._counter)}"
            if not taken(value):
                return value
