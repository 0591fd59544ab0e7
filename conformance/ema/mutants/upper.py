"""Mutants of the sample upper EMA (clauses 5, 6.1 to 6.6 and Annex A, sent by U).

Each function patches one method or function of ``conformance.ema.upper``; it runs before the EMA starts.
"""

from __future__ import annotations

from conformance.ema.mutants.registry import mutant, override_build, replace, wrap

U = ("upper",)


def _body(envelope: dict) -> dict:
    return next(iter(envelope.values()))


def _upper_reply(names, rewrite) -> None:
    """Pass U's answer to each message named in ``names`` through ``rewrite(ema, message, envelope)``."""
    from conformance.ema.upper.ema import UpperEma

    def make(handle):
        async def handle_mutant(self, resource, message, remote):
            reply = await handle(self, resource, message, remote)
            if message.name in names and reply is not None:
                return rewrite(self, message, reply)
            return reply

        return handle_mutant

    wrap(UpperEma, "handle", make)


def _procedure(table: str, name: str, make) -> None:
    """Wrap the procedure function that answers message ``name`` (in procedures.REGISTERED/UNREGISTERED)."""
    from conformance.ema.upper import procedures

    handlers = getattr(procedures, table)
    handlers[name] = make(handlers[name])


def _rejected(code: str, text: str):
    from conformance.ema.upper.replies import Rejected

    return Rejected(code, text)


def _without(rules_of, requirement_prefix: str):
    """A rules function that drops the violations of the requirement ids starting with ``requirement_prefix``."""

    def filtered(*args, **kwargs):
        return [v for v in rules_of(*args, **kwargs) if not v.requirement_id.startswith(requirement_prefix)]

    return filtered


# Clause 5: roles


@mutant("u-vtnid-varies", ["EMAP-5-04"], ["TC-U-5-03"], U,
        "query answers name a different vtnID than registration answers")
def _vtnid_varies():
    def rewrite(ema, message, envelope):
        _body(envelope)["vtnID"] = ema.config.vtn_id + "-q"
        return envelope

    _upper_reply({"emapQueryRegistration"}, rewrite)


@mutant("u-venid-shared", ["EMAP-5-05"], ["TC-U-5-04"], U,
        "every lower EMA registering without venID is assigned the same venID")
def _venid_shared():
    from conformance.ema.upper.ids import IdSource

    wrap(IdSource, "new", lambda new: lambda self, prefix, taken=lambda v: False:
         "ven-shared" if prefix == "ven" else new(self, prefix, taken))


@mutant("u-cancel-ends-all", ["EMAP-5-06"], ["TC-U-5-05"], U,
        "cancelling one registration ends every registration")
def _cancel_ends_all():
    from conformance.ema.upper.ema import UpperEma

    def make(end_link):
        def end_all(self, link):
            for other in list(self.registry):
                end_link(self, other)
            end_link(self, link)

        return end_all

    wrap(UpperEma, "end_link", make)


@mutant("u-pull-only", ["EMAP-5-02"], ["TC-U-5-02"], U,
        "push-mode registrations are refused with 453")
def _pull_only():
    def make(create):
        def create_pull_only(ema, message):
            if message.body.get("emapPullModel") is False:
                raise _rejected("453", "push mode is not offered")
            return create(ema, message)

        return create_pull_only

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


# Clause 6.1: procedures


@mutant("u-opt-answer-type", ["EMAP-6.1-01"], ["TC-U-6.1-01"], U,
        "emapCreateOpt is answered with emapResponse instead of emapCreatedOpt")
def _opt_answer_type():
    from conformance.messages import build

    def rewrite(ema, message, envelope):
        body = _body(envelope)
        return build.response(body["eiResponse"]["requestID"], body["eiResponse"]["responseCode"],
                              message.body["venID"])

    _upper_reply({"emapCreateOpt"}, rewrite)


@mutant("u-requestid-not-echoed", ["EMAP-6.1-02"], ["TC-U-6.1-01"], U,
        "emapRegisteredReport echoes a requestID of its own instead of the request's")
def _requestid_not_echoed():
    def rewrite(ema, message, envelope):
        _body(envelope)["eiResponse"]["requestID"] = "not-" + message.request_id
        return envelope

    _upper_reply({"emapRegisterReport"}, rewrite)


@mutant("u-requestid-repeats", ["EMAP-6.1-03"], ["TC-U-6.1-04"], U,
        "requests U sends reuse one requestID")
def _requestid_repeats():
    from conformance.ema.upper.ids import IdSource

    wrap(IdSource, "new", lambda new: lambda self, prefix, taken=lambda v: False:
         f"{prefix}-same" if prefix in ("de", "rr", "cr", "ur", "xr", "cp") else new(self, prefix, taken))


@mutant("u-step-two-unacknowledged", ["EMAP-6.1-06"], ["TC-U-6.1-06"], U,
        "a POSTed response-type message gets an empty 2.04 instead of emapResponse 200")
def _step_two_unacknowledged():
    from conformance.ema.upper import procedures

    def make(acknowledge):
        def acknowledge_silently(ema, link, resource, message):
            acknowledge(ema, link, resource, message)
            return None

        return acknowledge_silently

    wrap(procedures, "acknowledge", make)  # UpperEma.handle looks it up through the module


@mutant("u-unmatched-accepted", ["EMAP-6.1-07"], ["TC-U-6.1-07"], U,
        "a response-type message answering no outstanding request is accepted (200) instead of 450")
def _unmatched_accepted():
    from conformance.ema.upper import procedures
    from conformance.messages import build

    def make(acknowledge):
        def acknowledge_anything(ema, link, resource, message):
            if link.outstanding.match(message.name, resource, message.request_id or "") is None:
                return None if message.name == "emapResponse" else build.response(
                    message.request_id or "", "200", link.ven_id)
            return acknowledge(ema, link, resource, message)

        return acknowledge_anything

    wrap(procedures, "acknowledge", make)


@mutant("u-rejected-opt-kept", ["EMAP-6.1-08"], ["TC-U-6.1-10"], U,
        "an emapCreateOpt rejected by a later check is stored anyway")
def _rejected_opt_kept():
    from conformance.ema.upper.replies import Rejected

    def make(create_opt):
        def create_opt_storing(ema, link, message):
            try:
                return create_opt(ema, link, message)
            except Rejected:
                link.opts[message.body["optID"]] = message.body
                raise

        return create_opt_storing

    _procedure("REGISTERED", "emapCreateOpt", make)


@mutant("u-check-order", ["EMAP-6.1-08"], ["TC-U-6.1-09"], U,
        "emapCreateOpt checks the form (454) before the event (452), against Table 6.1-4")
def _check_order():
    from conformance.ema.upper.reporter import first_failure
    from conformance.messages.rules import opt_rules

    def make(create_opt):
        def create_opt_reordered(ema, link, message):
            failure = first_failure(opt_rules(message.body), "454")
            if failure is not None:
                raise _rejected(*failure)
            return create_opt(ema, link, message)

        return create_opt_reordered

    _procedure("REGISTERED", "emapCreateOpt", make)


@mutant("u-error-drops-members", ["EMAP-6.1-09"], ["TC-U-6.1-11"], U,
        "an error emapCanceledOpt omits the optID it must echo")
def _error_drops_members():
    def rewrite(ema, message, envelope):
        body = _body(envelope)
        if body["eiResponse"]["responseCode"] != "200":
            body["optID"] = "x"
        return envelope

    _upper_reply({"emapCancelOpt", "emapCreateOpt"}, rewrite)


@mutant("u-unlisted-code", ["EMAP-6.1-10"], ["TC-U-6.1-12"], U,
        "452 answers carry the unlisted responseCode 499")
def _unlisted_code():
    from conformance.ema.upper import replies

    wrap(replies, "error_reply", lambda error_reply: lambda message, code, *a, **k:
         error_reply(message, "499" if code == "452" else code, *a, **k))
    _rebind_error_reply()


def _rebind_error_reply() -> None:
    """``ema.py`` imported ``error_reply`` by name: point it at the patched one."""
    from conformance.ema.upper import ema, replies

    ema.error_reply = replies.error_reply


@mutant("u-no-description", ["EMAP-6.1-11"], ["TC-U-6.1-13"], U,
        "error answers carry no responseDescription")
def _no_description():
    from conformance.ema.upper import replies

    wrap(replies, "error_reply", lambda error_reply: lambda message, code, description, **k:
         _strip_descriptions(error_reply(message, code, description, **k)))
    _rebind_error_reply()


def _strip_descriptions(value):
    if isinstance(value, dict):
        value.pop("responseDescription", None)
        for item in value.values():
            _strip_descriptions(item)
    elif isinstance(value, list):
        for item in value:
            _strip_descriptions(item)
    return value


# Clause 6.2: RegisterParty


@mutant("u-unregistered-452", ["EMAP-6.2.1-02"], ["TC-U-6.2.1-01"], U,
        "a message from an unregistered venID is answered 452 instead of 463")
def _unregistered_452():
    def rewrite(ema, message, envelope):
        return _recode(envelope, "463", "452")

    _upper_reply({"emapPoll", "emapRequestEvent", "emapCreateOpt", "emapCancelOpt", "emapRegisterReport",
                  "emapCreateReport", "emapUpdateReport", "emapCancelReport", "emapCancelPartyRegistration",
                  "emapResponse", "emapCreatedEvent"}, rewrite)


def _recode(value, old: str, new: str):
    """``value`` with every responseCode ``old`` replaced by ``new``."""
    if isinstance(value, dict):
        return {k: (new if k == "responseCode" and v == old else _recode(v, old, new)) for k, v in value.items()}
    if isinstance(value, list):
        return [_recode(item, old, new) for item in value]
    return value


@mutant("u-registration-id-reused", ["EMAP-6.2.1-05"], ["TC-U-6.2.1-04"], U,
        "every registration gets the same registrationID")
def _registration_id_reused():
    from conformance.ema.upper.ids import IdSource

    wrap(IdSource, "new", lambda new: lambda self, prefix, taken=lambda v: False:
         "reg-1" if prefix == "reg" else new(self, prefix, taken))


@mutant("u-query-leaks-ids", ["EMAP-6.2.2-04"], ["TC-U-6.2.2-01"], U,
        "the query answer to an unregistered lower EMA carries a registrationID and venID")
def _query_leaks_ids():
    def rewrite(ema, message, envelope):
        body = _body(envelope)
        body.setdefault("registrationID", "reg-leak")
        body.setdefault("venID", "ven-leak")
        return envelope

    _upper_reply({"emapQueryRegistration"}, rewrite)


@mutant("u-query-hides-ids", ["EMAP-6.2.2-05"], ["TC-U-6.2.2-02"], U,
        "the query answer to a registered lower EMA omits its registrationID and venID")
def _query_hides_ids():
    def rewrite(ema, message, envelope):
        body = _body(envelope)
        for member in ("registrationID", "venID", "emapRequestedPollFreq"):
            body.pop(member, None)
        return envelope

    _upper_reply({"emapQueryRegistration"}, rewrite)


@mutant("u-query-profiles-wrong", ["EMAP-6.2.2-03"], ["TC-U-6.2.2-01"], U,
        "the query answer offers a profile name that is not the binding's")
def _query_profiles_wrong():
    def rewrite(ema, message, envelope):
        for profile in _body(envelope)["emapProfiles"]:
            profile["emapProfileName"] = "EMAP-9.9"
        return envelope

    _upper_reply({"emapQueryRegistration"}, rewrite)


@mutant("u-query-resets-link", ["EMAP-6.2.2-06"], ["TC-U-6.2.2-03"], U,
        "a query from a registered lower EMA empties its outbound queue")
def _query_resets_link():
    def make(query):
        def query_clearing(ema, message):
            link = ema.registry.by_ven(message.body.get("venID"))
            if link is not None:
                link.queue.clear()
                link.opts.clear()
            return query(ema, message)

        return query_clearing

    _procedure("UNREGISTERED", "emapQueryRegistration", make)


@mutant("u-push-address-unchecked", ["EMAP-6.2.3-02"], ["TC-U-6.2.3-01"], U,
        "a push registration without a valid emapTransportAddress is accepted")
def _push_address_unchecked():
    from conformance.ema.upper import procedures

    procedures.registration_rules = _without(procedures.registration_rules, "EMAP-6.2.3-02")

    def make(create):
        def create_any_address(ema, message):
            body = message.body
            if body.get("emapPullModel") is False and not body.get("emapTransportAddress"):
                body["emapTransportAddress"] = "coap://127.0.0.1:9/emapl"
            return create(ema, message)

        return create_any_address

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-any-profile", ["EMAP-6.2.3-03"], ["TC-U-6.2.3-02"], U,
        "a registration naming an unsupported profile or transport is accepted")
def _any_profile():
    from conformance.messages.build import PROFILE_NAME, TRANSPORT_NAME

    def make(create):
        def create_any_profile(ema, message):
            message.body["emapProfileName"], message.body["emapTransportName"] = PROFILE_NAME, TRANSPORT_NAME
            return create(ema, message)

        return create_any_profile

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-wrong-registration-id-accepted", ["EMAP-6.2.3-04"], ["TC-U-6.2.3-03"], U,
        "a create naming an unknown registrationID is treated as a new registration")
def _wrong_registration_id_accepted():
    def make(create):
        def create_lenient(ema, message):
            body = message.body
            link = ema.registry.by_ven(body.get("venID")) if body.get("venID") else None
            if body.get("registrationID") is not None and (link is None or
                                                           link.registration_id != body["registrationID"]):
                del body["registrationID"]
            return create(ema, message)

        return create_lenient

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-reregistration-new-ids", ["EMAP-6.2.3-05"], ["TC-U-6.2.3-04"], U,
        "a re-registration (current registrationID) is given a new registrationID")
def _reregistration_new_ids():
    def make(create):
        def create_renumbering(ema, message):
            message.body.pop("registrationID", None)
            return create(ema, message)

        return create_renumbering

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-new-registration-same-id", ["EMAP-6.2.3-06"], ["TC-U-6.2.3-05"], U,
        "a new registration of a registered lower EMA keeps its old registrationID")
def _new_registration_same_id():
    def make(create):
        def create_keeping(ema, message):
            body = message.body
            link = ema.registry.by_ven(body.get("venID"))
            if link is not None and body.get("registrationID") is None:
                body["registrationID"] = link.registration_id
            return create(ema, message)

        return create_keeping

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-own-venid", ["EMAP-6.2.3-07"], ["TC-U-6.2.3-06"], U,
        "a self-chosen venID of a new lower EMA is replaced by one U makes up")
def _own_venid():
    def make(create):
        def create_own_venid(ema, message):
            if ema.registry.by_ven(message.body.get("venID")) is None:
                message.body.pop("venID", None)
            return create(ema, message)

        return create_own_venid

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-failed-registration-ids", ["EMAP-6.2.3-09"], ["TC-U-6.2.3-07"], U,
        "a failed registration answer carries a registrationID and venID")
def _failed_registration_ids():
    def rewrite(ema, message, envelope):
        body = _body(envelope)
        if body["eiResponse"]["responseCode"] != "200":
            body["registrationID"], body["venID"] = "reg-failed", "ven-failed"
        return envelope

    _upper_reply({"emapCreatePartyRegistration"}, rewrite)


@mutant("u-no-metadata-after-registration", ["EMAP-6.2.3-11"], ["TC-U-6.2.3-08"], U,
        "U does not send its emapRegisterReport after a registration")
def _no_metadata_after_registration():
    def make(create):
        def create_without_metadata(ema, message):
            send = ema.send
            ema.send = lambda link, item: True if item.name == "emapRegisterReport" else send(link, item)
            try:
                return create(ema, message)
            finally:
                del ema.send

        return create_without_metadata

    _procedure("UNREGISTERED", "emapCreatePartyRegistration", make)


@mutant("u-cancel-any-registration-id", ["EMAP-6.2.4-03"], ["TC-U-6.2.4-01"], U,
        "a cancel naming a wrong registrationID is accepted")
def _cancel_any_registration_id():
    def make(cancel):
        def cancel_lenient(ema, link, message):
            message.body["registrationID"] = link.registration_id
            return cancel(ema, link, message)

        return cancel_lenient

    _procedure("REGISTERED", "emapCancelPartyRegistration", make)


@mutant("u-cancel-keeps-link", ["EMAP-6.2.4-04"], ["TC-U-6.2.4-02"], U,
        "a valid cancel is answered 200 but the registration goes on")
def _cancel_keeps_link():
    from conformance.messages import build

    def cancel_only_answer(ema, link, message):
        body = message.body
        if body["registrationID"] != link.registration_id:
            raise _rejected("452", "not the current registrationID")
        return build.canceled_party_registration(body["requestID"], body["registrationID"], body["venID"])

    _procedure("REGISTERED", "emapCancelPartyRegistration", lambda cancel: cancel_only_answer)


# Clause 6.3: Event


@mutant("u-modification-number-frozen", ["EMAP-6.3.1-02"], ["TC-U-6.3.1-02"], U,
        "modifying an event does not increase its modificationNumber")
def _modification_number_frozen():
    from conformance.ema.upper.events import Event

    wrap(Event, "render", lambda render: lambda self, *a, **k: _with_number(render(self, *a, **k), 0))


def _with_number(event: dict, number: int) -> dict:
    event["eiEvent"]["eventDescriptor"]["modificationNumber"] = number
    return event


@mutant("u-status-far-forever", ["EMAP-6.3.1-03"], ["TC-U-6.3.1-03"], U,
        "every event not cancelled is sent with eventStatus far")
def _status_far_forever():
    from conformance.ema.upper.events import Event

    def make(render):
        def render_far(self, *args, **kwargs):
            event = render(self, *args, **kwargs)
            descriptor = event["eiEvent"]["eventDescriptor"]
            if descriptor["eventStatus"] != "cancelled":
                descriptor["eventStatus"] = "far"
            return event

        return render_far

    wrap(Event, "render", make)


@mutant("u-current-value-stale", ["EMAP-6.3.1-06"], ["TC-U-6.3.1-06"], U,
        "currentValue of an active event stays 0 instead of the active interval's value")
def _current_value_stale():
    from conformance.ema.upper import stimuli
    from conformance.ema.upper.events import Signal

    replace(Signal, "value_at", lambda self, offset: 0.0 if self.name == "SIMPLE" else None)
    stimuli.event_rules = _without(stimuli.event_rules, "EMAP-6.3.1-06")  # its own guard at event creation


@mutant("u-events-to-everyone", ["EMAP-6.3.1-08"], ["TC-U-6.3.1-08"], U,
        "events are sent to lower EMAs they do not address")
def _events_to_everyone():
    from conformance.ema.upper.events import Event

    replace(Event, "addresses", lambda self, ven_id: True)


@mutant("u-no-distribution", ["EMAP-6.3.2-01"], ["TC-U-6.3.2-01"], U,
        "a new or changed event is not distributed until the lower EMA asks")
def _no_distribution():
    from conformance.ema.upper.ema import UpperEma

    replace(UpperEma, "distribute", lambda self, link: link.active)


@mutant("u-cancellations-dropped", ["EMAP-6.3.2-02"], ["TC-U-6.3.2-02"], U,
        "cancelled events are left out of the distributed event set")
def _cancellations_dropped():
    from conformance.ema.upper.events import EventStore

    def make(distribution):
        def distribution_without_cancelled(self, *args, **kwargs):
            return [e for e in distribution(self, *args, **kwargs)
                    if e["eiEvent"]["eventDescriptor"]["eventStatus"] != "cancelled"]

        return distribution_without_cancelled

    wrap(EventStore, "distribution", make)


@mutant("u-events-unordered", ["EMAP-6.3.2-03"], ["TC-U-6.3.2-03"], U,
        "events are distributed in the reverse of the Table 6.3-3 order")
def _events_unordered():
    from conformance.ema.upper.events import EventStore

    def make(distribution):
        def reversed_distribution(self, *args, limit=None, **kwargs):
            events = distribution(self, *args, **kwargs)[::-1]
            return events if limit is None else events[:limit]

        return reversed_distribution

    wrap(EventStore, "distribution", make)


@mutant("u-unsolicited-eiresponse", ["EMAP-6.3.2-04"], ["TC-U-6.3.2-04"], U,
        "an unsolicited emapDistributeEvent carries an eiResponse")
def _unsolicited_eiresponse():
    from conformance.ema.upper import ema as upper_ema
    from conformance.messages import build

    override_build(upper_ema, distribute_event=lambda distribute: lambda request_id, vtn_id, events, *,
                   ei_response=None: distribute(request_id, vtn_id, events,
                                                ei_response=ei_response or build.ei_response(request_id)))


@mutant("u-reply-limit-ignored", ["EMAP-6.3.3-04"], ["TC-U-6.3.3-02"], U,
        "replyLimit of emapRequestEvent is ignored")
def _reply_limit_ignored():
    from conformance.ema.upper.ema import UpperEma

    wrap(UpperEma, "distribution", lambda distribution: lambda self, link, now, limit=None:
         distribution(self, link, now))


@mutant("u-created-event-unchecked", ["EMAP-6.3.3-06"], ["TC-U-6.3.3-03"], U,
        "emapCreatedEvent naming an unknown event or a newer modificationNumber is accepted")
def _created_event_unchecked():
    from conformance.ema.upper import procedures

    replace(procedures, "_check_created_event", lambda ema, link, created: None)


# Clause 6.4: Report


@mutant("u-pending-empty", ["EMAP-6.4.1-03"], ["TC-U-6.4.1-01"], U,
        "pendingReports is always empty")
def _pending_empty():
    from conformance.ema.upper.reporter import Reporter

    replace(Reporter, "pending", lambda link: [])


@mutant("u-bad-metadata-accepted", ["EMAP-6.4.2-04"], ["TC-U-6.4.2-02"], U,
        "an emapRegisterReport with malformed metadata is accepted")
def _bad_metadata_accepted():
    from conformance.ema.upper import requester

    requester.metadata_rules = lambda body, sender: []


def _accept_on(name: str, code: str, answer) -> None:
    """Answer ``name`` with ``answer(ema, link, body)`` (success, nothing done) where U would answer ``code``."""
    from conformance.ema.upper.replies import Rejected

    def make(procedure):
        def procedure_lenient(ema, link, message):
            try:
                return procedure(ema, link, message)
            except Rejected as rejected:
                if rejected.code != code:
                    raise
                return answer(ema, link, message.body)

        return procedure_lenient

    _procedure("REGISTERED", name, make)


@mutant("u-unknown-specifier-accepted", ["EMAP-6.4.3-03"], ["TC-U-6.4.3-02"], U,
        "a report request for an unknown reportSpecifierID or rID is answered 200 (and never served)")
def _unknown_specifier_accepted():
    from conformance.messages import build

    _accept_on("emapCreateReport", "452", lambda ema, link, body: build.created_report(
        body["requestID"], link.ven_id, ema.reporter.pending(link)))


@mutant("u-oneshot-missing", ["EMAP-6.4.3-06"], ["TC-U-6.4.3-05"], U,
        "a one-shot report request is accepted but no report is sent")
def _oneshot_missing():
    from conformance.ema.upper.reporter import Reporter

    def make(start):
        def start_periodic_only(self, link, requests):
            start(self, link, [r for r in requests if r.back != 0])

        return start_periodic_only

    wrap(Reporter, "start", make)


@mutant("u-update-unknown-accepted", ["EMAP-6.4.4-04"], ["TC-U-6.4.4-03"], U,
        "an emapUpdateReport for an unknown reportRequestID is answered 200")
def _update_unknown_accepted():
    from conformance.messages import build

    _accept_on("emapUpdateReport", "452", lambda ema, link, body: build.updated_report(
        body["requestID"], link.ven_id))


@mutant("u-cancel-inactive-report-accepted", ["EMAP-6.4.5-02"], ["TC-U-6.4.5-01"], U,
        "an emapCancelReport naming an inactive reportRequestID is answered 200")
def _cancel_inactive_report_accepted():
    from conformance.messages import build

    _accept_on("emapCancelReport", "452", lambda ema, link, body: build.canceled_report(
        body["requestID"], link.ven_id, ema.reporter.pending(link)))


# Clause 6.5: Opt


@mutant("u-opt-two-forms-accepted", ["EMAP-6.5.2-03"], ["TC-U-6.5.2-01"], U,
        "an opt with both forms (or neither) is accepted instead of 454")
def _opt_two_forms_accepted():
    from conformance.ema.upper import procedures

    procedures.opt_rules = _without(procedures.opt_rules, "EMAP-6.5.2-0")

    def make(create_opt):
        def create_opt_any_form(ema, link, message):
            body = message.body
            if body.get("qualifiedEventID") and body.get("emapAvailability"):
                body.pop("emapAvailability")
            return create_opt(ema, link, message)

        return create_opt_any_form

    _procedure("REGISTERED", "emapCreateOpt", make)


@mutant("u-opt-foreign-target", ["EMAP-6.5.2-04"], ["TC-U-6.5.2-02"], U,
        "an opt whose eiTarget names another venID is accepted instead of 462")
def _opt_foreign_target():
    from conformance.ema.upper import procedures

    rules = procedures.opt_rules
    procedures.opt_rules = lambda body, *a, **k: [v for v in rules(body, *a, **k) if v.code != "462"]


@mutant("u-opt-unknown-event", ["EMAP-6.5.2-05"], ["TC-U-6.5.2-03"], U,
        "an event-form opt for an unknown event is accepted")
def _opt_unknown_event():
    from conformance.messages import build

    def make(create_opt):
        def create_opt_unknown(ema, link, message):
            qualified = message.body.get("qualifiedEventID")
            if qualified and ema.events.get(qualified["eventID"]) is None:
                link.opts[message.body["optID"]] = message.body
                return build.created_opt(message.body["requestID"], message.body["optID"])
            return create_opt(ema, link, message)

        return create_opt_unknown

    _procedure("REGISTERED", "emapCreateOpt", make)


@mutant("u-opt-not-stored", ["EMAP-6.5.2-06"], ["TC-U-6.5.2-04"], U,
        "an accepted opt is not recorded (a repeat with the same optID is refused 469)")
def _opt_not_stored():
    def make(create_opt):
        def create_opt_forgetful(ema, link, message):
            if message.body["optID"] in link.opts:
                raise _rejected("469", "optID already used")
            return create_opt(ema, link, message)

        return create_opt_forgetful

    _procedure("REGISTERED", "emapCreateOpt", make)


@mutant("u-cancel-unknown-opt", ["EMAP-6.5.3-01"], ["TC-U-6.5.3-01"], U,
        "cancelling an unknown optID is answered 200")
def _cancel_unknown_opt():
    from conformance.messages import build

    def make(cancel_opt):
        def cancel_opt_any(ema, link, message):
            if message.body["optID"] not in link.opts:
                return build.canceled_opt(message.body["requestID"], message.body["optID"])
            return cancel_opt(ema, link, message)

        return cancel_opt_any

    _procedure("REGISTERED", "emapCancelOpt", make)


@mutant("u-cancel-opt-kept", ["EMAP-6.5.3-02"], ["TC-U-6.5.3-02"], U,
        "a cancelled opt stays in effect (a second cancel is answered 200 again)")
def _cancel_opt_kept():
    from conformance.messages import build

    def make(cancel_opt):
        def cancel_opt_keeping(ema, link, message):
            body = message.body
            if body["optID"] not in link.opts:
                raise _rejected("452", f"optID {body['optID']!r} is not an opt of {link.ven_id}")
            return build.canceled_opt(body["requestID"], body["optID"])

        return cancel_opt_keeping

    _procedure("REGISTERED", "emapCancelOpt", make)


# Clause 6.6: Poll


@mutant("u-poll-lifo", ["EMAP-6.6-01", "EMAP-6.6-02"], ["TC-U-6.6-01", "TC-U-6.6-02"], U,
        "a poll is answered with the newest queued request instead of the oldest")
def _poll_lifo():
    from conformance.ema.upper.outbound import OutboundQueue

    replace(OutboundQueue, "head", lambda self: self._items[-1] if self._items else None)
    replace(OutboundQueue, "pop", lambda self: self._items.pop())


@mutant("u-poll-redelivers", ["EMAP-6.6-12"], ["TC-U-6.6-06"], U,
        "a queue entry delivered by a poll stays queued and is delivered by the next poll again")
def _poll_redelivers():
    delivered_once = set()

    def make(poll):
        def poll_twice(ema, link, message):
            item = link.queue.head()
            if link.pull and item is not None and id(item) not in delivered_once:
                delivered_once.add(id(item))
                envelope = item.materialize()
                ema.delivered(link, item, None, outstanding=True)
                return envelope
            return poll(ema, link, message)

        return poll_twice

    _procedure("REGISTERED", "emapPoll", make)


@mutant("u-push-poll-accepted", ["EMAP-6.6-03"], ["TC-U-6.6-05"], U,
        "a poll from a push-mode lower EMA is answered like a pull-mode poll")
def _push_poll_accepted():
    def make(poll):
        def poll_any_mode(ema, link, message):
            if not link.pull:
                from conformance.messages import build

                return build.response("", "200", link.ven_id)
            return poll(ema, link, message)

        return poll_any_mode

    _procedure("REGISTERED", "emapPoll", make)


# Annex A: opt change


@mutant("u-opt-change-members-always", ["EMAP-A-03"], ["TC-U-A-02"], U,
        "opt change members are sent to lower EMAs that did not ask for opt change")
def _opt_change_members_always():
    from conformance.ema.upper.events import Event

    wrap(Event, "render", lambda render: lambda self, ven_id, now, *, opt_change:
         render(self, ven_id, now, opt_change=True))


@mutant("u-opt-change-disallowed-accepted", ["EMAP-A-06"], ["TC-U-A-04"], U,
        "an opt change where the event does not allow it is accepted instead of 451")
def _opt_change_disallowed_accepted():
    from conformance.ema.upper import procedures

    def check_decision_only(ema, link, event):
        if event.event_id not in link.decisions:
            raise _rejected("450", f"no earlier decision on event {event.event_id}")

    replace(procedures, "_check_opt_change", check_decision_only)


@mutant("u-opt-change-without-decision", ["EMAP-A-07"], ["TC-U-A-05"], U,
        "an opt change without an earlier decision is accepted instead of 450")
def _opt_change_without_decision():
    from conformance.ema.upper import procedures

    def make(check):
        def check_without_decision(ema, link, event):
            link.decisions.setdefault(event.event_id, "optIn")
            return check(ema, link, event)

        return check_without_decision

    wrap(procedures, "_check_opt_change", make)
