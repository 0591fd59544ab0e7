"""The loaded profile: PICS (binding 0.6 ICS items), PIXIT, timings (binding 0.5) and the stimulus settings."""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple


class ProfileError(ValueError):
    """A bad profile or applicability expression; ``str()`` is one line: ``<file>: <item>: <what is wrong>``."""

    def __init__(self, source: str, item: str, detail: str):
        self.source = source
        self.item = item
        self.detail = detail
        super().__init__(f"{source}: {item}: {detail}" if item else f"{source}: {detail}")


class Transmission(NamedTuple):
    """CoAP transmission parameters (RFC 7252 4.8); field names match ``transport.TransmissionParams``."""

    ack_timeout: float
    ack_random_factor: float
    max_retransmit: int


@dataclass(frozen=True)
class Timing:
    """``[pixit.timing]``; the defaults are the binding's values (0.5, ICS-11)."""

    t_prompt_s: float = 10.0
    ack_timeout_s: float = 2.0
    ack_random_factor: float = 1.5
    max_retransmit: int = 4
    backoff_initial_s: float = 30.0
    backoff_cap_s: float = 900.0
    tolerance_s: float = 1.0

    @property
    def transmission(self) -> Transmission:
        return Transmission(self.ack_timeout_s, self.ack_random_factor, self.max_retransmit)

    @property
    def max_transmit_span(self) -> float:
        """MAX_TRANSMIT_SPAN (RFC 7252 4.8.2)."""
        return self.ack_timeout_s * (2**self.max_retransmit - 1) * self.ack_random_factor

    @property
    def max_transmit_wait(self) -> float:
        """MAX_TRANSMIT_WAIT (RFC 7252 4.8.2): 93 s with the defaults."""
        return self.ack_timeout_s * (2 ** (self.max_retransmit + 1) - 1) * self.ack_random_factor

    @property
    def exchange_lifetime(self) -> float:
        """EXCHANGE_LIFETIME (RFC 7252 4.8.2, MAX_LATENCY 100 s): 247 s with the defaults."""
        return self.max_transmit_span + 200.0 + self.ack_timeout_s

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Values a profile gets for the optional PICS/PIXIT items it leaves out.
PICS_DEFAULTS: dict[str, Any] = {
    "lower_modes": [],
    "opt_change": False,
    "security": ["nosec"],
    "signals": [],
    "metadata_reports": [],
    "max_payload": 65536,
    "self_chosen_ven_ids": False,
}
PIXIT_DEFAULTS: dict[str, Any] = {
    "mode": None,
    "peer": None,
    "vtn_id": None,
    "ven_id": None,
    "preallocated_ven_ids": [],
    "resource_ids": [],
    "group_ids": [],
    "group_names": [],
    "party_ids": [],
    "device_classes": [],
    "market_contexts": [],
    "poll_freq_s": 10.0,
    "longest_poll_period_s": None,
    "credentials": None,
    "nosec_isolated": None,
}
SECRET_ITEMS = ("psk_hex", "other_psk_hex")  # never written to results or reports
STIMULUS_DEFAULTS: dict[str, Any] = {"kind": "none", "command": [], "timeout_s": 10.0}


def _with_defaults(given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The given items in file order, then a default for each item left out."""
    return {**given, **{k: v for k, v in defaults.items() if k not in given}}


def _frozen(mapping: dict[str, Any]) -> MappingProxyType:
    """A read-only view whose lists are tuples and tables read-only views (a Profile must not change after
    loading)."""
    return MappingProxyType({k: _frozen_value(v) for k, v in mapping.items()})


def _frozen_value(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return _frozen(value) if isinstance(value, dict) else value


def _plain(mapping) -> dict[str, Any]:
    """JSON-ready copy; keys (``SECRET_ITEMS``) are replaced by ``"(hidden)"``."""
    def plain(key, value):
        if key in SECRET_ITEMS and value is not None:
            return "(hidden)"
        if isinstance(value, tuple):
            return list(value)
        return _plain(value) if isinstance(value, MappingProxyType) else value

    return {k: plain(k, v) for k, v in mapping.items()}


@dataclass(frozen=True)
class Profile:
    """One loaded profile. ``pics``/``pixit``/``stimulus`` are read-only mappings with every item present."""

    name: str
    path: Path | None
    description: str
    pics: MappingProxyType
    pixit: MappingProxyType
    stimulus: MappingProxyType
    timing: Timing
    data: MappingProxyType = field(repr=False, compare=False)
    cases: tuple[str, ...] = ()

    @classmethod
    def build(cls, data: dict[str, Any], path: Path | None) -> Profile:
        """A Profile from already validated TOML data, defaults filled in."""
        pixit = dict(data["pixit"])
        timing = {k: v if k == "max_retransmit" else float(v) for k, v in pixit.pop("timing", {}).items()}
        for key in ("poll_freq_s", "longest_poll_period_s"):
            if key in pixit:
                pixit[key] = float(pixit[key])
        return cls(
            name=data["name"],
            path=path,
            description=data.get("description", ""),
            pics=_frozen(_with_defaults(data["pics"], PICS_DEFAULTS)),
            pixit=_frozen(_with_defaults(pixit, PIXIT_DEFAULTS)),
            stimulus=_frozen(_with_defaults(data.get("stimulus", {}), STIMULUS_DEFAULTS)),
            timing=Timing(**timing),
            data=MappingProxyType(copy.deepcopy(data)),
            cases=tuple(data.get("cases", ())),
        )

    @property
    def role(self) -> str:
        return self.pics["role"]

    @property
    def mode(self) -> str | None:
        """Registration mode of a lower or intermediate IUT in this run; None for an upper IUT."""
        return self.pixit["mode"]

    @property
    def iut(self) -> str:
        return self.pixit["iut"]

    @property
    def embedded(self) -> bool:
        """True when the suite starts the bundled sample EMA as the IUT."""
        return self.pixit["iut"] == "embedded"

    @property
    def credentials(self) -> MappingProxyType | None:
        """``[pixit.credentials]``: the link's security profile and the reference peer's credentials (ICS-4)."""
        return self.pixit["credentials"]

    def selects(self, case_id: str) -> bool:
        """True when the profile runs test case ``case_id`` (top-level ``cases`` patterns; default all)."""
        return not self.cases or any(fnmatch.fnmatchcase(case_id, pattern) for pattern in self.cases)

    def names(self) -> dict[str, Any]:
        """The names an applicability expression may use: every PICS and PIXIT item, plus ``embedded``."""
        return {**self.pics, **self.pixit, "embedded": self.embedded}

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for results.json): the profile as loaded, defaults included."""
        return {
            "name": self.name,
            "path": str(self.path) if self.path else None,
            "description": self.description,
            **({"cases": list(self.cases)} if self.cases else {}),
            "pics": _plain(self.pics),
            "pixit": {**_plain(self.pixit), "timing": self.timing.as_dict()},
            "stimulus": _plain(self.stimulus),
        }
