"""Fuzzing a lower-EMA IUT from the reference upper EMA: the messages it accepts (push: POSTed to its resources),
state rules, CoAP framing, and (pull) the replies to its polls.

Every case is followed by the liveness oracle (a known-good emapDistributeEvent is answered 200; in pull mode it is
fetched by the IUT's next poll). The budget is ``--fuzz-examples`` / ``--fuzz-seconds`` per test, the cases are
seeded by ``--seed``.
"""

from __future__ import annotations

import pytest

from conformance.fuzz import pollcoap, strategies
from conformance.testcases.fuzz.support import LOWER_PULL, LOWER_PUSH, fuzz_lower
from conformance.testcases.marker import emap_test

LIVENESS = ["EMAP-6.3.2-07", "EMAP-6.1-01", "EMAP-6.1-02", "EMAP-6.1-10"]


@pytest.mark.parametrize("name", strategies.LOWER_MESSAGES)
@emap_test("TC-F-LMSG", requirements=["EMAP-7.1.4-06", "EMAP-7.1.3-05", "EMAP-7.1.6-02", "EMAP-7.1.5-14",
                                      "EMAP-B-02", "EMAP-B-06", "EMAP-6.2.1-03", "EMAP-6.2.5-02",
                                      "EMAP-6.2.5-03", "EMAP-6.2.4-03", "EMAP-6.3.2-06", *LIVENESS],
           applies=LOWER_PUSH)
async def test_fuzz_lower_message(name, emap_case, emap_run, fuzz, fuzz_stats, link, profile):
    """Valid and near-valid messages POSTed to a push-mode lower EMA get the procedure's response or 4.00, and
    the IUT stays alive."""
    await fuzz_lower(strategies.message_cases(name, "L"), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, link=link, profile=profile)


@emap_test("TC-F-LSTATE", requirements=["EMAP-6.1-08", "EMAP-6.2.5-02", "EMAP-6.2.4-03", "EMAP-6.3.2-06",
                                        "EMAP-6.4.5-02", *LIVENESS], applies=LOWER_PUSH)
async def test_fuzz_lower_state_rules(emap_case, emap_run, fuzz, fuzz_stats, link, profile):
    """Well-formed messages with an ID that is not the link's get 452, and the IUT stays alive."""
    await fuzz_lower(strategies.state_cases("L"), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, link=link, profile=profile)


@pytest.mark.parametrize("group", sorted(strategies.COAP_GROUPS))
@emap_test("TC-F-LCOAP", requirements=["EMAP-7.1.4-05", "EMAP-7.1.4-01", "EMAP-7.1.4-02", "EMAP-7.1.4-03",
                                       "EMAP-7.1.3-03", "EMAP-7.1.3-04", "EMAP-7.1.5-10", "EMAP-7.1.5-13",
                                       "EMAP-7.1.6-01", "EMAP-7.1.4-06", *LIVENESS], applies=LOWER_PUSH)
async def test_fuzz_lower_coap(group, emap_case, emap_run, fuzz, fuzz_stats, link, profile):
    """Requests to a push-mode lower EMA with one CoAP-level change get the code of Table 7.1-3 (or are ignored),
    and the IUT stays alive."""
    await fuzz_lower(strategies.coap_cases(group), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, link=link, profile=profile)


@emap_test("TC-F-LPOLL", requirements=["EMAP-6.6-11", "EMAP-6.1-05", "EMAP-6.6-04", "EMAP-6.6-05",
                                       "EMAP-6.6-07", "EMAP-6.2.5-02", "EMAP-6.2.5-03", "EMAP-6.2.4-03",
                                       "EMAP-6.3.2-06", "EMAP-6.3.3-01", *LIVENESS], applies=LOWER_PULL)
async def test_fuzz_lower_poll_replies(emap_case, emap_run, fuzz, fuzz_stats, link, profile):
    """Valid poll replies get their step two (type, code, echo, resource, before the next poll), broken or foreign
    ones none, and the IUT keeps polling."""
    await fuzz_lower(strategies.poll_reply_cases(), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, link=link, profile=profile)


@emap_test("TC-F-LPCOAP", requirements=["EMAP-7.1.4-07", "EMAP-7.1.4-04", "EMAP-7.1.1-03", "EMAP-7.1.5-08",
                                        "EMAP-7.1.5-13", "EMAP-7.1.5-04", "EMAP-6.6-04", "EMAP-6.6-05",
                                        "EMAP-6.6-07", "EMAP-6.6-11", "EMAP-6.3.3-01", *LIVENESS],
           applies=f'{LOWER_PULL} and "nosec" in security')
async def test_fuzz_lower_poll_coap(emap_case, emap_run, fuzz, fuzz_stats, link, profile):
    """Poll replies with one CoAP-level change: another code, Content-Format, unknown options, a wrong token, a
    late separate response, broken payload or framing. A reply the IUT must not accept gets no step two (and
    after 5.03 no poll before Max-Age), an acceptable one its step two, an ignored datagram its step two after
    the IUT re-sent its poll; the IUT keeps polling."""
    await fuzz_lower(pollcoap.poll_coap_cases(), emap_case=emap_case, emap_run=emap_run, fuzz_budget=fuzz,
                     fuzz_stats=fuzz_stats, link=link, profile=profile)
