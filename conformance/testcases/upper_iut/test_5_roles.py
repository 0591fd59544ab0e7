"""Clause 5 architecture and roles, upper-EMA IUT: messages U may send, both modes at once, vtnID, venIDs,
independent registrations, the intermediate EMA's endpoint."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from conformance.messages import build as B
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    UPPER_ROLES,
    act,
    answer_of,
    describe,
    expect_answer,
    fail,
    sent_by_iut,
)
from conformance.verdict import Inconclusive

#: Table 5-2: what an upper EMA sends as a request (POSTed, or delivered as a poll reply) and as a response.
U_REQUESTS = frozenset({"emapCancelPartyRegistration", "emapRequestReregistration", "emapDistributeEvent",
                        "emapRegisterReport", "emapCreateReport", "emapUpdateReport", "emapCancelReport"})
U_RESPONSES = frozenset({"emapCreatedPartyRegistration", "emapCanceledPartyRegistration", "emapResponse",
                         "emapDistributeEvent", "emapRegisteredReport", "emapCreatedReport", "emapUpdatedReport",
                         "emapCanceledReport", "emapCreatedOpt", "emapCanceledOpt"})


@emap_test("TC-U-5-01", requirements=["EMAP-5-01"], applies=UPPER_ROLES)
async def test_upper_sends_only_its_messages(lower, trace, stimulus):
    """Every message U sends during registration, query, events, opts, reports and polls is one Table 5-2 allows
    an upper EMA to send in that place (request, poll reply or response)."""
    pull = await lower(pull=True, name="pull")
    push = await lower(pull=False, name="push")
    for peer in (pull, push):
        await peer.query()
        await peer.request_event()
        await peer.create_opt()
        await peer.register_report()
        await peer.create_report([B.report_request(peer.ids("rq"), "METADATA")])
        await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
        await peer.receive("emapDistributeEvent", timeout=peer.prompt)
    await pull.drain()
    for exchange in trace.exchanges():
        request, reply = exchange.request_message, exchange.response_message
        if exchange.direction == "from-iut":
            if request is not None and request.name not in U_REQUESTS:
                raise fail("EMAP-5-01", f"U POSTed {request.name}, which an upper EMA never sends as a request: "
                                        f"{describe(exchange)}")
        elif reply is not None:
            allowed = U_REQUESTS | {"emapResponse"} if request is not None and request.name == "emapPoll" \
                else U_RESPONSES
            if reply.name not in allowed:
                raise fail("EMAP-5-01", f"U answered with {reply.name}, which Table 5-2 does not allow there: "
                                        f"{describe(exchange)}")


@emap_test("TC-U-5-02", requirements=["EMAP-5-02"], applies=UPPER_ROLES)
async def test_push_and_pull_concurrently(lower, trace):
    """U accepts a pull-mode and a push-mode registration at the same time on one endpoint and serves both."""
    pull = await lower(pull=True, name="pull", register=False)
    push = await lower(pull=False, name="push", register=False)
    for peer in (pull, push):
        answer = answer_of(trace, await peer.register(), "EMAP-5-02")
        if answer.response_code == "469":  # a refusal by policy is allowed (EMAP-6.2.3-10): nothing to judge
            raise Inconclusive(f"the {peer.name}-mode registration was refused by policy (469)")
        if answer.response_code != "200":
            raise fail("EMAP-5-02", f"U refused a {peer.name}-mode registration with {answer.response_code} "
                                    f"while serving the other mode; it must accept both")
    pushed = await push.next_request("emapRegisterReport", timeout=push.prompt)
    if pushed is None:
        raise fail("EMAP-5-02", f"with a pull-mode lower EMA registered, nothing was POSTed to the push-mode one "
                                f"at {push.base_uri} within {push.prompt:.1f} s")
    reply = answer_of(trace, await pull.poll(), "EMAP-5-02")
    if reply.name != "emapRegisterReport":
        raise fail("EMAP-5-02", f"with a push-mode lower EMA registered, the pull-mode one's poll got {reply.name}")
    for peer in (pull, push):
        query = answer_of(trace, await peer.query(), "EMAP-5-02")
        if query.body.get("registrationID") != peer.registration_id:
            raise fail("EMAP-5-02", f"the {peer.name} registration is gone while the other mode is registered")


@emap_test("TC-U-5-03", requirements=["EMAP-5-04"], applies=UPPER_ROLES)
async def test_one_vtn_id(lower, trace, stimulus, profile):
    """U uses one non-empty vtnID, identical in every message carrying vtnID, towards two lower EMAs (the
    declared one, PIXIT vtn_id, when given)."""
    unregistered = await lower(register=False, name="unregistered")
    await unregistered.query(with_ven_id=False)
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        await peer.request_event()
        await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
        await peer.receive("emapDistributeEvent", timeout=peer.prompt)
    values = {(m.name, m.body["vtnID"]) for _, m in sent_by_iut(trace) if "vtnID" in m.body}
    distinct = {vtn for _, vtn in values}
    if len(distinct) != 1 or "" in distinct:
        raise fail("EMAP-5-04", f"U sent vtnIDs {sorted(values)}; expected one non-empty value")
    declared = profile.pixit["vtn_id"]
    if declared and distinct != {declared}:
        raise fail("EMAP-5-04", f"U sent vtnID {distinct.pop()!r}; the declared vtnID (PIXIT) is {declared!r}")


@emap_test("TC-U-5-04", requirements=["EMAP-5-05"], applies=UPPER_ROLES)
async def test_distinct_ven_ids(lower, trace):
    """Lower EMAs registering concurrently without venID get distinct venIDs."""
    peers = await asyncio.gather(*(lower(name=f"L{n}", settle=False) for n in range(3)))
    created = [m for _, m in sent_by_iut(trace, "emapCreatedPartyRegistration") if m.response_code == "200"]
    ven_ids = [m.body.get("venID") for m in created]
    if len(created) < len(peers):
        raise Inconclusive(f"only {len(created)} of {len(peers)} registrations were accepted")
    if len(set(ven_ids)) != len(ven_ids):
        raise fail("EMAP-5-05", f"concurrent registrations were given venIDs {ven_ids}")


@emap_test("TC-U-5-05", requirements=["EMAP-5-06"], applies=UPPER_ROLES)
async def test_registrations_independent(lower, trace):
    """Opts and the cancel of one lower EMA leave another lower EMA's registration, queue and opts unchanged."""
    bystander = await lower(name="bystander", settle=False)
    actor = await lower(name="actor")
    opt_id = actor.ids("opt-shared")
    for peer in (bystander, actor):
        expect_answer(trace, await peer.create_opt(opt_id), "EMAP-5-06", name="emapCreatedOpt", code="200")
    await actor.cancel_opt(opt_id)
    await actor.cancel()
    first = answer_of(trace, await bystander.poll(), "EMAP-5-06")
    if first.name != "emapRegisterReport":
        raise fail("EMAP-5-06", f"another lower EMA's procedures changed the bystander's queue: its first poll "
                                f"got {first.name}, not its queued emapRegisterReport")
    query = answer_of(trace, await bystander.query(), "EMAP-5-06")
    if query.body.get("registrationID") != bystander.registration_id:
        raise fail("EMAP-5-06", "another lower EMA's cancel ended the bystander's registration")
    expect_answer(trace, await bystander.cancel_opt(opt_id), "EMAP-5-06", name="emapCanceledOpt", code="200")


@emap_test("TC-U-5-06", requirements=["EMAP-5-07"], applies='role == "intermediate"')
async def test_intermediate_one_endpoint(lower, trace, iut):
    """Intermediate IUT: its upper-EMA resources and its lower-EMA resources share one endpoint under two
    distinct base paths."""
    if iut.lower_uri is None:
        raise Inconclusive("the intermediate IUT is not registered in push mode with its upper EMA")
    upper, below = urlsplit(iut.base_uri), urlsplit(iut.lower_uri)
    if (upper.hostname, upper.port) != (below.hostname, below.port) or upper.path == below.path:
        raise fail("EMAP-5-07", f"upper base URI {iut.base_uri} and lower base URI {iut.lower_uri} are not one "
                                "endpoint with two distinct base paths")
    peer = await lower(register=False)
    answer_of(trace, await peer.query(with_ven_id=False), "EMAP-5-07")
