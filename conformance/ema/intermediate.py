"""The sample intermediate EMA: an upper role and a lower role on ONE CoAP endpoint under two base paths.

EMAP-5-07 (one endpoint, two distinct base paths; the lower role's resources only while registered in push
mode, which ``main.served_routes`` applies), EMAP-5-08 (own `vtnID` as upper EMA, the `venID` assigned by its
upper EMA as lower EMA: each role keeps its own identities). Stimulus actions go to the role named by the
`role` member (interfaces.md section 3); it is required for the actions both roles have.
"""

from __future__ import annotations

from conformance.ema.lower import LowerEma
from conformance.ema.lower.stimuli import ACTIONS as LOWER_ACTIONS
from conformance.ema.lower.stimuli import UPPER_ONLY

BOTH_ROLES = ("cancel-registration", "register-report", "request-report", "cancel-report")


class IntermediateEma:
    """Implements conformance.ema.role.Agent with two routes: ``config.bind.path`` (upper) and
    ``config.lower_endpoint.path`` (lower)."""

    def __init__(self, config) -> None:
        from conformance.ema.upper import UpperEma

        self.upper = UpperEma(config)
        self.lower = LowerEma(config)
        self.routes = {config.bind.path: self.upper, config.lower_endpoint.path: self.lower}

    async def start(self) -> None:
        await self.upper.start()
        await self.lower.start()

    async def stop(self) -> None:
        await self.lower.stop()
        await self.upper.stop()

    async def stimulate(self, action: str, args: dict) -> tuple[str, str]:
        role = args.get("role")
        if role is not None and role not in ("upper", "lower"):
            return "error", f"{action}: role must be 'upper' or 'lower', not {role!r}"
        if role is None:
            if action in BOTH_ROLES:
                return "error", f"{action}: an intermediate EMA needs 'role' (upper or lower) for this action"
            role = "upper" if action in UPPER_ONLY else "lower" if action in LOWER_ACTIONS else None
            if role is None:
                return "unsupported", f"{action} is not a known action"
        if role == "upper" and action in LOWER_ACTIONS and action not in BOTH_ROLES:
            return "unsupported", f"{action} is an action of the lower role"
        if role == "lower" and action in UPPER_ONLY:
            return "unsupported", f"{action} is an action of the upper role"
        target = self.upper if role == "upper" else self.lower
        return await target.stimulate(action, {k: v for k, v in args.items() if k != "role"})
