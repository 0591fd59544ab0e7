"""Clause 6.1 two-step procedures, upper-EMA IUT: response types, requestIDs, step two, 450, check order."""

from __future__ import annotations

from conformance.messages import MESSAGES, RESPONSES_OF
from conformance.messages import build as B
from conformance.messages.timefmt import utc_now
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    UPPER_ROLES,
    act,
    answer_of,
    code_of,
    describe,
    echo_of,
    exchange_of,
    expect_answer,
    expect_empty_ack,
    fail,
    let_iut_act,
    sent_by_iut,
)
from conformance.verdict import Inconclusive

#: Table 6.1-3
CODES = frozenset({"200", "450", "451", "452", "453", "454", "459", "460", "461", "462", "463", "469"})


def _window():
    return [(utc_now(), "PT1H")]


async def _l_initiated(peer) -> list:
    """One POST of every L-initiated procedure (Table 6.1-1) from a registered lower EMA."""
    ids = peer.ids
    opt_id = ids("opt")
    posted = [await peer.query(), await peer.request_event(),
              await peer.create_opt(opt_id), await peer.cancel_opt(opt_id),
              await peer.register_report(),
              await peer.create_report([B.report_request(ids("rq"), "METADATA")]),
              await peer.update_report([B.data_report(ids("rq"), ids("rs"), "TELEMETRY_STATUS",
                                                      [B.data_interval(utc_now(), "PT0S",
                                                                       [B.report_payload(ids("r"))])])]),
              await peer.cancel_report([ids("rq")]),
              await peer.register(reregister=True)]
    posted.append(await peer.cancel())
    return posted


async def error_probes(lower) -> list:
    """POSTs that a conformant U answers with an application error (452, 453, 454, 459, 462, 463)."""
    peer = await lower(name="errors")
    ids = peer.ids
    message = await peer.create_message()
    message["emapCreatePartyRegistration"]["emapProfileName"] = "EMAP-9.9"
    return [
        await peer.post("EiRegisterParty", message),
        await peer.cancel(registration_id=ids("reg-unknown")),
        await peer.post("EiEvent", B.request_event(ids("re"), ids("ven-unknown"))),
        await peer.create_opt(ids("opt"), target={"venID": [ids("ven-other")]}),
        await peer.cancel_opt(ids("opt-unknown")),
        await peer.create_report([B.report_request(ids("rq"), ids("rs-unknown"), [ids("r")])]),
        await peer.cancel_report([ids("rq-unknown")]),
        await peer.post("EiEvent", B.create_opt(ids("co"), peer.ven_id, ids("opt"), "optOut",
                                                availability=_window())),
    ]


@emap_test("TC-U-6.1-01", requirements=["EMAP-6.1-01", "EMAP-6.1-02", "EMAP-6.1-04"], applies=UPPER_ROLES)
async def test_response_type_and_echo(lower, trace):
    """Each L-initiated request POSTed to its resource is answered in the 2.04 of that POST with the response type
    of Table 6.1-1, echoing the requestID (R0: "")."""
    peer = await lower(pull=True)
    posted = await _l_initiated(peer)
    poller = await lower(pull=True, name="poller")
    posted.append(await poller.poll())
    for item in posted:
        exchange = exchange_of(trace, item)
        request = exchange.request_message
        reply = exchange.response_message
        if exchange.code != "2.04" or reply is None:
            raise fail("EMAP-6.1-04", f"the response message did not come in the 2.04 of the POST: "
                                      f"{describe(exchange)}")
        if reply.name not in RESPONSES_OF[request.name] and not (code_of(reply) == "459"
                                                                 and reply.name == "emapResponse"):
            raise fail("EMAP-6.1-01", f"{request.name} answered with {reply.name}: {describe(exchange)}")
        expected = "" if request.name == "emapPoll" else request.request_id
        if (request.name != "emapPoll" or reply.name == "emapResponse") and echo_of(reply) != expected:
            raise fail("EMAP-6.1-02", f"{reply.name} echoes requestID {echo_of(reply)!r}, expected {expected!r}")


@emap_test("TC-U-6.1-02", requirements=["EMAP-6.1-01"], applies=UPPER_ROLES)
async def test_errors_keep_response_type(lower, trace):
    """Application errors still come in the procedure's response type (459 in emapResponse)."""
    for item in await error_probes(lower):
        exchange = exchange_of(trace, item)
        request, reply = exchange.request_message, answer_of(trace, item, "EMAP-6.1-01")
        expected = {"emapResponse"} if code_of(reply) == "459" else RESPONSES_OF[request.name]
        if reply.name not in expected:
            raise fail("EMAP-6.1-01", f"{request.name} answered with {reply.name}: {describe(exchange)}")


@emap_test("TC-U-6.1-04", requirements=["EMAP-6.1-03"], applies=UPPER_ROLES)
async def test_request_ids_unique(lower, trace, stimulus):
    """Every request message U sends to one lower EMA carries a requestID not used before towards that peer."""
    for pull in (True, False):
        peer = await lower(pull=pull, name="pull" if pull else "push")
        event_id = peer.ids("ev")
        await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": event_id})
        await peer.receive("emapDistributeEvent", timeout=peer.prompt)
        await act(stimulus, "modify-event", {"eventID": event_id, "priority": 2})
        await peer.receive("emapDistributeEvent", timeout=peer.prompt)
        await peer.request_event()
        await peer.register(reregister=True)
        await peer.receive("emapRegisterReport", timeout=peer.prompt)
    seen: dict[tuple, object] = {}
    for record, message in sent_by_iut(trace):
        if MESSAGES[message.name].kind != "request" or message.name == "emapRequestReregistration":
            continue
        key = (message.body.get("venID") or _ven_of(trace, record), message.request_id)
        if key in seen:
            raise fail("EMAP-6.1-03", f"requestID {message.request_id!r} used twice towards venID {key[0]!r} "
                                      f"({seen[key]} and {message.name})")
        seen[key] = message.name


def _ven_of(trace, record) -> str | None:
    """The venID of the lower EMA a message went to (the poll or POST it answered)."""
    for exchange in trace.exchanges():
        if record in exchange.records and exchange.request_message is not None:
            body = exchange.request_message.body
            return body.get("venID") or body.get("eiRequestEvent", {}).get("venID")
    return None


@emap_test("TC-U-6.1-05", requirements=["EMAP-6.1-05"], applies=UPPER_ROLES)
async def test_pull_requests_only_as_poll_replies(lower, trace, stimulus):
    """In pull mode U's requests reach L only as poll replies, and U accepts each step two at the resource of the
    request's service."""
    peer = await lower(pull=True, settle=False)
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
    await let_iut_act(peer)
    await act(stimulus, "request-reregistration", {"venID": peer.ven_id})
    await let_iut_act(peer)
    for _ in range(4):
        message = answer_of(trace, await peer.poll(), "EMAP-6.1-05")
        if peer.is_empty_reply(message):
            break
        posted = await peer.step_two(message)
        exchange = exchange_of(trace, posted)
        accepted = exchange.code == "2.04" and (
            not exchange.response_payload
            or (exchange.response_message is not None and code_of(exchange.response_message) == "200"))
        if not accepted:
            raise fail("EMAP-6.1-05", f"step two of {message.name} was not accepted: {describe(exchange)}")
    pushed = [ex for ex in trace.exchanges() if ex.direction == "from-iut"]
    if pushed:
        raise fail("EMAP-6.1-05", f"U sent a CoAP request to a pull-mode lower EMA: {describe(pushed[0])}")


@emap_test("TC-U-6.1-06", requirements=["EMAP-6.1-06"], applies=UPPER_ROLES)
async def test_step_two_acknowledgements(lower, trace, stimulus):
    """A POSTed response-type message is answered emapResponse 200 echoing its requestID; a POSTed emapResponse
    with an empty 2.04."""
    peer = await lower(pull=True, settle=False)
    register = await peer.receive("emapRegisterReport", timeout=peer.prompt, answer=False)
    if register is None:
        raise Inconclusive("no emapRegisterReport was delivered after the registration")
    posted = await peer.step_two(register)
    reply = expect_answer(trace, posted, "EMAP-6.1-06", name="emapResponse", code="200")
    if reply.request_id != register.request_id:
        raise fail("EMAP-6.1-06", f"emapResponse echoes {reply.request_id!r}, the emapRegisteredReport answered "
                                  f"{register.request_id!r}")
    for required in ("always", "never"):
        await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev"),
                                             "responseRequired": required})
        event = await peer.receive("emapDistributeEvent", timeout=peer.prompt, answer=False)
        if event is None:
            raise Inconclusive("no emapDistributeEvent was delivered after the accepted create-event")
        posted = await peer.step_two(event)
        if posted.envelope and "emapResponse" in posted.envelope:
            expect_empty_ack(trace, posted, "EMAP-6.1-06")
        else:
            reply = expect_answer(trace, posted, "EMAP-6.1-06", name="emapResponse", code="200")
            if reply.request_id != event.request_id:
                raise fail("EMAP-6.1-06", f"emapResponse echoes {reply.request_id!r}, the emapCreatedEvent "
                                          f"answered {event.request_id!r}")


@emap_test("TC-U-6.1-07", requirements=["EMAP-6.1-07"], applies=UPPER_ROLES)
async def test_out_of_sequence_450(lower, trace, stimulus):
    """450 for a response-type message that answers no outstanding request, for an emapResponse at the resource
    of another service, for an answer to another lower EMA's request, and for a second answer."""
    peer = await lower(pull=True, settle=False)
    other = await lower(pull=True, name="other", settle=False)
    register = await peer.receive("emapRegisterReport", timeout=peer.prompt, answer=False)
    foreign = await other.receive("emapRegisterReport", timeout=other.prompt, answer=False)
    if register is None or foreign is None:
        raise Inconclusive("no emapRegisterReport was delivered after the registrations")
    ids = peer.ids
    expect_answer(trace, await peer.post("EiReport", B.registered_report(ids("unknown"), peer.ven_id)),
                  "EMAP-6.1-07", name="emapResponse", code="450")
    expect_answer(trace, await peer.post("EiReport", B.registered_report(foreign.request_id, peer.ven_id)),
                  "EMAP-6.1-07", name="emapResponse", code="450")
    expect_answer(trace, await peer.step_two(register), "EMAP-6.1-07", name="emapResponse", code="200")
    again = B.registered_report(register.request_id, peer.ven_id, description="again")
    expect_answer(trace, await peer.post("EiReport", again), "EMAP-6.1-07", name="emapResponse", code="450")
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": ids("ev"), "responseRequired": "never"})
    event = await peer.receive("emapDistributeEvent", timeout=peer.prompt, answer=False)
    if event is None:
        raise Inconclusive("no emapDistributeEvent was delivered after the accepted create-event")
    answer = B.response(event.request_id, ven_id=peer.ven_id)
    expect_answer(trace, await peer.post("EiRegisterParty", answer), "EMAP-6.1-07", name="emapResponse",
                  code="450")
    expect_empty_ack(trace, await peer.post("EiEvent", answer), "EMAP-6.1-07")
    second = B.response(event.request_id, ven_id=peer.ven_id, description="again")
    expect_answer(trace, await peer.post("EiEvent", second), "EMAP-6.1-07", name="emapResponse", code="450")


@emap_test("TC-U-6.1-08", requirements=["EMAP-6.1-07"], applies=UPPER_ROLES)
async def test_four_superseded_distributions_stay_outstanding(lower, trace, stimulus):
    """The answers to each of the four most recently delivered, superseded emapDistributeEvents are accepted."""
    peer = await lower(pull=True)
    event_id = peer.ids("ev")
    delivered = []
    for value in range(4):
        args = {"eventID": event_id, "signalName": "SIMPLE", "responseRequired": "always",
                "intervals": [{"duration": "PT1H", "value": value}]}
        await act(stimulus, "modify-event" if delivered else "create-event",
                  args if delivered else {"venID": peer.ven_id, **args})
        event = await peer.receive("emapDistributeEvent", timeout=peer.prompt, answer=False)
        if event is None:
            raise Inconclusive(f"no emapDistributeEvent was delivered after change {value}")
        delivered.append(event)
    for event in delivered:
        posted = await peer.step_two(event)
        if code_of(answer_of(trace, posted, "EMAP-6.1-07")) != "200":
            raise fail("EMAP-6.1-07", f"the answer to superseded emapDistributeEvent {event.request_id!r} (one of "
                                      f"the four latest) was rejected: {describe(exchange_of(trace, posted))}")


@emap_test("TC-U-6.1-09", requirements=["EMAP-6.1-08"], applies=UPPER_ROLES)
async def test_check_order(lower, trace):
    """Two faults in one message are answered with the code of the earlier check of Table 6.1-4 (each pair is
    judged only when U answers each fault alone with its own code)."""
    peer = await lower(pull=True)
    stranger = await lower(register=False, name="stranger")
    ids = peer.ids
    unknown_ven = ids("ven-unknown")

    async def create(**changes):
        pull = changes.pop("pull", True)
        message = await peer.create_message(pull=pull, **changes.pop("args", {}))
        body = message["emapCreatePartyRegistration"]
        for member, value in changes.items():
            if value is None:
                body.pop(member, None)
            else:
                body[member] = value
        return message

    def opt(ven_id=None, **kwargs):
        return B.create_opt(ids("co"), ven_id or peer.ven_id, ids("opt"), "optOut", **kwargs)

    single = {  # one fault each: (sender, resource, message)
        "459": (peer, "EiEvent", opt(availability=_window())),
        "463": (stranger, "EiOpt", opt(unknown_ven, availability=_window())),
        "450": (peer, "EiReport", B.registered_report(ids("unknown"), peer.ven_id)),
        "452": (peer, "EiOpt", opt(event_id=ids("ev"))),
        "454": (peer, "EiOpt", opt()),
        "462": (peer, "EiOpt", opt(availability=_window(), target={"venID": [ids("ven-other")]})),
        "453": (peer, "EiRegisterParty", await create(emapProfileName="EMAP-9.9")),
        "452 (create)": (peer, "EiRegisterParty", await create(args={"registration_id": ids("reg-unknown")})),
        "454 (create)": (peer, "EiRegisterParty", await create(pull=False, emapTransportAddress=None)),
    }
    combined = [  # (earlier code, later code, sender, resource, message with both faults)
        ("459", "463", stranger, "EiEvent", opt(unknown_ven, availability=_window())),
        ("463", "450", stranger, "EiReport", B.registered_report(ids("unknown"), unknown_ven)),
        ("450", "452", peer, "EiEvent",
         B.created_event(ids("unknown"), peer.ven_id, [B.event_response(ids("unknown"), ids("ev"), 0)])),
        ("452", "454", peer, "EiOpt", opt(event_id=ids("ev"), market_context="http://example.com/p")),
        ("454", "462", peer, "EiOpt", opt(target={"venID": [ids("ven-other")]})),
        ("452 (create)", "453", peer, "EiRegisterParty",
         await create(args={"registration_id": ids("reg-unknown")}, emapProfileName="EMAP-9.9")),
        ("454 (create)", "453", peer, "EiRegisterParty",
         await create(pull=False, emapTransportAddress=None, emapProfileName="EMAP-9.9")),
    ]
    implemented = set()
    for label, (sender, resource, message) in single.items():
        if code_of(answer_of(trace, await sender.post(resource, message), "EMAP-6.1-08")) == label[:3]:
            implemented.add(label)
    judged = 0
    for earlier, later, sender, resource, message in combined:
        if not {earlier, later} <= implemented:
            trace.note(f"pair {earlier}/{later} not judged: U does not answer each fault alone with its code")
            continue
        judged += 1
        posted = await sender.post(resource, message)
        if code_of(answer_of(trace, posted, "EMAP-6.1-08")) != earlier[:3]:
            raise fail("EMAP-6.1-08", f"{earlier[:3]} (step of Table 6.1-4) must come before {later}: "
                                      f"{describe(exchange_of(trace, posted))}")
    if not judged:
        raise Inconclusive("U answered none of the single faults with its own code; no pair could be judged")


@emap_test("TC-U-6.1-10", requirements=["EMAP-6.1-08"], applies=UPPER_ROLES)
async def test_rejected_message_changes_nothing(lower, trace):
    """A rejected message changes no state: a rejected opt is not created and a rejected re-registration keeps
    the registration and its mode."""
    peer = await lower(pull=True)
    opt_id = peer.ids("opt")
    rejected = await peer.create_opt(opt_id, target={"venID": [peer.ids("ven-other")]})
    if code_of(answer_of(trace, rejected, "EMAP-6.1-08")) == "200":
        raise Inconclusive("the opt naming another venID was accepted; nothing to judge")
    expect_answer(trace, await peer.cancel_opt(opt_id), "EMAP-6.1-08", name="emapCanceledOpt", code="452")
    message = await peer.create_message(pull=False, reregister=True)
    message["emapCreatePartyRegistration"]["emapProfileName"] = "EMAP-9.9"
    if code_of(answer_of(trace, await peer.post("EiRegisterParty", message), "EMAP-6.1-08")) == "200":
        raise Inconclusive("a re-registration with an unsupported profile was accepted; nothing to judge")
    query = answer_of(trace, await peer.query(), "EMAP-6.1-08")
    if query.body.get("registrationID") != peer.registration_id or "emapRequestedPollFreq" not in query.body:
        raise fail("EMAP-6.1-08", f"after a rejected re-registration the query shows {query.body}")
    expect_answer(trace, await peer.poll(), "EMAP-6.1-08", name="emapResponse", code="200")


@emap_test("TC-U-6.1-11", requirements=["EMAP-6.1-09"], applies=UPPER_ROLES)
async def test_error_responses_keep_required_members(lower, trace):
    """Error responses still carry their req members, echoing registrationID, venID and optID of the request."""
    for item in await error_probes(lower):
        exchange = exchange_of(trace, item)
        request, reply = exchange.request_message, answer_of(trace, item, "EMAP-6.1-09")
        if code_of(reply) == "200":
            continue
        body, sent = reply.body, request.body
        wrong = [m for m in ("registrationID", "venID", "optID")
                 if m in sent and m in body and body[m] != sent[m] and reply.name in (
                     "emapCanceledPartyRegistration", "emapCreatedOpt", "emapCanceledOpt")]
        if reply.name == "emapCreatedReport" and "emapPendingReports" not in body:
            wrong.append("emapPendingReports")
        if reply.name in ("emapCreatedPartyRegistration", "emapDistributeEvent") and "vtnID" not in body:
            wrong.append("vtnID")
        if wrong:
            raise fail("EMAP-6.1-09", f"error response lacks or changes {wrong}: {describe(exchange)}")


def _codes(value) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "responseCode"] + [c for v in value.values() for c in _codes(v)]
    if isinstance(value, list):
        return [c for v in value for c in _codes(v)]
    return []


@emap_test("TC-U-6.1-12", requirements=["EMAP-6.1-10"], applies=UPPER_ROLES)
async def test_response_codes_from_table(lower, trace):
    """Every responseCode U sends, in successes and errors, is one of Table 6.1-3."""
    await error_probes(lower)
    for record, message in sent_by_iut(trace):
        bad = [c for c in _codes(message.body) if c not in CODES]
        if bad:
            raise fail("EMAP-6.1-10", f"{message.name} (record #{record.seq}) carries responseCode {bad[0]!r}")


@emap_test("TC-U-6.1-13", requirements=["EMAP-6.1-11"], applies=UPPER_ROLES)
async def test_error_descriptions(lower, trace):
    """Every non-200 responseCode U sends comes with a responseDescription (should)."""
    await error_probes(lower)
    for record, message in sent_by_iut(trace):
        if message.kind != "response" and message.name != "emapDistributeEvent":
            continue
        response = message.body.get("eiCreatedEvent", message.body).get("eiResponse", {})
        if response and response.get("responseCode") != "200" and not response.get("responseDescription"):
            raise fail("EMAP-6.1-11", f"{message.name} with responseCode {response.get('responseCode')} "
                                      f"(record #{record.seq}) has no responseDescription")

