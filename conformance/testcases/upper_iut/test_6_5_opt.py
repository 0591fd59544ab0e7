"""Clause 6.5 Opt service, upper-EMA IUT: form checks (454), foreign venID (462), events (452/454), cancel."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages.timefmt import utc_now
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    UPPER_ROLES,
    act,
    check_conformance,
    expect_answer,
    fail,
    flip_case,
)

CREATED, CANCELED = "emapCreatedOpt", "emapCanceledOpt"


def _window():
    return [(utc_now(), "PT1H")]


async def _event_for(peer, stimulus) -> str:
    """An event of U addressing ``peer`` (created by stimulus, modificationNumber 0); its eventID."""
    event_id = peer.ids("ev")
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": event_id})
    return event_id


async def _opt(peer, requirement, trace, code, **kwargs):
    """POST an emapCreateOpt built from ``kwargs`` and judge its answer (type, responseCode, optID echo)."""
    opt_id = kwargs.pop("opt_id", None) or peer.ids("opt")
    message = B.create_opt(peer.ids("co"), peer.ven_id, opt_id, kwargs.pop("opt_type", "optOut"), **kwargs)
    return expect_answer(trace, await peer.post("EiOpt", message), requirement, name=CREATED, code=code)


@emap_test("TC-U-6.5.2-01", requirements=["EMAP-6.5.2-03"], applies=UPPER_ROLES)
async def test_opt_form_454(lower, trace, stimulus):
    """create-opt with both forms, with neither form, or with marketContext in event form is answered 454."""
    peer = await lower()
    event_id = await _event_for(peer, stimulus)
    await _opt(peer, "EMAP-6.5.2-03", trace, "454", availability=_window(), event_id=event_id,
               modification_number=0)
    await _opt(peer, "EMAP-6.5.2-03", trace, "454")
    await _opt(peer, "EMAP-6.5.2-03", trace, "454", event_id=event_id, modification_number=0,
               market_context="http://example.com/programs/default")


@emap_test("TC-U-6.5.2-02", requirements=["EMAP-6.5.2-04"], applies=UPPER_ROLES)
async def test_opt_foreign_ven_462(lower, trace):
    """create-opt whose eiTarget.venID names another, a case-flipped, or an additional venID is answered 462."""
    peer = await lower()
    other = peer.ids("ven-other")
    for ven_ids in ([other], [flip_case(peer.ven_id)], [peer.ven_id, other]):
        await _opt(peer, "EMAP-6.5.2-04", trace, "462", availability=_window(), target={"venID": ven_ids})
    await _opt(peer, "EMAP-6.5.2-04", trace, "200", availability=_window(), target={"venID": [peer.ven_id]})


@emap_test("TC-U-6.5.2-03", requirements=["EMAP-6.5.2-05"], applies=UPPER_ROLES)
async def test_event_form_checks(lower, trace, stimulus):
    """Event form: an unknown (or case-flipped) eventID, or one of an event not addressing L, is answered 452; a
    modificationNumber that is not the current one 454; the current one 200."""
    peer = await lower(name="L1")
    other = await lower(name="L2")
    mine = await _event_for(peer, stimulus)
    theirs = await _event_for(other, stimulus)
    for event_id in (peer.ids("ev-unknown"), flip_case(mine), theirs):
        await _opt(peer, "EMAP-6.5.2-05", trace, "452", event_id=event_id, modification_number=0)
    await _opt(peer, "EMAP-6.5.2-05", trace, "454", event_id=mine, modification_number=1)
    await _opt(peer, "EMAP-6.5.2-05", trace, "200", event_id=mine, modification_number=0)


@emap_test("TC-U-6.5.2-04", requirements=["EMAP-6.5.2-06"], applies=UPPER_ROLES)
async def test_opt_created_and_replaced(lower, trace):
    """A valid opt is answered 200 echoing optID; creating it again replaces it, so one cancel removes it."""
    peer = await lower()
    opt_id = peer.ids("opt")
    for opt_type in ("optOut", "optIn"):
        reply = await _opt(peer, "EMAP-6.5.2-06", trace, "200", opt_id=opt_id, opt_type=opt_type,
                           availability=_window())
        if reply.body.get("optID") != opt_id:
            raise fail("EMAP-6.5.2-06", f"emapCreatedOpt echoes optID {reply.body.get('optID')!r}, not {opt_id!r}")
    expect_answer(trace, await peer.cancel_opt(opt_id), "EMAP-6.5.2-06", name=CANCELED, code="200")
    expect_answer(trace, await peer.cancel_opt(opt_id), "EMAP-6.5.2-06", name=CANCELED, code="452")


@emap_test("TC-U-6.5.3-01", requirements=["EMAP-6.5.3-01"], applies=UPPER_ROLES)
async def test_cancel_unknown_opt_452(lower, trace):
    """Cancelling an unknown optID, a case-flipped one, or another lower EMA's optID is answered 452."""
    peer = await lower(name="L1")
    other = await lower(name="L2")
    opt_id = peer.ids("opt-shared")
    await _opt(other, "EMAP-6.5.3-01", trace, "200", opt_id=opt_id, availability=_window())
    mine = peer.ids("opt-mine")
    await _opt(peer, "EMAP-6.5.3-01", trace, "200", opt_id=mine, availability=_window())
    for candidate in (peer.ids("opt-unknown"), opt_id, flip_case(mine)):
        expect_answer(trace, await peer.cancel_opt(candidate), "EMAP-6.5.3-01", name=CANCELED, code="452")
    expect_answer(trace, await other.cancel_opt(opt_id), "EMAP-6.5.3-01", name=CANCELED, code="200")
    expect_answer(trace, await peer.cancel_opt(mine), "EMAP-6.5.3-01", name=CANCELED, code="200")


@emap_test("TC-U-6.5.3-02", requirements=["EMAP-6.5.3-02"], applies=UPPER_ROLES)
async def test_cancel_opt(lower, trace):
    """A cancel is answered 200 echoing optID; a second cancel is 452 until the optID is created again."""
    peer = await lower()
    opt_id = peer.ids("opt")
    await _opt(peer, "EMAP-6.5.3-02", trace, "200", opt_id=opt_id, availability=_window())
    reply = expect_answer(trace, await peer.cancel_opt(opt_id), "EMAP-6.5.3-02", name=CANCELED, code="200")
    if reply.body.get("optID") != opt_id:
        raise fail("EMAP-6.5.3-02", f"emapCanceledOpt echoes optID {reply.body.get('optID')!r}, not {opt_id!r}")
    expect_answer(trace, await peer.cancel_opt(opt_id), "EMAP-6.5.3-02", name=CANCELED, code="452")
    await _opt(peer, "EMAP-6.5.3-02", trace, "200", opt_id=opt_id, availability=_window())
    expect_answer(trace, await peer.cancel_opt(opt_id), "EMAP-6.5.3-02", name=CANCELED, code="200")


@emap_test("TC-U-6.5.4-01", requirements=["EMAP-6.5.4-01"], applies=UPPER_ROLES)
async def test_opt_messages_conform(lower, trace, stimulus):
    """Every Opt-service message U sends (successes and errors) conforms to its schema."""
    peer = await lower()
    event_id = await _event_for(peer, stimulus)
    opt_id = peer.ids("opt")
    for kwargs in ({"availability": _window()}, {"event_id": event_id, "modification_number": 0},
                   {"availability": _window(), "target": {"venID": [peer.ids("ven-other")]}}):
        await peer.post("EiOpt", B.create_opt(peer.ids("co"), peer.ven_id, opt_id, "optOut", **kwargs))
    await peer.cancel_opt(opt_id)
    await peer.cancel_opt(opt_id)
    check_conformance(trace, "EMAP-6.5.4-01", "Opt")
