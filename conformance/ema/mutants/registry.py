"""The mutant registry: each mutant is one deliberate deviation of the sample EMA from the binding.

A mutant names the requirement ids it breaks, the test cases that must then fail, and the bundled profiles
whose run exercises it. Its ``apply`` function patches the sample EMA in the current process, before the EMA
starts: it replaces or wraps one method or function (``wrap``), so no EMA code is copied and the shipped EMA
stays correct.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass

PROFILES = ("upper", "lower-pull", "lower-push", "intermediate", "dtls-upper", "dtls-lower-push")


class MutantError(LookupError):
    """An unknown mutant name; ``str()`` is one line."""


@dataclass(frozen=True)
class Mutant:
    """One mutant of the sample EMA."""

    name: str
    requirements: tuple[str, ...]
    tests: tuple[str, ...]
    profiles: tuple[str, ...]
    summary: str
    apply: Callable[[], None]

    @property
    def clause(self) -> str:
        """The clause of the first requirement broken ("6.2.3", "7.1.5", "A", ...)."""
        return self.requirements[0].split("-")[1]

    @property
    def selection(self) -> str:
        """The ``-k`` expression of a short run: the tests it must fail and the rest of their clauses."""
        groups = sorted({test.rsplit("-", 1)[0] + "-" for test in self.tests})
        return " or ".join(groups)

    @property
    def narrow_selection(self) -> str:
        """The ``-k`` expression of the shortest run: only the tests it must fail."""
        return " or ".join(self.tests)


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, requirements, tests, profiles, summary: str):
    """Register the decorated function as the ``apply`` of a mutant."""
    bad = [p for p in profiles if p not in PROFILES]
    if bad or not requirements or not tests:
        raise ValueError(f"mutant {name}: needs requirements, tests and bundled profiles (got {bad or profiles})")

    def register(apply: Callable[[], None]) -> Callable[[], None]:
        if name in MUTANTS:
            raise ValueError(f"mutant {name} is defined twice")
        MUTANTS[name] = Mutant(name, tuple(requirements), tuple(tests), tuple(profiles), summary, apply)
        return apply

    return register


def get(name: str) -> Mutant:
    """The mutant called ``name``; raises MutantError naming the known ones."""
    _load()
    try:
        return MUTANTS[name]
    except KeyError:
        raise MutantError(f"unknown mutant {name!r} (emap-mutants list shows the {len(MUTANTS)} known)") from None


def all_mutants() -> list[Mutant]:
    """Every registered mutant, in definition order."""
    _load()
    return list(MUTANTS.values())


def _load() -> None:
    from conformance.ema.mutants import coap, intermediate, lower, security, upper  # noqa: F401 - by import


def wrap(owner, attr: str, make: Callable) -> None:
    """Replace ``owner.attr`` by ``make(original)``; a staticmethod stays a staticmethod."""
    raw = owner.__dict__.get(attr) if isinstance(owner, type) else None
    original = getattr(owner, attr)
    if original is None:
        raise AttributeError(f"{owner!r} has no {attr}")
    replacement = make(original)
    setattr(owner, attr, staticmethod(replacement) if isinstance(raw, staticmethod) else replacement)


def replace(owner, attr: str, replacement) -> None:
    """Replace ``owner.attr`` by ``replacement`` (which ignores the original)."""
    wrap(owner, attr, lambda original: replacement)


def override_build(module, **makers: Callable) -> None:
    """Make ``module`` see the message builders with the named ones replaced by ``maker(original)``."""
    original = module.build
    builders = types.SimpleNamespace(**{n: getattr(original, n) for n in dir(original) if not n.startswith("__")})
    for name, make in makers.items():
        setattr(builders, name, make(getattr(original, name)))
    module.build = builders
