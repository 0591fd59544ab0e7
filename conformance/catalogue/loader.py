"""The requirement catalogue: every requirement id of the EMAP binding with its clause, level, binding side,
registration mode and a short title (``requirements.json``, in binding order)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

LEVELS = ("shall", "should", "may")
BINDS = ("U", "L", "both")
MODES = ("push", "pull", "both")


class CatalogueError(ValueError):
    """``requirements.json`` is malformed; ``str()`` names the entry and the field."""


@dataclass(frozen=True)
class Requirement:
    """One requirement row of the binding: ``id`` like ``EMAP-6.2.3-04``, ``clause`` like ``6.2.3``."""

    id: str
    clause: str
    level: str
    binds: str
    mode: str
    title: str

    @classmethod
    def from_dict(cls, data: dict) -> Requirement:
        req = cls(**{name: data.get(name) for name in cls.__dataclass_fields__})
        req.check()
        return req

    def check(self) -> None:
        for name in self.__dataclass_fields__:
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise CatalogueError(f"{self.id}: {name}: expected a non-empty string")
        prefix, _, number = self.id.rpartition("-")
        if prefix != f"EMAP-{self.clause}" or len(number) != 2 or not number.isdigit():
            raise CatalogueError(f"{self.id}: id: expected EMAP-{self.clause}-NN")
        for name, allowed in (("level", LEVELS), ("binds", BINDS), ("mode", MODES)):
            if getattr(self, name) not in allowed:
                raise CatalogueError(f"{self.id}: {name}: expected one of {', '.join(allowed)}")


class Catalogue:
    """All requirements in binding order; ``catalogue[id]`` looks one up, iteration yields them in order."""

    def __init__(self, requirements: list[Requirement]):
        self._by_id: dict[str, Requirement] = {}
        for req in requirements:
            if req.id in self._by_id:
                raise CatalogueError(f"{req.id}: id: listed twice")
            self._by_id[req.id] = req

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def __getitem__(self, requirement_id: str) -> Requirement:
        try:
            return self._by_id[requirement_id]
        except KeyError:
            raise KeyError(f"{requirement_id}: not a requirement id of the EMAP binding") from None

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._by_id

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def by_clause(self) -> dict[str, list[Requirement]]:
        """Requirements grouped by clause, clauses in binding order."""
        groups: dict[str, list[Requirement]] = {}
        for req in self:
            groups.setdefault(req.clause, []).append(req)
        return groups


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped in the package (loaded once)."""
    text = resources.files(__package__).joinpath("requirements.json").read_text("utf-8")
    return Catalogue([Requirement.from_dict(entry) for entry in json.loads(text)])
