"""Identifier generation for the reference peer (EMAP-6.1-03: a requestID is never reused towards a peer).

Every peer instance draws a random run tag, so identities and request IDs of two peers (or of two test runs against
one long-lived IUT) never collide: the IUT keeps its state across tests.
"""

from __future__ import annotations

import itertools
import secrets


class IdSource:
    """Unique IDs with a readable prefix: ``<prefix>-<tag>-<n>``."""

    def __init__(self, tag: str | None = None):
        self.tag = tag or secrets.token_hex(3)
        self._counter = itertools.count(1)

    def __call__(self, prefix: str = "r") -> str:
        return f"{prefix}-{self.tag}-{next(self._counter)}"
