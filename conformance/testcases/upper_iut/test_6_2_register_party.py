"""Clause 6.2 RegisterParty service, upper-EMA IUT: identification, query, create, cancel, reregistration."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages.timefmt import parse_duration, utc_now
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    UPPER_ROLES,
    act,
    answer_of,
    check_conformance,
    describe,
    exchange_of,
    expect_answer,
    expect_empty_ack,
    fail,
    flip_case,
    let_iut_act,
    lower_status_request,
    poll_replies,
    pushed_to,
    sent_by_iut,
)
from conformance.verdict import Inconclusive

CREATED = "emapCreatedPartyRegistration"
CANCELED = "emapCanceledPartyRegistration"


def _ids(message) -> tuple[str | None, str | None]:
    return message.body.get("registrationID"), message.body.get("venID")


async def _unregistered_probe(peer, ven_id: str) -> list:
    """Every L-sent message kind, from an unknown venID, with the response type Table 6.1-1 gives it."""
    ids = peer.ids
    report = B.data_report("rq-x", "rs-x", "TELEMETRY_STATUS",
                           [B.data_interval(utc_now(), "PT0S", [B.report_payload("r-x")])])
    probes = [
        ("EiRegisterParty", B.cancel_party_registration(ids("x"), ids("reg"), ven_id), CANCELED),
        ("EiEvent", B.request_event(ids("re"), ven_id), "emapDistributeEvent"),
        ("EmapPoll", B.poll(ven_id), "emapResponse"),
        ("EiOpt", B.create_opt(ids("co"), ven_id, ids("opt"), "optOut", availability=[(utc_now(), "PT1H")]),
         "emapCreatedOpt"),
        ("EiOpt", B.cancel_opt(ids("xo"), ven_id, ids("opt")), "emapCanceledOpt"),
        ("EiReport", B.register_report(ids("rr"), ven_id, peer.metadata), "emapRegisteredReport"),
        ("EiReport", B.create_report(ids("cr"), ven_id, [B.report_request(ids("rq"), "METADATA")]),
         "emapCreatedReport"),
        ("EiReport", B.update_report(ids("ur"), ven_id, [report]), "emapUpdatedReport"),
        ("EiReport", B.cancel_report(ids("xr"), ven_id, [ids("rq")]), "emapCanceledReport"),
        ("EiReport", B.registered_report(ids("u"), ven_id), "emapResponse"),
        ("EiEvent", B.created_event(ids("u"), ven_id, [B.event_response(ids("u"), ids("ev"), 0)]), "emapResponse"),
        ("EiEvent", B.response(ids("u"), ven_id=ven_id), "emapResponse"),
    ]
    return [(await peer.post(resource, message), name) for resource, message, name in probes]


@emap_test("TC-U-6.2.1-01", requirements=["EMAP-6.2.1-02"], applies=UPPER_ROLES)
async def test_unknown_sender_gets_463(lower, trace):
    """Every request and POSTed response type from an unknown venID is answered 463 in the procedure's response type."""
    peer = await lower(register=False)
    for posted, name in await _unregistered_probe(peer, peer.ids("ven-unknown")):
        expect_answer(trace, posted, "EMAP-6.2.1-02", name=name, code="463")


@emap_test("TC-U-6.2.1-02", requirements=["EMAP-6.2.1-01", "EMAP-6.2.1-02"], applies=UPPER_ROLES)
async def test_case_flipped_ven_id_is_not_identified(lower, trace):
    """A case-flipped venID of a registered lower EMA does not identify it (463); a create carrying only the
    registrationID is identified by it."""
    peer = await lower()
    flipped = flip_case(peer.ven_id)
    expect_answer(trace, await peer.poll(flipped), "EMAP-6.2.1-02", name="emapResponse", code="463")
    expect_answer(trace, await peer.post("EiEvent", B.request_event(peer.ids("re"), flipped)), "EMAP-6.2.1-02",
                  name="emapDistributeEvent", code="463")
    before = (peer.registration_id, peer.ven_id)
    posted = await peer.register(reregister=True, ven_id=None)
    reply = expect_answer(trace, posted, "EMAP-6.2.1-01", name=CREATED, code="200")
    if _ids(reply) != before:
        raise fail("EMAP-6.2.1-01", f"a re-registration naming registrationID {before[0]!r} without venID was "
                                    f"answered with registrationID/venID {_ids(reply)}, expected {before}")


@emap_test("TC-U-6.2.1-03", requirements=["EMAP-6.2.1-04"], applies=UPPER_ROLES)
async def test_reregistration_discards_queue(lower, trace, stimulus):
    """Re-registration keeps registrationID and venID and discards the outbound queue and report requests: a
    report request queued before it is never delivered."""
    peer = await lower()
    if answer_of(trace, await peer.register_report(), "EMAP-6.2.1-04").response_code != "200":
        raise Inconclusive("precondition: the lower EMA's metadata was not accepted")
    await act(stimulus, "request-report", lower_status_request(peer))
    await let_iut_act(peer)
    before = (peer.registration_id, peer.ven_id)
    reply = expect_answer(trace, await peer.register(reregister=True), "EMAP-6.2.1-04", name=CREATED, code="200")
    if _ids(reply) != before:
        raise fail("EMAP-6.2.1-04", f"re-registration changed registrationID/venID {before} to {_ids(reply)}")
    await peer.drain()
    for exchange, message in poll_replies(trace, peer.ven_id):
        if message.name == "emapCreateReport":
            raise fail("EMAP-6.2.1-04", "the emapCreateReport queued before the re-registration was delivered "
                                        f"after it (outbound queue not discarded): {describe(exchange)}")


@emap_test("TC-U-6.2.1-04", requirements=["EMAP-6.2.1-05"], applies=UPPER_ROLES)
async def test_registration_ids_never_reused(lower, trace):
    """registrationIDs are never reused across new registrations, cancels and registrations of other lower EMAs."""
    first = await lower(name="L1")
    await first.register(ven_id=first.ven_id)  # new registration while registered: a new registrationID
    await first.cancel()
    await lower(name="L2")
    await lower(name="L3", pull=False)
    seen: dict[str, str] = {}
    for exchange in trace.exchanges():
        request, reply = exchange.request_message, exchange.response_message
        if request is None or request.name != "emapCreatePartyRegistration" or "registrationID" in request.body:
            continue
        if reply is None or reply.name != CREATED or reply.response_code != "200":
            continue
        registration_id = reply.body.get("registrationID")
        if registration_id in seen:
            raise fail("EMAP-6.2.1-05", f"registrationID {registration_id!r} assigned twice "
                                        f"(requests {seen[registration_id]} and {request.request_id})")
        seen[registration_id] = request.request_id
    if len(seen) < 4:
        raise Inconclusive(f"only {len(seen)} new registrations were accepted; 4 are needed")


@emap_test("TC-U-6.2.2-01", requirements=["EMAP-6.2.2-03", "EMAP-6.2.2-04"], applies=UPPER_ROLES)
async def test_query_unregistered(lower, trace):
    """A query from an unregistered lower EMA: 200, vtnID, EMAP-1.0 over coap, no registrationID or venID."""
    peer = await lower(register=False)
    for posted in (await peer.query(with_ven_id=False),
                   await peer.post("EiRegisterParty", B.query_registration(peer.ids("q"), peer.ids("ven-none")))):
        reply = expect_answer(trace, posted, "EMAP-6.2.2-03", name=CREATED, code="200")
        profiles = reply.body.get("emapProfiles", {}).get("emapProfile", [])
        coap = [p for p in profiles if p.get("emapProfileName") == "EMAP-1.0" and any(
            t.get("emapTransportName") == "coap" for t in p.get("emapTransports", {}).get("emapTransport", []))]
        if not reply.body.get("vtnID") or not coap:
            raise fail("EMAP-6.2.2-03", f"query reply lacks vtnID or profile EMAP-1.0/coap: {reply.body}")
        if "registrationID" in reply.body or "venID" in reply.body:
            raise fail("EMAP-6.2.2-04", f"query reply to an unregistered lower EMA carries registrationID/venID "
                                        f"{_ids(reply)}")


@emap_test("TC-U-6.2.2-02", requirements=["EMAP-6.2.2-05"], applies=UPPER_ROLES)
async def test_query_registered(lower, trace):
    """A query from a registered lower EMA returns its registrationID, venID and, in pull mode, the poll frequency."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        created = answer_of(trace, await peer.query(), "EMAP-6.2.2-05")
        expected = (peer.registration_id, peer.ven_id)
        if _ids(created) != expected:
            raise fail("EMAP-6.2.2-05", f"query reply carries registrationID/venID {_ids(created)}, the "
                                        f"registration has {expected}")
        if pull and "emapRequestedPollFreq" not in created.body:
            raise fail("EMAP-6.2.2-05", "query reply for a pull-mode registration lacks emapRequestedPollFreq")


@emap_test("TC-U-6.2.2-03", requirements=["EMAP-6.2.2-06"], applies=UPPER_ROLES)
async def test_query_changes_nothing(lower, trace):
    """A query changes no state: the queued emapRegisterReport stays first, the registration is kept, and an
    unregistered querier stays unregistered."""
    peer = await lower(settle=False)
    before = (peer.registration_id, peer.ven_id)
    await peer.query()
    await peer.query(with_ven_id=False)
    first = answer_of(trace, await peer.poll(), "EMAP-6.2.2-06")
    if first.name != "emapRegisterReport":
        raise fail("EMAP-6.2.2-06", f"after two queries the first poll reply is {first.name}, not the queued "
                                    "emapRegisterReport")
    await peer.step_two(first)
    again = answer_of(trace, await peer.query(), "EMAP-6.2.2-06")
    if _ids(again) != before:
        raise fail("EMAP-6.2.2-06", f"registration {before} became {_ids(again)} after queries")
    stranger = await lower(register=False, name="stranger")
    ven_id = stranger.ids("ven-q")
    await stranger.post("EiRegisterParty", B.query_registration(stranger.ids("q"), ven_id))
    expect_answer(trace, await stranger.poll(ven_id), "EMAP-6.2.2-06", name="emapResponse", code="463")


@emap_test("TC-U-6.2.3-01", requirements=["EMAP-6.2.3-02"], applies=UPPER_ROLES)
async def test_push_without_base_uri_gets_454(lower, trace):
    """A push-mode create without emapTransportAddress, or with one that is not a base URI, is answered 454."""
    peer = await lower(register=False)
    base = await peer.serve()
    for address in (None, base + "/", "http://127.0.0.1:5683/emap", base + "?x=1", base + "#f",
                    base.rsplit("/", 1)[0]):
        message = await peer.create_message(pull=False)
        body = message["emapCreatePartyRegistration"]
        body.pop("emapTransportAddress", None)
        if address is not None:
            body["emapTransportAddress"] = address
        expect_answer(trace, await peer.post("EiRegisterParty", message), "EMAP-6.2.3-02", name=CREATED,
                      code="454")


@emap_test("TC-U-6.2.3-02", requirements=["EMAP-6.2.3-03"], applies=UPPER_ROLES)
async def test_unsupported_profile_gets_453(lower, trace):
    """An unsupported (or case-flipped) emapProfileName or emapTransportName is answered 453 listing EMAP-1.0."""
    peer = await lower(register=False)
    for member, value in (("emapProfileName", "EMAP-9.9"), ("emapProfileName", "emap-1.0"),
                          ("emapTransportName", "http"), ("emapTransportName", "COAP")):
        message = await peer.create_message()
        message["emapCreatePartyRegistration"][member] = value
        reply = expect_answer(trace, await peer.post("EiRegisterParty", message), "EMAP-6.2.3-03", name=CREATED,
                              code="453")
        names = [p.get("emapProfileName") for p in reply.body.get("emapProfiles", {}).get("emapProfile", [])]
        if "EMAP-1.0" not in names:
            raise fail("EMAP-6.2.3-03", f"the 453 reply's emapProfiles lists {names}, not EMAP-1.0")


@emap_test("TC-U-6.2.3-03", requirements=["EMAP-6.2.3-04"], applies=UPPER_ROLES)
async def test_wrong_registration_id_gets_452(lower, trace):
    """A create with an unknown or case-flipped registrationID, or a venID not matching it, is answered 452 and
    changes nothing."""
    one = await lower(name="L1")
    two = await lower(name="L2")
    cases = ((flip_case(one.registration_id), one.ven_id), (one.ids("reg-unknown"), None),
             (one.registration_id, two.ven_id))
    for registration_id, ven_id in cases:
        message = await one.create_message(registration_id=registration_id, ven_id=ven_id)
        expect_answer(trace, await one.post("EiRegisterParty", message), "EMAP-6.2.3-04", name=CREATED, code="452")
    for peer in (one, two):
        reply = answer_of(trace, await peer.query(), "EMAP-6.2.3-04")
        if _ids(reply) != (peer.registration_id, peer.ven_id):
            raise fail("EMAP-6.2.3-04", f"after creates answered 452, {peer.name}'s registration reads "
                                        f"{_ids(reply)} instead of {(peer.registration_id, peer.ven_id)}")


@emap_test("TC-U-6.2.3-04", requirements=["EMAP-6.2.3-05"], applies=UPPER_ROLES)
async def test_reregistration_applies_new_mode(lower, trace, stimulus):
    """Re-registration answers 200 with the same IDs and applies the new mode: after pull -> push, U's requests
    arrive by POST at the announced base URI."""
    peer = await lower(pull=True)
    before = (peer.registration_id, peer.ven_id)
    reply = expect_answer(trace, await peer.register(reregister=True, pull=False), "EMAP-6.2.3-05", name=CREATED)
    if _ids(reply) != before:
        raise fail("EMAP-6.2.3-05", f"re-registration answered IDs {_ids(reply)}, expected {before}")
    await act(stimulus, "request-reregistration", {"venID": peer.ven_id})
    arrived = await peer.next_request("emapRequestReregistration", timeout=2 * peer.prompt)
    if arrived is None:
        raise fail("EMAP-6.2.3-05", "after re-registering in push mode, no emapRequestReregistration was POSTed to "
                                    f"{peer.base_uri} within {2 * peer.prompt:.1f} s (mode not applied)")


@emap_test("TC-U-6.2.3-05", requirements=["EMAP-6.2.3-06"], applies=UPPER_ROLES)
async def test_new_registration_while_registered(lower, trace):
    """A create without registrationID from a registered lower EMA gets a new registrationID and the same venID;
    the old registrationID is then answered 452."""
    peer = await lower()
    old = peer.registration_id
    reply = expect_answer(trace, await peer.register(ven_id=peer.ven_id), "EMAP-6.2.3-06", name=CREATED)
    registration_id, ven_id = _ids(reply)
    if registration_id == old or ven_id != peer.ven_id:
        raise fail("EMAP-6.2.3-06", f"new registration answered registrationID/venID {(registration_id, ven_id)}; "
                                    f"expected a registrationID other than {old!r} and venID {peer.ven_id!r}")
    expect_answer(trace, await peer.cancel(registration_id=old), "EMAP-6.2.3-06", name=CANCELED, code="452")


@emap_test("TC-U-6.2.3-06", requirements=["EMAP-6.2.3-07"], applies=UPPER_ROLES)
async def test_ven_id_assignment(lower, trace, profile):
    """venID assignment: a new one without venID, a pre-allocated one kept, a self-chosen one kept or refused
    with 452 per ICS-5, and a venID held by a registered lower EMA identifies that one (new registration)."""
    holder = await lower(name="holder")
    if not holder.ven_id:
        raise fail("EMAP-6.2.3-07", "registration without venID was answered without a venID")
    intruder = await lower(register=False, name="same-ven")
    reply = expect_answer(trace, await intruder.register(ven_id=holder.ven_id), "EMAP-6.2.3-07", name=CREATED)
    if _ids(reply)[1] != holder.ven_id or _ids(reply)[0] == holder.registration_id:
        raise fail("EMAP-6.2.3-07", f"a create giving the held venID {holder.ven_id!r} was answered {_ids(reply)}; "
                                    "expected a new registration of its holder (new registrationID, same venID)")
    await intruder.cancel()
    chooser = await lower(register=False, name="chooser")
    chosen = chooser.ids("ven-self")
    posted = await chooser.register(ven_id=chosen)
    if profile.pics["self_chosen_ven_ids"]:
        reply = expect_answer(trace, posted, "EMAP-6.2.3-07", name=CREATED, code="200")
        if _ids(reply)[1] != chosen:
            raise fail("EMAP-6.2.3-07", f"self-chosen venID {chosen!r} answered with venID {_ids(reply)[1]!r}")
        await chooser.cancel()
    else:
        expect_answer(trace, posted, "EMAP-6.2.3-07", name=CREATED, code="452")
    for ven_id in profile.pixit["preallocated_ven_ids"][:1]:
        pre = await lower(register=False, name="preallocated")
        reply = expect_answer(trace, await pre.register(ven_id=ven_id), "EMAP-6.2.3-07", name=CREATED, code="200")
        if _ids(reply)[1] != ven_id:
            raise fail("EMAP-6.2.3-07", f"pre-allocated venID {ven_id!r} answered with venID {_ids(reply)[1]!r}")
        await pre.cancel()


@emap_test("TC-U-6.2.3-07", requirements=["EMAP-6.2.3-08", "EMAP-6.2.3-09"], applies=UPPER_ROLES)
async def test_create_reply_members(lower, trace):
    """A successful reply carries registrationID, venID, vtnID, emapProfiles and emapRequestedPollFreq (>= PT1S)
    exactly in pull mode; a failed reply carries no registrationID or venID."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push", settle=False)
        create = next(ex for ex in reversed(trace.exchanges())
                      if ex.request_message is not None and ex.request_message.name == "emapCreatePartyRegistration")
        reply = create.response_message
        missing = [m for m in ("registrationID", "venID", "vtnID", "emapProfiles") if m not in reply.body]
        if missing:
            raise fail("EMAP-6.2.3-08", f"successful create reply lacks {missing}: {describe(create)}")
        freq = reply.body.get("emapRequestedPollFreq")
        if pull and (freq is None or parse_duration(freq) < 1):
            raise fail("EMAP-6.2.3-08", f"pull-mode create reply has emapRequestedPollFreq {freq!r} (need >= PT1S)")
        if not pull and freq is not None:
            raise fail("EMAP-6.2.3-08", f"push-mode create reply carries emapRequestedPollFreq {freq!r}")
        del peer
    failing = await lower(register=False, name="failing")
    for member, value in (("emapProfileName", "EMAP-9.9"), ("registrationID", failing.ids("reg-unknown"))):
        message = await failing.create_message()
        message["emapCreatePartyRegistration"][member] = value
        reply = answer_of(trace, await failing.post("EiRegisterParty", message), "EMAP-6.2.3-09")
        if reply.response_code == "200":
            raise Inconclusive(f"a create with {member} {value!r} was accepted; no failed reply to judge")
        if "registrationID" in reply.body or "venID" in reply.body:
            raise fail("EMAP-6.2.3-09", f"create reply with responseCode {reply.response_code} carries "
                                        f"registrationID/venID {_ids(reply)}")


@emap_test("TC-U-6.2.3-08", requirements=["EMAP-6.2.3-11"], applies=UPPER_ROLES)
async def test_first_poll_gets_register_report(lower, trace):
    """Pull mode: the first poll after every successful create (new, re-registration, new while registered)
    yields U's emapRegisterReport."""
    peer = await lower(pull=True, settle=False)
    for step in ("new registration", "re-registration", "new registration while registered"):
        if step == "re-registration":
            await peer.register(reregister=True)
        elif step != "new registration":
            await peer.register(ven_id=peer.ven_id)
        posted = await peer.poll()
        reply = answer_of(trace, posted, "EMAP-6.2.3-11")
        if reply.name != "emapRegisterReport":
            raise fail("EMAP-6.2.3-11", f"first poll after the {step}: {describe(exchange_of(trace, posted))}")
        await peer.step_two(reply)
        await peer.drain()


@emap_test("TC-U-6.2.3-09", requirements=["EMAP-6.2.3-11"], applies=UPPER_ROLES)
async def test_register_report_pushed(lower, trace):
    """Push mode: U POSTs its emapRegisterReport to L's EiReport within T_PROMPT of every successful create."""
    peer = await lower(pull=False, settle=False)
    for step in ("new registration", "re-registration"):
        if step == "re-registration":
            await peer.register(reregister=True)
        created = [r for r, m in sent_by_iut(trace, CREATED) if m.response_code == "200"][-1]
        await peer.next_request("emapRegisterReport", timeout=peer.prompt)
        pushed = [ex for ex in pushed_to(trace, peer, "emapRegisterReport") if ex.request.t > created.t]
        if not pushed:
            raise fail("EMAP-6.2.3-11", f"no emapRegisterReport POSTed to {peer.base_uri} within "
                                        f"{peer.prompt:.1f} s of the {step}")
        delay = pushed[0].request.t - created.t
        if not pushed[0].path.endswith("/EiReport") or delay > peer.prompt:
            raise fail("EMAP-6.2.3-11", f"emapRegisterReport after the {step} went to {pushed[0].path} "
                                        f"{delay:.2f} s after the reply (bound {peer.prompt:.1f} s)")


@emap_test("TC-U-6.2.4-01", requirements=["EMAP-6.2.4-03"], applies=UPPER_ROLES)
async def test_cancel_with_wrong_ids_gets_452(lower, trace):
    """An L cancel with a wrong (case-flipped) registrationID, or with the venID of another lower EMA, is answered
    452 and the registration continues."""
    one = await lower(name="L1")
    two = await lower(name="L2")
    for registration_id, ven_id in ((flip_case(one.registration_id), one.ven_id),
                                    (one.registration_id, two.ven_id)):
        expect_answer(trace, await one.cancel(registration_id=registration_id, ven_id=ven_id), "EMAP-6.2.4-03",
                      name=CANCELED, code="452")
    for peer in (one, two):
        reply = answer_of(trace, await peer.query(), "EMAP-6.2.4-03")
        if _ids(reply) != (peer.registration_id, peer.ven_id):
            raise fail("EMAP-6.2.4-03", f"after cancels answered 452, {peer.name}'s registration reads "
                                        f"{_ids(reply)} instead of {(peer.registration_id, peer.ven_id)}")


@emap_test("TC-U-6.2.4-02", requirements=["EMAP-6.2.4-04", "EMAP-6.2.4-07"], applies=UPPER_ROLES)
async def test_cancel_by_lower(lower, trace, stimulus):
    """An L cancel is answered 200 echoing registrationID and venID; afterwards U answers that lower EMA 463 and
    sends it nothing."""
    peer = await lower(pull=False)
    ids = (peer.registration_id, peer.ven_id)
    reply = expect_answer(trace, await peer.cancel(), "EMAP-6.2.4-04", name=CANCELED, code="200")
    if _ids(reply) != ids:
        raise fail("EMAP-6.2.4-04", f"cancel answer echoes {_ids(reply)}, the cancel carried {ids}")
    expect_answer(trace, await peer.post("EiEvent", B.request_event(peer.ids("re"), ids[1])), "EMAP-6.2.4-07",
                  name="emapDistributeEvent", code="463")
    cancelled_at = trace.elapsed()
    await act(stimulus, "create-event", {"venID": ids[1], "eventID": peer.ids("ev")})
    await peer.next_request(None, timeout=peer.prompt)
    late = [ex for ex in pushed_to(trace, peer) if ex.request.t > cancelled_at]
    if late:
        raise fail("EMAP-6.2.4-07", f"U sent to the cancelled lower EMA: {describe(late[0])}")


@emap_test("TC-U-6.2.4-03", requirements=["EMAP-6.2.4-01", "EMAP-6.2.4-02", "EMAP-6.2.4-05"],
           applies=UPPER_ROLES)
async def test_cancel_by_upper_pull(lower, trace, stimulus):
    """Pull mode, U cancels: R1 carries the current registrationID and venID; the step two is acknowledged 200
    and ends the registration."""
    peer = await lower(pull=True)
    ids = (peer.registration_id, peer.ven_id)
    await act(stimulus, "cancel-registration", {"venID": peer.ven_id})
    cancel = await peer.receive("emapCancelPartyRegistration", timeout=peer.prompt, answer=False)
    if cancel is None:
        raise Inconclusive("no emapCancelPartyRegistration was delivered after the accepted stimulus")
    if _ids(cancel) != ids:
        raise fail("EMAP-6.2.4-02", f"U's cancel carries {_ids(cancel)}, the link has {ids}")
    expect_answer(trace, await peer.step_two(cancel), "EMAP-6.2.4-05", name="emapResponse", code="200")
    expect_answer(trace, await peer.poll(ids[1]), "EMAP-6.2.4-05", name="emapResponse", code="463")


@emap_test("TC-U-6.2.4-04", requirements=["EMAP-6.2.4-05"], applies=UPPER_ROLES)
async def test_stale_step_two_cancel_keeps_registration(lower, trace, stimulus):
    """Pull mode: a step-two cancel answer with a wrong registrationID is answered 452, the registration and the
    cancel stay; the correct answer is then accepted and ends the registration."""
    peer = await lower(pull=True)
    await act(stimulus, "cancel-registration", {"venID": peer.ven_id})
    cancel = await peer.receive("emapCancelPartyRegistration", timeout=peer.prompt, answer=False)
    if cancel is None:
        raise Inconclusive("no emapCancelPartyRegistration was delivered after the accepted stimulus")
    body = cancel.body
    stale = B.canceled_party_registration(body["requestID"], flip_case(body["registrationID"]), body["venID"])
    expect_answer(trace, await peer.step_two(cancel, stale), "EMAP-6.2.4-05", name="emapResponse", code="452")
    still = answer_of(trace, await peer.poll(), "EMAP-6.2.4-05")
    if still.name == "emapResponse" and still.response_code == "463":
        raise fail("EMAP-6.2.4-05", "after the step two answered 452 the registration ended (poll answered 463)")
    expect_answer(trace, await peer.step_two(cancel), "EMAP-6.2.4-05", name="emapResponse", code="200")
    expect_answer(trace, await peer.poll(body["venID"]), "EMAP-6.2.4-05", name="emapResponse", code="463")


@emap_test("TC-U-6.2.4-05", requirements=["EMAP-6.2.4-02", "EMAP-6.2.4-05", "EMAP-6.2.4-07"],
           applies=UPPER_ROLES)
async def test_cancel_by_upper_push(lower, trace, stimulus):
    """Push mode, U cancels: POST to L's EiRegisterParty with the current IDs; after L's 200 U sends nothing more."""
    peer = await lower(pull=False)
    ids = (peer.registration_id, peer.ven_id)
    await act(stimulus, "cancel-registration", {"venID": peer.ven_id})
    arrived = await peer.next_request("emapCancelPartyRegistration", timeout=peer.prompt)
    if arrived is None:
        raise Inconclusive("no emapCancelPartyRegistration was POSTed after the accepted stimulus")
    if arrived.resource != "EiRegisterParty" or _ids(arrived.message) != ids:
        raise fail("EMAP-6.2.4-02", f"U's cancel went to {arrived.resource} carrying {_ids(arrived.message)}; "
                                    f"expected EiRegisterParty with {ids}")
    ended_at = trace.elapsed()
    await act(stimulus, "create-event", {"venID": ids[1], "eventID": peer.ids("ev")})
    await peer.next_request(None, timeout=peer.prompt)
    late = [ex for ex in pushed_to(trace, peer) if ex.request.t > ended_at]
    if late:
        raise fail("EMAP-6.2.4-07", f"U sent to the lower EMA after its cancel succeeded: {describe(late[0])}")
    expect_answer(trace, await peer.poll(ids[1]), "EMAP-6.2.4-05", name="emapResponse", code="463")


@emap_test("TC-U-6.2.5-01", requirements=["EMAP-6.2.5-01"], applies=UPPER_ROLES)
async def test_request_reregistration(lower, trace, stimulus):
    """U's request of reregistration (pull: poll reply R2; push: POST to EiRegisterParty) names L's venID, and
    L's emapResponse answer is acknowledged with an empty 2.04."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        await act(stimulus, "request-reregistration", {"venID": peer.ven_id})
        request = await peer.receive("emapRequestReregistration", timeout=peer.prompt, answer=False)
        if request is None:
            raise Inconclusive(f"no emapRequestReregistration reached the {peer.name} lower EMA")
        if request.body.get("venID") != peer.ven_id:
            raise fail("EMAP-6.2.5-01", f"emapRequestReregistration names venID {request.body.get('venID')!r}, "
                                        f"the lower EMA is {peer.ven_id!r}")
        if pull:
            expect_empty_ack(trace, await peer.step_two(request), "EMAP-6.2.5-01")
        await peer.register(reregister=True)


@emap_test("TC-U-6.2.6-01", requirements=["EMAP-6.2.6-01"], applies=UPPER_ROLES)
async def test_register_party_messages_conform(lower, trace, stimulus):
    """Every RegisterParty message U sends (query and create replies, errors, cancels) conforms to its schema."""
    peer = await lower(pull=True)
    await peer.query()
    await peer.query(with_ven_id=False)
    message = await peer.create_message()
    message["emapCreatePartyRegistration"]["emapProfileName"] = "EMAP-9.9"
    await peer.post("EiRegisterParty", message)
    await peer.cancel(registration_id=flip_case(peer.registration_id))
    await lower(pull=False, name="push")
    await act(stimulus, "cancel-registration", {"venID": peer.ven_id})
    await peer.receive("emapCancelPartyRegistration", timeout=peer.prompt)
    check_conformance(trace, "EMAP-6.2.6-01", "RegisterParty")
