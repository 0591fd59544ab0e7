"""The sample lower EMA against the sample upper EMA, in pull and in push mode, through every procedure of
Table 6.1-1 (P3, P7 to P10 initiated by each side) and, in pull mode, every poll reply R0..R7 (Table 6.6-1).

Each step is a stimulus action at one EMA's control resource; its effect is looked for on the wire (the trace of
the WireTaps between the EMAs), and the whole trace is then checked: schemas, sender rules, response types,
responseCodes and echoed requestIDs, step twos, resources."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from ema_pair_checks import (
    all_procedures,
    exchange_problems,
    poll_replies_seen,
    procedures_seen,
    rule_violations,
    schema_problems,
)
from ema_pair_harness import Pair

from conformance.messages import POLL_REPLIES

PERIODIC = {"granularity": "PT1S", "reportBackDuration": "PT3S"}
"""Periodic reports three poll periods apart: a cancel follows a report by less than that, so no report crosses
it. (A report sent or, pull mode, queued while its request was active counts as sent,
EMAP-6.4.4-01; crossing the cancel it is rightly answered 452, EMAP-6.4.4-04: a real race this script
avoids.)"""


@dataclass(frozen=True)
class Step:
    what: str
    side: str | None  # the EMA that acts ("U"/"L"), None: what starting the pair causes
    action: str | None
    args: dict
    expect: list[list[tuple[str, str]]]
    """Chains of (sender, message) that must appear, each in its order; the chains may interleave."""


def _by_l(name: str, answer: str) -> list[tuple[str, str]]:
    return [("L", name), ("U", answer)]


def _by_u(mode: str, name: str, answer: str) -> list[tuple[str, str]]:
    """A U-initiated request: pushed and answered in the 2.04, or a poll reply whose step two U acknowledges
    (`emapResponse`, or an empty 2.04 for a POSTed `emapResponse`)."""
    steps = [("U", name), ("L", answer)]
    return steps + [("U", "emapResponse")] if mode == "pull" and answer != "emapResponse" else steps


def _after(mode: str, first: list, then: list) -> list[list[tuple[str, str]]]:
    """``then`` follows ``first``. Pull: one chain. Push: the two taps record concurrently, and two datagrams one
    EMA sends to both taps within a millisecond may be recorded in either order, so ``then`` is only checked to
    follow ``first``'s opening message."""
    if mode == "pull":
        return [first + then]
    return [first, first[:1] + then]


def script(mode: str) -> list[Step]:
    registration = (_by_l("emapQueryRegistration", "emapCreatedPartyRegistration")
                    + _by_l("emapCreatePartyRegistration", "emapCreatedPartyRegistration"))
    bootstrap = (_by_l("emapRegisterReport", "emapRegisteredReport")
                 + _by_l("emapRequestEvent", "emapDistributeEvent"))
    first_poll = [("L", "emapPoll")] if mode == "pull" else []
    return [
        Step("P1, P2, P7 and P6 by L, P7 by U (EMAP-6.2.3-11/-12)", None, None, {},
             [registration + bootstrap + first_poll,
              [("L", "emapCreatePartyRegistration")] + _by_u(mode, "emapRegisterReport", "emapRegisteredReport")]),
        Step("P5 (R3)", "U", "create-event", {"eventID": "ev-1"},
             [_by_u(mode, "emapDistributeEvent", "emapCreatedEvent")]),
        Step("P6 and its follow-up emapCreatedEvent (P14, EMAP-6.3.3-05)", "L", "request-event", {},
             [_by_l("emapRequestEvent", "emapDistributeEvent") + _by_l("emapCreatedEvent", "emapResponse")]),
        Step("P11", "L", "create-opt", {"optID": "o-1", "optType": "optOut", "eventID": "ev-1"},
             [_by_l("emapCreateOpt", "emapCreatedOpt")]),
        Step("P12", "L", "cancel-opt", {"optID": "o-1"}, [_by_l("emapCancelOpt", "emapCanceledOpt")]),
        Step("P8 by U (R5), then P9 by L", "U", "request-report",
             {"reportSpecifierID": "rs-status", "rIDs": ["status-1"], "reportRequestID": "rq-u1", **PERIODIC},
             [_by_u(mode, "emapCreateReport", "emapCreatedReport") + _by_l("emapUpdateReport", "emapUpdatedReport")]),
        Step("P10 by U (R7)", "U", "cancel-report", {"reportRequestID": "rq-u1"},
             [_by_u(mode, "emapCancelReport", "emapCanceledReport")]),
        Step("P8 by L, then P9 by U (R6)", "L", "request-report",
             {"reportSpecifierID": "u-status", "rIDs": ["u-status-1"], "reportRequestID": "rq-l1", **PERIODIC},
             [_by_l("emapCreateReport", "emapCreatedReport") + _by_u(mode, "emapUpdateReport", "emapUpdatedReport")]),
        Step("P10 by L", "L", "cancel-report", {"reportRequestID": "rq-l1"},
             [_by_l("emapCancelReport", "emapCanceledReport")]),
        Step("P4 (R2), then P2 with the registrationID (EMAP-6.2.5-03)", "U", "request-reregistration", {},
             _after(mode, _by_u(mode, "emapRequestReregistration", "emapResponse"),
                    _by_l("emapCreatePartyRegistration", "emapCreatedPartyRegistration"))),
        Step("P3 by U (R1)", "U", "cancel-registration", {},
             [_by_u(mode, "emapCancelPartyRegistration", "emapCanceledPartyRegistration")]),
        Step("P2 again after the cancel", "L", "create-registration", {},
             [_by_l("emapCreatePartyRegistration", "emapCreatedPartyRegistration") + bootstrap]),
        Step("P3 by L", "L", "cancel-registration", {},
             [_by_l("emapCancelPartyRegistration", "emapCanceledPartyRegistration")]),
    ]


@pytest.mark.parametrize("mode", ["pull", "push"])
async def test_pair_through_every_procedure(mode):
    pair = Pair(mode)
    try:
        await pair.start()
        for step in script(mode):
            since = pair.mark() if step.side else 0
            if step.side:
                await pair.act(step.side, step.action, step.args)
            for chain in step.expect:
                await pair.expect(since, chain, step.what)
    finally:
        await pair.stop()
    trace = pair.trace
    assert schema_problems(trace) == []
    assert rule_violations(trace) == []
    assert exchange_problems(trace) == []
    assert procedures_seen(trace) == all_procedures(mode)
    if mode == "pull":
        assert poll_replies_seen(trace) == {f"R{k}" for k in range(len(POLL_REPLIES))}
