"""The lower EMA's answers to the requests of its upper EMA (pushed to its resources, or received as poll replies).

Table 6.1-4 in order (step 2: 463 without a registration, EMAP-6.2.1-03; step 4: 452; step 5: 454; step 6: 461),
EMAP-6.2.4-03/-04 (cancel), EMAP-6.2.5-02 (re-registration request), EMAP-6.3.2-06/-07 (events), EMAP-6.4.2-04/-05/-06,
EMAP-6.4.3-05, EMAP-6.4.4-04, EMAP-6.4.5-02/-03 (reports), EMAP-6.1-09 (error answers keep their req members).
"""

from __future__ import annotations

from functools import partial

from conformance.messages import ValidMessage, build
from conformance.messages.rules import metadata_rules

from .reporter import Refusal
from .state import Link

UNKNOWN_VEN_ID = "unregistered"
"""`venID` of a 463 `emapCreatedEvent` from a lower EMA that has none (the member is required there)."""


def answer(ema, message: ValidMessage) -> tuple[dict, object]:
    """The response envelope to ``message`` at the lower EMA ``ema``, and an action to run once it is sent."""
    link, body, name = ema.link, message.body, message.name
    if link is None:
        return _not_registered(ema, message), None
    if name == "emapCancelPartyRegistration":
        if body["registrationID"] != link.registration_id or body["venID"] != link.ven_id:
            return build.canceled_party_registration(
                body["requestID"], body["registrationID"], body["venID"], "452",
                "registrationID or venID is not this link's"), None
        reply = build.canceled_party_registration(body["requestID"], link.registration_id, link.ven_id)
        ema.end_registration()  # ends when the answer is sent (EMAP-6.2.4-04)
        return reply, None
    if name == "emapRequestReregistration":
        if body["venID"] != link.ven_id:
            return build.response("", "452", link.ven_id, f"venID {body['venID']!r} is not mine"), None
        return build.response("", "200", link.ven_id), partial(
            ema.register, registration_id=link.registration_id, pull=link.pull)  # EMAP-6.2.5-03
    if name == "emapDistributeEvent":
        return ema.events.answer(body, link), None
    return _report_message(ema, message, link)


def _report_message(ema, message: ValidMessage, link: Link) -> tuple[dict, object]:
    body, name = message.body, message.name
    request_id, ven_id = body["requestID"], body["venID"]
    try:
        if name == "emapRegisterReport":
            _check_ven(ven_id, link)
            ema.requester.check_metadata_answer(body)
            violations = [v for v in metadata_rules(body, "U") if v.code == "454"]
            if violations:
                raise Refusal("454", f"{violations[0].pointer}: {violations[0].text}")
            ema.requester.metadata_registered(body)
            return build.registered_report(request_id, ven_id), None
        if name == "emapCreateReport":
            _check_ven(ven_id, link)
            ids = ema.reporter.create(body)
            return (build.created_report(request_id, ven_id, ema.reporter.pending()),
                    partial(ema.arm_reports, ids))
        if name == "emapUpdateReport":
            ema.requester.check_update(body)
            _check_ven(ven_id, link)
            ema.requester.updated(body)
            return build.updated_report(request_id, ven_id), None
        _check_ven(ven_id, link)  # emapCancelReport
        ema.reporter.cancel(body)
        ema.wake()
        return build.canceled_report(request_id, ven_id, ema.reporter.pending()), None
    except Refusal as refusal:
        return _refused(name, request_id, ven_id, refusal.code, str(refusal), ema.reporter.pending()), None


def _check_ven(ven_id: str, link: Link) -> None:
    if ven_id != link.ven_id:
        raise Refusal("452", f"venID {ven_id!r} is not this link's")


def _not_registered(ema, message: ValidMessage) -> dict:
    """The procedure's response message with 463 (EMAP-6.2.1-03)."""
    body, name, text = message.body, message.name, "this lower EMA is not registered"
    if name == "emapCancelPartyRegistration":
        return build.canceled_party_registration(body["requestID"], body["registrationID"], body["venID"],
                                                 "463", text)
    if name == "emapRequestReregistration":
        return build.response("", "463", body["venID"], text)
    if name == "emapDistributeEvent":
        return build.created_event(body["requestID"], ema.response_ven_id(message) or UNKNOWN_VEN_ID, [],
                                   "463", text)
    return _refused(name, body["requestID"], body["venID"], "463", text, [])


def _refused(name: str, request_id: str, ven_id: str, code: str, text: str, pending: list[str]) -> dict:
    """The report-service response message of ``name`` carrying an error code (EMAP-6.1-09)."""
    if name == "emapRegisterReport":
        return build.registered_report(request_id, ven_id, code, text)
    if name == "emapCreateReport":
        return build.created_report(request_id, ven_id, pending, code, text)
    if name == "emapUpdateReport":
        return build.updated_report(request_id, ven_id, code, text)
    return build.canceled_report(request_id, ven_id, pending, code, text)
