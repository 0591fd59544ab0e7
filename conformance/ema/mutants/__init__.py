"""The mutant zoo of the sample EMA: deliberate one-requirement deviations, switched on at start.

``python -m conformance.ema.mutants NAME -- <emap-conformance ema arguments>`` applies mutant NAME to this
process, then runs the sample EMA exactly as ``emap-conformance ema`` would. ``python -m
conformance.ema.mutants list`` prints the zoo. The embedded IUT of a conformance run uses a mutant when the
environment variable ``EMAP_SAMPLE_MUTANT`` names one (see ``docs/selfcheck.md``).
"""

from conformance.ema.mutants.registry import Mutant, MutantError, all_mutants, get

__all__ = ["Mutant", "MutantError", "all_mutants", "get"]
