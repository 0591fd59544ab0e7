"""The upper EMA's answers to each L-initiated procedure (6.2 to 6.6) and to step-two messages (P14), checks
in the order of Table 6.1-4. Every function returns the answer envelope (None: empty 2.04) or raises
`Rejected` before changing any state (EMAP-6.1-08)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.ema.upper.links import Link
from conformance.ema.upper.outbound import DISTRIBUTE, OutboundQueue, Outgoing
from conformance.ema.upper.replies import Rejected
from conformance.ema.upper.reporter import first_failure
from conformance.messages import ValidMessage, build, timefmt
from conformance.messages.build import PROFILE_NAME, TRANSPORT_NAME
from conformance.messages.rules import opt_rules, registration_rules

if TYPE_CHECKING:
    from conformance.ema.upper.ema import UpperEma


def _fail_on(failure) -> None:
    if failure is not None:
        raise Rejected(*failure)


# RegisterParty (6.2)


def query(ema: UpperEma, message: ValidMessage) -> dict:
    """EMAP-6.2.2-03 to -06: never fails, changes nothing; IDs only for a registered querier."""
    request_id = message.body["requestID"]
    link = ema.registry.by_ven(message.body.get("venID"))
    if link is None:
        return build.created_party_registration(request_id, ema.config.vtn_id)
    return build.created_party_registration(
        request_id,
        ema.config.vtn_id,
        registration_id=link.registration_id,
        ven_id=link.ven_id,
        poll_freq=ema.config.poll_freq if link.pull else None,
    )


def create(ema: UpperEma, message: ValidMessage) -> dict:
    """EMAP-6.2.3-02 to -11 (Table 6.2-2 effects, then U's `emapRegisterReport`)."""
    body, config = message.body, ema.config
    ven_id, registration_id = body.get("venID"), body.get("registrationID")
    if ven_id is not None:
        link = ema.registry.by_ven(ven_id)
    else:
        link = ema.registry.by_registration(registration_id)
    if registration_id is not None and (link is None or link.registration_id != registration_id):
        raise Rejected(
            "452", f"registrationID {registration_id!r} is not the current registrationID of this lower EMA"
        )
    if (
        link is None
        and ven_id is not None
        and ven_id not in config.preallocated_ven_ids
        and not config.self_chosen_ven_ids
    ):
        raise Rejected(
            "452", f"venID {ven_id!r} is not pre-allocated and self-chosen venIDs are not accepted"
        )
    _fail_on(first_failure(registration_rules(body), "454"))
    if body["emapProfileName"] != PROFILE_NAME or body["emapTransportName"] != TRANSPORT_NAME:
        raise Rejected("453", f"supported: profile {PROFILE_NAME} over transport {TRANSPORT_NAME}")
    if link is None and len(ema.registry) >= ema.registry.limit:
        raise Rejected("469", f"registration refused: {ema.registry.limit} lower EMAs are registered")
    now = timefmt.utc_now()
    if link is None:

        def taken(value: str) -> bool:
            return ema.registry.holds(value) or value in config.preallocated_ven_ids

        link = Link(
            ven_id or ema.ids.new("ven", taken),
            ema.ids.new("reg"),
            now,
            True,
            None,
            False,
            OutboundQueue(config.queue_limit),
        )
        ema.registry.add(link)
    elif registration_id is None:  # new registration of a registered lower EMA (EMAP-6.2.3-06)
        link.restart(new_registration=True)
        link.registration_id, link.registered_at = ema.ids.new("reg"), now
    else:  # re-registration (EMAP-6.2.3-05)
        link.restart(new_registration=False)
    link.pull = body["emapPullModel"]
    link.transport_address = None if link.pull else body["emapTransportAddress"]
    asked = body.get("emapOptChange")
    link.opt_change = config.opt_change and asked is True
    link.offered = ema.offered
    reply = build.created_party_registration(
        body["requestID"],
        config.vtn_id,
        registration_id=link.registration_id,
        ven_id=link.ven_id,
        poll_freq=config.poll_freq if link.pull else None,
        opt_change=link.opt_change if config.opt_change and asked is not None else None,
    )
    ema.send(link, ema.reporter.register_report(link, now))  # EMAP-6.2.3-11: first entry of the emptied queue
    return reply


def cancel(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.2.4-03, -04: the registration ends with the 200 answer."""
    body = message.body
    if body["registrationID"] != link.registration_id:
        raise Rejected("452", f"registrationID {body['registrationID']!r} is not the current one")
    reply = build.canceled_party_registration(body["requestID"], body["registrationID"], body["venID"])
    ema.end_link(link)
    return reply


# Event (6.3) and poll (6.6)


def request_event(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.3.3-03, -04: the current event set (first ``replyLimit``), outstanding until answered."""
    request = message.body["eiRequestEvent"]
    events = ema.distribution(link, timefmt.utc_now(), request.get("replyLimit"))
    envelope = build.distribute_event(
        ema.ids.new("de"), ema.config.vtn_id, events, ei_response=build.ei_response(request["requestID"])
    )
    ema.delivered(link, Outgoing(DISTRIBUTE, envelope, epoch=link.epoch), None, outstanding=True)
    return envelope


def poll(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.6-02, -03, -12: the head of the queue, removed, or R0; 451 for a push-mode lower EMA."""
    if not link.pull:
        return build.response("", "451", link.ven_id, "emapPoll from a lower EMA registered in push mode")
    item = link.queue.head()
    if item is None:
        return build.response("", "200", link.ven_id)
    link.queue.pop()
    envelope = item.materialize()
    ema.delivered(link, item, None, outstanding=True)
    return envelope


# Report (6.4)


def register_report(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.4.2-04 to -06."""
    _fail_on(ema.requester.check_register(link, message.body))
    ema.requester.register(link, message.body)
    return build.registered_report(message.body["requestID"], link.ven_id)


def create_report(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.4.3-02 to -07: all or nothing; reporting starts after the answer."""
    _fail_on(ema.reporter.check_create(link, message.body))
    created = ema.reporter.create(link, message.body, timefmt.utc_now())
    reply = build.created_report(message.body["requestID"], link.ven_id, ema.reporter.pending(link))
    ema.reporter.start(link, created)
    return reply


def update_report(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.4.4-04."""
    _fail_on(ema.requester.check_update(link, message.body))
    ema.requester.update(link, message.body)
    return build.updated_report(message.body["requestID"], link.ven_id)


def cancel_report(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.4.5-02, -03: with `reportToFollow` the requests stay pending until their final report."""
    _fail_on(ema.reporter.check_cancel(link, message.body))
    finals = ema.reporter.cancel(link, message.body)
    reply = build.canceled_report(message.body["requestID"], link.ven_id, ema.reporter.pending(link))
    for request in finals:
        ema.reporter.send_final(link, request)
    return reply


# Opt (6.5, Annex A)


def create_opt(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.5.2-03 to -06, EMAP-A-05 to -08, in the order of Table 6.1-4."""
    body = message.body
    qualified = body.get("qualifiedEventID")
    event = ema.events.get(qualified["eventID"]) if qualified else None
    if qualified and (event is None or not event.addresses(link.ven_id)):  # step 4
        raise Rejected("452", f"eventID {qualified['eventID']!r} is not an event addressing {link.ven_id}")
    rules = opt_rules(body)
    _fail_on(first_failure(rules, "454"))  # step 5
    if qualified and qualified["modificationNumber"] != event.modification_number:
        raise Rejected(
            "454",
            f"modificationNumber {qualified['modificationNumber']} is not the current "
            f"{event.modification_number}",
        )
    _fail_on(first_failure(rules, "462"))  # step 6
    if body.get("emapOptChange") is True:
        _check_opt_change(ema, link, event)
    if body["optID"] not in link.opts and len(link.opts) >= ema.config.queue_limit:
        raise Rejected("469", f"too many opts ({len(link.opts)}) held for {link.ven_id}")
    link.opts[body["optID"]] = body
    if qualified:
        link.decisions[event.event_id] = body["optType"]
    return build.created_opt(body["requestID"], body["optID"])


def _check_opt_change(ema: UpperEma, link: Link, event) -> None:
    """EMAP-A-06 (451), then EMAP-A-07 (450)."""
    now = timefmt.utc_now()
    last = link.last_sent.get(event.event_id, {})
    deadline = last.get("emapOptChangeDeadline")
    if not link.opt_change:
        raise Rejected("451", "opt change was not accepted for this registration")
    if last.get("emapOptChangeAllowed") is not True:
        raise Rejected("451", f"the latest EmapEvent of {event.event_id} sent did not allow opt change")
    if deadline is not None and now >= timefmt.parse_datetime(deadline):
        raise Rejected("451", f"the opt change deadline {deadline} has passed")
    if event.status(now) in ("completed", "cancelled"):
        raise Rejected("451", f"event {event.event_id} is {event.status(now)}")
    if event.event_id not in link.decisions:
        raise Rejected("450", f"no earlier decision of {link.ven_id} on event {event.event_id}")


def cancel_opt(ema: UpperEma, link: Link, message: ValidMessage) -> dict:
    """EMAP-6.5.3-01, -02."""
    body = message.body
    if body["optID"] not in link.opts:
        raise Rejected("452", f"optID {body['optID']!r} is not an opt of {link.ven_id}")
    del link.opts[body["optID"]]
    return build.canceled_opt(body["requestID"], body["optID"])


# Step two and follow-up messages (P14)


def acknowledge(ema: UpperEma, link: Link, resource: str, message: ValidMessage) -> dict | None:
    """EMAP-6.1-06, -07: 450 unless it answers an outstanding request of that service; then the message's own
    ID checks; accepted: `emapResponse` 200, or an empty 2.04 for `emapResponse`."""
    request_id = message.request_id or ""
    item = link.outstanding.match(message.name, resource, request_id)
    if item is None:
        raise Rejected(
            "450",
            f"{message.name} with requestID {request_id!r} answers no outstanding request at {resource}",
        )
    if (
        message.name == "emapCanceledPartyRegistration"
        and message.body["registrationID"] != link.registration_id
    ):
        raise Rejected("452", f"registrationID {message.body['registrationID']!r} is not the current one")
    if message.name == "emapCreatedEvent":
        _check_created_event(ema, link, message.body["eiCreatedEvent"])
    link.outstanding.remove(item)
    reply = None if message.name == "emapResponse" else build.response(request_id, "200", link.ven_id)
    ema.apply_response(link, item, message)
    return reply


def _check_created_event(ema: UpperEma, link: Link, created: dict) -> None:
    """EMAP-6.3.3-06: an unknown event 452, then a modificationNumber newer than the current one 454."""
    responses = created.get("eventResponses", {}).get("eventResponse", [])
    for response in responses:
        event = ema.events.get(response["qualifiedEventID"]["eventID"])
        if event is None or not event.addresses(link.ven_id):
            raise Rejected(
                "452",
                f"eventID {response['qualifiedEventID']['eventID']!r} is not an event "
                f"addressing {link.ven_id}",
            )
    for response in responses:
        qualified = response["qualifiedEventID"]
        current = ema.events.get(qualified["eventID"]).modification_number
        if qualified["modificationNumber"] > current:
            raise Rejected(
                "454",
                f"modificationNumber {qualified['modificationNumber']} of "
                f"{qualified['eventID']} is newer than the current {current}",
            )


UNREGISTERED = {"emapQueryRegistration": query, "emapCreatePartyRegistration": create}

REGISTERED = {
    "emapCancelPartyRegistration": cancel,
    "emapRequestEvent": request_event,
    "emapPoll": poll,
    "emapRegisterReport": register_report,
    "emapCreateReport": create_report,
    "emapUpdateReport": update_report,
    "emapCancelReport": cancel_report,
    "emapCreateOpt": create_opt,
    "emapCancelOpt": cancel_opt,
}
