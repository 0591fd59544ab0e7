"""The sample EMA's upper role (`UpperEma`, implements `conformance.ema.role.Role`)."""

from conformance.ema.upper.ema import UpperEma

__all__ = ["UpperEma"]
