"""Fuzzing an upper-EMA IUT: message contents per message type, state rules, CoAP framing.

Every case is followed by the liveness oracle (a known-good emapQueryRegistration must be answered correctly). The
budget is ``--fuzz-examples`` / ``--fuzz-seconds`` per test, the cases are seeded by ``--seed``.
"""

from __future__ import annotations

import pytest

from conformance.fuzz import strategies
from conformance.messages import MESSAGES
from conformance.testcases.fuzz.support import UPPER_ROLES, fuzz_sequences_upper, fuzz_upper
from conformance.testcases.marker import emap_test

MESSAGE_REQUIREMENTS = ["EMAP-7.1.4-06", "EMAP-6.1-01", "EMAP-6.1-02", "EMAP-6.1-06", "EMAP-6.1-10",
                        "EMAP-7.1.3-05", "EMAP-7.1.6-02", "EMAP-7.1.5-14", "EMAP-B-02", "EMAP-B-06",
                        "EMAP-B-07", "EMAP-6.2.1-02", "EMAP-6.2.2-03"]


@pytest.mark.parametrize("name", sorted(MESSAGES))
@emap_test("TC-F-MSG", requirements=MESSAGE_REQUIREMENTS, applies=UPPER_ROLES)
async def test_fuzz_message(name, emap_case, emap_run, fuzz, fuzz_stats, iut, trace, timing, profile):
    """Valid and near-valid messages get the procedure's response or 4.00, and the IUT stays alive."""
    await fuzz_upper(strategies.message_cases(name), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, iut=iut, trace=trace, timing=timing, profile=profile)


@emap_test("TC-F-STATE", requirements=["EMAP-6.1-08", "EMAP-6.2.1-02", "EMAP-6.2.4-03", "EMAP-6.2.3-04",
                                       "EMAP-6.1-07", "EMAP-6.1-01"], applies=UPPER_ROLES)
async def test_fuzz_state_rules(emap_case, emap_run, fuzz, fuzz_stats, iut, trace, timing, profile):
    """Well-formed messages breaking one state rule get that rule's responseCode, and the IUT stays alive."""
    await fuzz_upper(strategies.state_cases(), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, iut=iut, trace=trace, timing=timing, profile=profile)


@pytest.mark.parametrize("group", sorted(strategies.COAP_GROUPS))
@emap_test("TC-F-COAP", requirements=["EMAP-7.1.4-05", "EMAP-7.1.4-01", "EMAP-7.1.4-02", "EMAP-7.1.4-03",
                                      "EMAP-7.1.3-03", "EMAP-7.1.3-04", "EMAP-7.1.5-10", "EMAP-7.1.5-13",
                                      "EMAP-7.1.6-01", "EMAP-7.1.4-06"], applies=UPPER_ROLES)
async def test_fuzz_coap(group, emap_case, emap_run, fuzz, fuzz_stats, iut, trace, timing, profile):
    """Requests with one CoAP-level change get the code of Table 7.1-3 (or are ignored), and the IUT stays alive."""
    await fuzz_upper(strategies.coap_cases(group), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, iut=iut, trace=trace, timing=timing, profile=profile)


@emap_test("TC-F-SEQ", requirements=["EMAP-6.2.1-04", "EMAP-6.2.2-03", "EMAP-6.2.2-04", "EMAP-6.2.2-05",
                                     "EMAP-6.2.3-05", "EMAP-6.2.3-06", "EMAP-6.2.3-08", "EMAP-6.2.4-04",
                                     "EMAP-6.2.1-02", "EMAP-6.6-02", "EMAP-6.6-03", "EMAP-6.1-06"],
           applies=UPPER_ROLES)
async def test_fuzz_procedure_sequences(emap_case, emap_run, fuzz, fuzz_stats, iut, trace, timing, profile):
    """Procedures in any order (register, re-register, query, cancel, events, opts, reports, polls) get the
    answers the binding's registration model predicts, and the IUT stays alive."""
    await fuzz_sequences_upper(emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz, fuzz_stats=fuzz_stats,
                               iut=iut, trace=trace, timing=timing)
