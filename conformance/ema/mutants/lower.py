"""Mutants of the sample lower EMA (clauses 6.1 to 6.6, Annex A, and its transport address, sent by L).

Each function patches one method or function of ``conformance.ema.lower``; it runs before the EMA starts.
"""

from __future__ import annotations

from conformance.ema.mutants.registry import mutant, override_build, replace, wrap

PULL = ("lower-pull",)
PUSH = ("lower-push",)
BOTH = ("lower-pull", "lower-push")


def _created(envelope: dict) -> dict:
    """The `eiCreatedEvent` of an `emapCreatedEvent` envelope."""
    return envelope["emapCreatedEvent"]["eiCreatedEvent"]


def _lower_reply(names, rewrite) -> None:
    """Pass L's answer to each request named in ``names`` (pushed or a poll reply) through
    ``rewrite(ema, message, envelope)``."""
    from conformance.ema.lower.agent import LowerEma

    def make(process):
        def process_mutant(self, message):
            reply, after = process(self, message)
            if message.name in names:
                reply = rewrite(self, message, reply)
            return reply, after

        return process_mutant

    wrap(LowerEma, "process", make)


def _before_process(names, change) -> None:
    """Let ``change(ema, message)`` alter each request named in ``names`` before L processes it."""
    from conformance.ema.lower.agent import LowerEma

    def make(process):
        def process_changed(self, message):
            if message.name in names and self.link is not None:
                change(self, message)
            return process(self, message)

        return process_changed

    wrap(LowerEma, "process", make)


# Clause 6.1: procedures


@mutant("l-requestid-repeats", ["EMAP-6.1-03"], ["TC-L-6.1-02"], PULL,
        "every request L sends carries the same requestID")
def _requestid_repeats():
    from conformance.ema.lower.state import RequestIds

    replace(RequestIds, "__call__", lambda self, kind="rq": f"l-{kind}-same")


@mutant("l-no-description", ["EMAP-6.1-11"], ["TC-L-6.1-04"], PULL,
        "L's error answers carry no responseDescription")
def _no_description():
    from conformance.ema.mutants.upper import _strip_descriptions

    _lower_reply({"emapDistributeEvent", "emapCreateReport", "emapUpdateReport", "emapCancelReport",
                  "emapRegisterReport", "emapCancelPartyRegistration", "emapRequestReregistration"},
                 lambda ema, message, envelope: _strip_descriptions(envelope))


# Clause 6.2: RegisterParty


@mutant("l-unregistered-accepts", ["EMAP-6.2.1-03"], ["TC-L-6.2.1-02"], PUSH,
        "an unregistered push-mode lower EMA answers requests 452 instead of 463")
def _unregistered_accepts():
    from conformance.ema.lower import inbound
    from conformance.ema.mutants.upper import _recode

    wrap(inbound, "_not_registered", lambda not_registered: lambda ema, message:
         _recode(not_registered(ema, message), "463", "452"))


@mutant("l-query-without-venid", ["EMAP-6.2.2-02"], ["TC-L-6.2.2-01"], BOTH,
        "a registered lower EMA queries without its venID")
def _query_without_venid():
    from conformance.ema.lower import agent

    override_build(agent, query_registration=lambda query: lambda request_id, ven_id=None: query(request_id))


@mutant("l-events-before-metadata", ["EMAP-6.2.3-12"], ["TC-L-6.2.3-02"], PULL,
        "after registering, L requests events before it registers its metadata")
def _events_before_metadata():
    from conformance.ema.lower.agent import LowerEma

    def bootstrap_reversed(self):
        self.request_event(None, bootstrap=True)
        self.register_report()

    replace(LowerEma, "_bootstrap", bootstrap_reversed)


@mutant("l-cancel-any-ids", ["EMAP-6.2.4-03"], ["TC-L-6.2.4-03"], PULL,
        "a cancel naming another registrationID is accepted")
def _cancel_any_ids():
    def change(ema, message):
        message.body["registrationID"] = ema.link.registration_id
        message.body["venID"] = ema.link.ven_id

    _before_process({"emapCancelPartyRegistration"}, change)


@mutant("l-cancel-keeps-link", ["EMAP-6.2.4-04"], ["TC-L-6.2.4-02"], PULL,
        "a cancel is answered 200 but L keeps polling as registered")
def _cancel_keeps_link():
    from conformance.ema.lower.agent import LowerEma

    def make(process):
        def process_keeping(self, message):
            if message.name != "emapCancelPartyRegistration" or self.link is None:
                return process(self, message)
            end, self.end_registration = self.end_registration, lambda: None
            try:
                return process(self, message)
            finally:
                self.end_registration = end

        return process_keeping

    wrap(LowerEma, "process", make)


@mutant("l-reregistration-ignored", ["EMAP-6.2.5-03"], ["TC-L-6.2.5-01"], PULL,
        "emapRequestReregistration is acknowledged but L does not re-register")
def _reregistration_ignored():
    from conformance.ema.lower.agent import LowerEma

    def make(process):
        def process_no_reregistration(self, message):
            reply, after = process(self, message)
            return reply, (None if message.name == "emapRequestReregistration" else after)

        return process_no_reregistration

    wrap(LowerEma, "process", make)


# Clause 6.3: Event


@mutant("l-foreign-vtnid-accepted", ["EMAP-6.3.2-06"], ["TC-L-6.3.2-03"], PULL,
        "an emapDistributeEvent with a foreign vtnID is processed instead of answered 452")
def _foreign_vtnid_accepted():
    def change(ema, message):
        message.body["vtnID"] = ema.link.vtn_id

    _before_process({"emapDistributeEvent"}, change)


@mutant("l-no-created-event", ["EMAP-6.3.2-07"], ["TC-L-6.3.2-01", "TC-L-6.3.2-02"], PULL,
        "a distribution with events needing a response is answered emapResponse 200")
def _no_created_event():
    from conformance.messages import build

    def rewrite(ema, message, envelope):
        if "emapCreatedEvent" in envelope and _created(envelope)["eiResponse"]["responseCode"] == "200":
            return build.response(message.body["requestID"], "200", ven_id=ema.link.ven_id)
        return envelope

    _lower_reply({"emapDistributeEvent"}, rewrite)


@mutant("l-event-response-number", ["EMAP-6.3.2-08"], ["TC-L-6.3.2-04"], PULL,
        "each eventResponse names modificationNumber + 1")
def _event_response_number():
    def rewrite(ema, message, envelope):
        if "emapCreatedEvent" in envelope:
            responses = _created(envelope).get("eventResponses", {}).get("eventResponse", [])
            for response in responses:
                response["qualifiedEventID"]["modificationNumber"] += 1
        return envelope

    _lower_reply({"emapDistributeEvent"}, rewrite)


@mutant("l-opt-type-flips", ["EMAP-6.3.2-09"], ["TC-L-6.3.2-08"], PULL,
        "a repeated event version is answered with the opposite optType")
def _opt_type_flips():
    from conformance.ema.lower.events import EventBook

    def make(decision):
        def decision_flipping(self, record, number, descriptor):
            opt_type = decision(self, record, number, descriptor)
            if record is not None and number in record.answered:
                return "optOut" if opt_type == "optIn" else "optIn"
            return opt_type

        return decision_flipping

    wrap(EventBook, "_decision", make)


@mutant("l-modified-unknown-rejected", ["EMAP-6.3.2-10"], ["TC-L-6.3.2-09"], PULL,
        "an unknown event with modificationNumber > 0 is answered 454")
def _modified_unknown_rejected():
    from conformance.ema.lower.events import EventBook

    def make(evaluate):
        def evaluate_strict(self, item, link):
            descriptor = item["eiEvent"]["eventDescriptor"]
            if descriptor["eventID"] not in self.records and descriptor["modificationNumber"] > 0:
                return "454", "optOut", "modified event never seen"
            return evaluate(self, item, link)

        return evaluate_strict

    wrap(EventBook, "_evaluate", make)


@mutant("l-foreign-market-opted-in", ["EMAP-6.3.2-11"], ["TC-L-6.3.2-10"], PUSH,
        "events of an undeclared market context are opted in")
def _foreign_market_opted_in():
    from conformance.ema.lower.events import Identity

    replace(Identity, "accepts_market", lambda self, market_context: True)


# Clause 6.4: Report


@mutant("l-bad-metadata-accepted", ["EMAP-6.4.2-04"], ["TC-L-6.4.2-02"], BOTH,
        "U's emapRegisterReport with malformed metadata is accepted")
def _bad_metadata_accepted():
    from conformance.ema.lower import inbound

    replace(inbound, "metadata_rules", lambda body, sender: [])


@mutant("l-update-unknown-accepted", ["EMAP-6.4.4-04"], ["TC-L-6.4.4-01"], PULL,
        "an emapUpdateReport for an unknown reportRequestID is accepted")
def _update_unknown_accepted():
    from conformance.ema.lower.requester import Requester

    replace(Requester, "check_update", lambda self, body: None)
    wrap(Requester, "updated", lambda updated: lambda self, body: _quietly(updated, self, body))


def _quietly(function, *args):
    try:
        return function(*args)
    except (LookupError, TypeError, AttributeError):
        return None


@mutant("l-cancel-inactive-report-accepted", ["EMAP-6.4.5-02"], ["TC-L-6.4.5-02"], PULL,
        "an emapCancelReport naming an inactive reportRequestID is accepted")
def _cancel_inactive_report_accepted():
    from conformance.ema.lower.reporter import Refusal, Reporter

    def make(cancel):
        def cancel_lenient(self, body):
            try:
                cancel(self, body)
            except Refusal as refusal:
                if refusal.code != "452":
                    raise
                known = [r for r in body["reportRequestID"] if self.is_active(r)]
                cancel(self, dict(body, reportRequestID=known))

        return cancel_lenient

    wrap(Reporter, "cancel", make)


# Clause 6.6: Poll


@mutant("l-polls-too-often", ["EMAP-6.6-06"], ["TC-L-6.6-02"], PULL,
        "regular polls come at a third of the granted period")
def _polls_too_often():
    from conformance.ema.lower.agent import LowerEma

    wrap(LowerEma, "poll_freq", lambda poll_freq: property(lambda self: poll_freq.fget(self) / 3))


@mutant("l-polls-too-rarely", ["EMAP-6.6-08"], ["TC-L-6.6-03"], PULL,
        "regular polls come at three times the granted period")
def _polls_too_rarely():
    from conformance.ema.lower.agent import LowerEma

    wrap(LowerEma, "poll_freq", lambda poll_freq: property(lambda self: poll_freq.fget(self) * 3 + 2))


@mutant("l-no-drain", ["EMAP-6.6-05"], ["TC-L-6.6-01"], PULL,
        "after a poll delivered a request, L waits a full period before polling again")
def _no_drain():
    from conformance.ema.lower.agent import LowerEma

    def make(poll):
        async def poll_without_drain(self):
            await poll(self)
            if self.link is not None and self._last_poll is not None:
                self._next_poll = self._last_poll + self.poll_freq

        return poll_without_drain

    wrap(LowerEma, "_poll", make)


@mutant("l-push-polls", ["EMAP-6.6-10"], ["TC-L-6.6-04"], PUSH,
        "a push-mode lower EMA polls as well")
def _push_polls():
    import time

    from conformance.ema.lower.agent import LowerEma

    def make(bootstrap):
        def bootstrap_and_poll(self):
            bootstrap(self)
            self._polling, self._next_poll = True, time.monotonic()

        return bootstrap_and_poll

    wrap(LowerEma, "_bootstrap", make)
    replace(LowerEma, "_poll_due", lambda self, now: self.link is not None and self._polling
            and self._next_poll is not None and now >= self._next_poll)


# Annex A: opt change


@mutant("l-opt-change-unchecked", ["EMAP-A-04"], ["TC-L-A-01"], PULL,
        "L sends an opt change for events that do not allow it")
def _opt_change_unchecked():
    from conformance.ema.lower.events import EventBook

    replace(EventBook, "may_change", lambda self, event_id, now: None)


# Clause 7.1.3: transport address


@mutant("l-address-with-query", ["EMAP-7.1.3-06"], ["TC-T-7.1.3-05"], PUSH,
        "the emapTransportAddress L registers carries a query component")
def _address_with_query():
    from conformance.ema.lower import agent

    def make(create):
        def create_with_query(request_id, *, transport_address=None, **kwargs):
            address = transport_address + "?ep=1" if transport_address else transport_address
            return create(request_id, transport_address=address, **kwargs)

        return create_with_query

    override_build(agent, create_party_registration=make)
