"""Fixtures of the lower-IUT test cases (defined in ``fixtures.py``, shareable by other test-case packages)."""

from .fixtures import link, listening_peer, upper_peer  # noqa: F401
