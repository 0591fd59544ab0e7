"""The CI subset of the mutant zoo: one mutant per clause, each killed by a test of the requirement it breaks.

Each mutant runs with only the tests it must fail (``--fast``); the full zoo runs in ``tox -e mutants``."""

from conformance.selfcheck.zoo import report, run_zoo, select

RUN_TIMEOUT_S = 120.0


def test_fast_subset_is_killed_by_the_right_requirement(tmp_path):
    outcomes = run_zoo(select(fast=True), tmp_path, narrow=True, timeout=RUN_TIMEOUT_S, progress=lambda line: None)
    assert all(o.by_right_requirement for o in outcomes), report(outcomes)
