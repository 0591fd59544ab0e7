"""The sample EMA's lower role (push and pull): ``LowerEma(config)`` implements conformance.ema.role.Role."""

from .agent import LowerEma

__all__ = ["LowerEma"]
