"""What the front door and the control resource need from an EMA role (upper or lower).

A role owns the application state of one side of its links. The front door (``frontdoor.py``) has already done
the cached-repeat lookup (EMAP-7.1.5-07), the CoAP-level checks (EMAP-7.1.4-05), schema validation and step 1
of Table 6.1-4 (459) before it calls :meth:`Role.handle`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from conformance.messages import ValidMessage

#: Stimulus outcome statuses (interfaces.md section 3) and the exit code ``stimulate`` maps each to.
STIMULUS_EXIT = {"accepted": 0, "refused": 4, "unsupported": 3, "error": 1}


class Role(Protocol):
    """One EMA role served under one base path."""

    side: str
    """``"U"`` (upper EMA) or ``"L"`` (lower EMA): selects the resources of Table 7.1-2."""

    async def start(self) -> None:
        """Begin work (clients, timers). Called after the endpoint is bound (config holds the bound URIs)."""

    async def stop(self) -> None:
        """Stop timers and close clients; must not raise."""

    def peer_key(self, message: ValidMessage, remote: str) -> str:
        """The peer identity that EMAP-7.1.5-07 keys its cache on (U: the lower EMA per EMAP-6.2.1-01,
        messages identifying none share one key; L: its upper EMA)."""

    def response_ven_id(self, message: ValidMessage) -> str | None:
        """The `venID` of an `emapResponse` this role sends to answer ``message`` (Table 6.2.6-14); the front
        door uses it for the 459 answer of EMAP-7.1.3-05."""

    async def handle(self, resource: str, message: ValidMessage, remote: str) -> dict | None:
        """Answer a valid message POSTed to ``resource``: the response envelope for the 2.04, or None for an
        empty 2.04 (EMAP-6.1-06). An exception becomes 5.00 (EMAP-7.1.5-14)."""

    async def stimulate(self, action: str, args: dict) -> tuple[str, str]:
        """Carry out a stimulus action (interfaces.md section 3): ``(status, detail)``, status one of
        accepted, refused, unsupported, error."""


class Agent(Protocol):
    """What ``main`` runs: one or more roles on one endpoint, keyed by base path, and one stimulus entry."""

    routes: dict[tuple[str, ...], Role]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def stimulate(self, action: str, args: dict) -> tuple[str, str]: ...


class SingleRoleAgent:
    """An :class:`Agent` made of one role under one base path."""

    def __init__(self, role: Role, base_path: tuple[str, ...]) -> None:
        self.role = role
        self.routes = {base_path: role}

    async def start(self) -> None:
        await self.role.start()

    async def stop(self) -> None:
        await self.role.stop()

    async def stimulate(self, action: str, args: dict) -> tuple[str, str]:
        return await self.role.stimulate(action, args)
