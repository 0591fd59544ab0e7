"""Community load: many simulated lower EMAs against an upper-EMA IUT, every exchange checked (docs/load.md).

Entry points: ``conformance.load.cli.main(argv) -> int`` (``emap-conformance load``), ``run_load(plan)``.
"""

from conformance.load.plan import LoadPlan, Mix, PlanError
from conformance.load.runner import IutUnreachable, run_load

__all__ = ["IutUnreachable", "LoadPlan", "Mix", "PlanError", "run_load"]
