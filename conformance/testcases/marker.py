"""The ``emap_test`` marker: names a test case's id, the requirement ids it checks and when it applies.

    @emap_test("TC-U-6.2.2-01", requirements=["EMAP-6.2.2-03"], applies='role in ("upper", "intermediate")')
    async def test_register(...):
        \"\"\"Purpose of the test (first docstring line).\"\"\"

The plugin checks the marks at collection (known requirement ids, unique test ids, a docstring) and decides
NOT APPLICABLE from ``applies`` before the test body runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

MARK_NAME = "emap"
_REQUIREMENT_ID = re.compile(r"^EMAP-(?P<clause>[0-9]+(?:\.[0-9]+)*|[A-Z])-(?P<seq>[0-9]{2,})$")
_TEST_ID = re.compile(r"^TC-[A-Za-z0-9][A-Za-z0-9.\-_]*$")


def clause_of(requirement_id: str) -> str:
    """The clause a requirement id belongs to: ``EMAP-6.2.3-04`` -> ``6.2.3``, ``EMAP-A-04`` -> ``A``."""
    match = _REQUIREMENT_ID.match(requirement_id)
    if match is None:
        raise ValueError(f"{requirement_id!r} is not a requirement id (EMAP-<clause>-<nn>)")
    return match.group("clause")


def emap_test(tc_id: str, *, requirements, applies: str = "True") -> pytest.MarkDecorator:
    """Mark a test function as conformance test case ``tc_id`` checking ``requirements``."""
    if not isinstance(tc_id, str) or not _TEST_ID.match(tc_id):
        raise ValueError(f"{tc_id!r} is not a test case id (TC-...)")
    if isinstance(requirements, str):
        raise TypeError(f"{tc_id}: requirements must be a list of ids, not a string")
    reqs = tuple(requirements)
    if not reqs:
        raise ValueError(f"{tc_id}: names no requirement id")
    for req in reqs:
        clause_of(req)
    if not isinstance(applies, str) or not applies.strip():
        raise ValueError(f"{tc_id}: applies must be a non-empty expression string")
    return getattr(pytest.mark, MARK_NAME)(tc_id, requirements=reqs, clause=clause_of(reqs[0]), applies=applies)


@dataclass(frozen=True)
class EmapCase:
    """What an ``emap`` mark says about one collected test case."""

    id: str
    requirements: tuple[str, ...]
    clause: str
    applies: str
    purpose: str

    @classmethod
    def of(cls, item) -> EmapCase | None:
        """The case of a collected pytest item, or None when it carries no ``emap`` mark."""
        mark = item.get_closest_marker(MARK_NAME)
        if mark is None:
            return None
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        lines = [line.strip() for line in doc.strip().splitlines()]
        callspec = getattr(item, "callspec", None)
        return cls(
            id=f"{mark.args[0]}[{callspec.id}]" if callspec is not None else mark.args[0],
            requirements=tuple(mark.kwargs["requirements"]),
            clause=mark.kwargs["clause"],
            applies=mark.kwargs.get("applies", "True"),
            purpose=lines[0] if lines else "",
        )
