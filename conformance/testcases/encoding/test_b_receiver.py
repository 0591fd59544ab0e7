"""Annex B, receiver side (EMAP-B-05): member names, enumeration values and IDs are case-sensitive. A required
member whose name differs only in case is missing and an enumeration value in another case is not listed, so the
payload fails its schema (CoAP 4.00, EMAP-7.1.4-06); a case-flipped ID is another ID (452, or 463 for an unknown
venID at an upper EMA)."""

from __future__ import annotations

from conformance.messages import SERVICE_RESOURCE
from conformance.messages import build as B
from conformance.messages.timefmt import utc_now
from conformance.testcases.lower_iut.support import PUSH, pushed_exchange
from conformance.testcases.lower_iut.support import describe as describe_push
from conformance.testcases.lower_iut.support import expect_answer as expect_lower_answer
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import UPPER_ROLES, exchange_of, expect_answer, flip_case
from conformance.testcases.upper_iut.support import describe as describe_post
from conformance.verdict import Fail, Inconclusive

from .case_probes import case_changed, renamed, revalued

B05 = "EMAP-B-05"


def _secured(profile) -> bool:
    """Under a secure profile a case-flipped venID or vtnID fails the identity check first (4.03, DEC-109)."""
    return (profile.pixit.get("credentials") or {}).get("profile", "nosec") != "nosec"


def _expect_400(exchange, what: str, describe) -> None:
    if exchange is None or exchange.code != "4.00":
        raise Fail(f"{B05}: {what}: expected CoAP 4.00 (schema failure); wire: {describe(exchange)}")


def _window():
    return [(utc_now(), "PT1H")]


# -- upper IUT: the reference lower EMA POSTs ------------------------------------------------------------------
async def _post_raw(peer, trace, envelope: dict, payload: bytes, what: str) -> None:
    posted = await peer.post(SERVICE_RESOURCE[next(iter(envelope))], payload, expect_answer=False)
    _expect_400(exchange_of(trace, posted), what, describe_post)


@emap_test("TC-B-05-01", requirements=["EMAP-B-05", "EMAP-7.1.4-06"], applies=UPPER_ROLES)
async def test_upper_member_names_case_sensitive(lower, trace):
    """A request whose envelope name or a required member name differs only in case gets 4.00, at any depth."""
    peer = await lower()
    poll = B.poll(peer.ven_id)
    request = B.request_event(peer.ids("re"), peer.ven_id)
    await _post_raw(peer, trace, poll, renamed(poll, (), "emapPoll"), "envelope EmapPoll")
    await _post_raw(peer, trace, poll, renamed(poll, ("emapPoll",), "venID"), "emapPoll with VenID")
    await _post_raw(peer, trace, request, renamed(request, ("emapRequestEvent", "eiRequestEvent"), "venID"),
                    "emapRequestEvent with eiRequestEvent.VenID")


@emap_test("TC-B-05-02", requirements=["EMAP-B-05", "EMAP-7.1.4-06"], applies=UPPER_ROLES)
async def test_upper_enumeration_case_sensitive(lower, trace):
    """An emapCreateOpt whose optType (closed) or optReason (open) differs from a listed value only in case
    gets 4.00."""
    peer = await lower()
    opt = B.create_opt(peer.ids("co"), peer.ven_id, peer.ids("opt"), "optOut", availability=_window())
    for member, value in (("optType", "optout"), ("optType", "OptOut"), ("optReason", "X-schedule")):
        await _post_raw(peer, trace, opt, revalued(opt, ("emapCreateOpt",), member, value),
                        f"emapCreateOpt with {member} {value!r}")


@emap_test("TC-B-05-03", requirements=["EMAP-B-05", "EMAP-6.2.1-02", "EMAP-6.2.4-03"], applies=UPPER_ROLES)
async def test_upper_ids_case_sensitive(lower, trace, profile):
    """A case-flipped venID does not identify the lower EMA (463); a case-flipped registrationID or optID is
    another ID (452)."""
    peer = await lower()
    opt_id = peer.ids("opt")
    created = exchange_of(trace, await peer.create_opt(opt_id, availability=_window())).response_message
    if created is None or created.response_code != "200":
        raise Inconclusive(f"precondition: the emapCreateOpt of {opt_id!r} was not accepted")
    posted = await peer.poll(flip_case(peer.ven_id))
    if _secured(profile):
        exchange = exchange_of(trace, posted)
        if exchange.code != "4.03" and not (exchange.response_message and exchange.response_message.response_code
                                            == "463"):
            raise Fail(f"{B05}: a poll with a case-flipped venID: expected 463 (or 4.03 under a secure profile); "
                       f"wire: {describe_post(exchange)}")
    else:
        expect_answer(trace, posted, B05, name="emapResponse", code="463")
    expect_answer(trace, await peer.cancel_opt(flip_case(opt_id)), B05, name="emapCanceledOpt", code="452")
    expect_answer(trace, await peer.cancel(registration_id=flip_case(peer.registration_id)), B05,
                  name="emapCanceledPartyRegistration", code="452")


# -- push-mode lower IUT: the reference upper EMA POSTs ---------------------------------------------------------
async def _deliver_raw(link, trace, envelope: dict, payload: bytes, what: str) -> None:
    await link.deliver(payload, resource=SERVICE_RESOURCE[next(iter(envelope))])
    _expect_400(pushed_exchange(trace, payload), what, describe_push)


@emap_test("TC-B-05-04", requirements=["EMAP-B-05", "EMAP-7.1.4-06"], applies=PUSH)
async def test_lower_member_names_case_sensitive(link, trace):
    """A request whose envelope name or a required member name differs only in case gets 4.00, at any depth."""
    await link.registered()
    rereg = B.request_reregistration(link.ven_id)
    distribute = link.distribute(link.event())
    descriptor = ("emapDistributeEvent", "emapEvent", "0", "eiEvent", "eventDescriptor")
    await _deliver_raw(link, trace, rereg, renamed(rereg, (), "emapRequestReregistration"),
                       f"envelope {case_changed('emapRequestReregistration')}")
    await _deliver_raw(link, trace, rereg, renamed(rereg, ("emapRequestReregistration",), "venID"),
                       "emapRequestReregistration with VenID")
    await _deliver_raw(link, trace, distribute, renamed(distribute, ("emapDistributeEvent",), "vtnID"),
                       "emapDistributeEvent with VtnID")
    await _deliver_raw(link, trace, distribute, renamed(distribute, descriptor, "eventID"),
                       "emapDistributeEvent with eventDescriptor.EventID")


@emap_test("TC-B-05-05", requirements=["EMAP-B-05", "EMAP-7.1.4-06"], applies=PUSH)
async def test_lower_enumeration_case_sensitive(link, trace):
    """An emapDistributeEvent whose emapResponseRequired, eventStatus or signalType differs from a listed value
    only in case gets 4.00."""
    await link.registered()
    distribute = link.distribute(link.event())
    event = ("emapDistributeEvent", "emapEvent", "0")
    descriptor = (*event, "eiEvent", "eventDescriptor")
    signal = (*event, "eiEvent", "eiEventSignals", "eiEventSignal", "0")
    status = distribute["emapDistributeEvent"]["emapEvent"][0]["eiEvent"]["eventDescriptor"]["eventStatus"]
    for path, member, value in ((event, "emapResponseRequired", "Always"), (descriptor, "eventStatus",
                                                                            status.upper()),
                                (signal, "signalType", "Level")):
        await _deliver_raw(link, trace, distribute, revalued(distribute, path, member, value),
                           f"emapDistributeEvent with {member} {value!r}")


@emap_test("TC-B-05-06", requirements=["EMAP-B-05", "EMAP-6.3.2-06", "EMAP-6.2.4-03"], applies=PUSH)
async def test_lower_ids_case_sensitive(link, trace, profile):
    """A case-flipped vtnID is not the upper EMA's (452 in emapCreatedEvent); a case-flipped registrationID is
    not the link's (452 in emapCanceledPartyRegistration)."""
    await link.registered()
    peer = link.peer
    sent = await link.deliver(link.distribute(link.event(), vtn_id=flip_case(peer.vtn_id)))
    if _secured(profile) and pushed_exchange(trace, sent.payload).code == "4.03":
        pass  # the identity check comes first under a secure profile (DEC-109)
    else:
        expect_lower_answer(trace, sent, B05, name="emapCreatedEvent", code="452")
    cancel = B.cancel_party_registration(peer.ids("cp"), flip_case(peer.link.registration_id), link.ven_id)
    expect_lower_answer(trace, await link.deliver(cancel), B05, name="emapCanceledPartyRegistration", code="452")
