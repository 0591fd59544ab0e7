"""Procedure-sequence fuzzing of a push-mode lower-EMA IUT from the reference upper EMA (TC-F-LSEQ).

Events (new, modified, cancelled, stale, resent), report requests and cancels, metadata and data reports,
re-registration requests, cancels of the registration and exact repeats in any order, and the IUT's own procedures
on stimulus; every answer is judged by a model of the binding and followed by the liveness oracle. The budget is
``--fuzz-examples`` sequences / ``--fuzz-seconds`` per test, seeded by ``--seed``.
"""

from __future__ import annotations

from conformance.testcases.fuzz.support import LOWER_PUSH, fuzz_sequences_lower
from conformance.testcases.marker import emap_test

REQUIREMENTS = ["EMAP-6.3.2-07", "EMAP-6.3.2-08", "EMAP-6.3.2-09", "EMAP-6.3.2-10", "EMAP-6.3.3-05",
                "EMAP-6.2.1-03", "EMAP-6.2.1-04", "EMAP-6.2.1-06", "EMAP-6.2.4-03", "EMAP-6.2.4-04",
                "EMAP-6.2.5-02", "EMAP-6.2.5-03", "EMAP-6.4.1-03", "EMAP-6.4.2-06", "EMAP-6.4.3-02",
                "EMAP-6.4.3-05", "EMAP-6.4.4-04", "EMAP-6.4.5-02", "EMAP-6.4.5-03", "EMAP-6.1-01", "EMAP-6.1-02",
                "EMAP-6.1-09", "EMAP-7.1.5-07"]


@emap_test("TC-F-LSEQ", requirements=REQUIREMENTS, applies=LOWER_PUSH)
async def test_fuzz_lower_procedure_sequences(emap_case, emap_run, fuzz, fuzz_stats, link, profile):
    """Upper-EMA requests and the IUT's own procedures in any order get the answers the binding's model predicts
    (event records, report requests, re-registration and cancel per Table 6.2-2, cached repeats), and the IUT
    stays alive."""
    await fuzz_sequences_lower(emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz, fuzz_stats=fuzz_stats,
                               link=link, profile=profile)
