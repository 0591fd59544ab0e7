"""Procedure-sequence fuzzing of a push-mode lower-EMA IUT (TC-F-LSEQ): a hypothesis ``RuleBasedStateMachine``
over the requests its upper EMA may send in any order (events new, modified, cancelled, stale or resent; report
requests, cancels, metadata and data reports; re-registration requests; cancels of the registration, current or
stale), the IUT's own procedures on stimulus, and exact repeats, checked against a model of what the binding says
each answer must be.

The model (``LowerProcedureModel``) holds what the upper EMA knows of the IUT: its registration IDs, the event
records L must keep (Table 6.2-1: highest modificationNumber, the optType of its last eventResponse, its decisions
per modificationNumber), the report requests active at L and the reportRequestIDs used in the registration. It
applies Table 6.2-2 when a registration procedure succeeds: a re-registration keeps records and used IDs and ends
the requests, a new registration (after a cancel) discards everything. Each step returns a problem line when an
answer breaks the model; then the liveness invariant (``LowerTarget.probe``) delivers a known-good
``emapDistributeEvent`` and, after a cancel, makes the IUT register again by stimulus.

The generic part (steps as data, statistics, replay, the machine's base and runner) is shared with the
upper-side machine in ``conformance.fuzz.sequences``.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance.messages import build as B
from conformance.messages import timefmt
from conformance.messages.rules import event_sort_key

from . import oracle
from .lowertarget import LowerTarget
from .oracle import Expectation
from .runner import Bridge, Budget, Finding
from .sequences import SequenceModel, procedures, run_sequences
from .target import answer_of

OPT_TYPES = frozenset({"optIn", "optOut"})
#: stimulus action -> (the request it makes the IUT send, the requirement that allows it)
STIMULI = {"request-event": ("emapRequestEvent", "EMAP-6.3.3-02"), "create-opt": ("emapCreateOpt", "EMAP-6.5.2-01"),
           "register-report": ("emapRegisterReport", "EMAP-6.4.2-01")}
QUIET_PERIOD = "PT1M"  # reportBackDuration of the periodic requests the model makes: no report during a short run
INTERVAL = "PT10M"


@dataclass
class EventRecord:
    """What L must hold for one of the model's events (Table 6.2-1, L side). ``last``: the optTypes Table 6.3-4
    row 2 allows for its cancellation (None: any); ``answered``: modificationNumber -> the optType of L's 200
    answer (EMAP-6.3.2-09)."""

    highest: int
    last: frozenset[str] | None = frozenset({"optIn"})
    answered: dict[int, str] = field(default_factory=dict)


@dataclass
class Repeatable:
    """The latest step message answered 200: where it went, its exact bytes, the answer's JSON value."""

    resource: str
    payload: bytes
    answer: object
    at: float


def _descriptor(event: dict) -> dict:
    return event["eiEvent"]["eventDescriptor"]


def _ids_problem(message, ven_id: str, requirement: str) -> str | None:
    if message.body.get("venID") != ven_id:
        return f"{requirement}: {message.name} venID {message.body.get('venID')!r}, not the link's {ven_id!r}"
    return None


def _pending_problem(message, mine: set[str], active: set[str]) -> str | None:
    """EMAP-6.4.1-03: of the model's report requests, exactly the active ones are listed as pending."""
    pending = set(message.body["emapPendingReports"]["reportRequestID"])
    if pending & mine != active:
        return f"EMAP-6.4.1-03: {message.name} lists {sorted(pending & mine)} of the upper EMA's requests as " \
               f"pending, expected {sorted(active)}"
    return None


class LowerProcedureModel(SequenceModel):
    """What a conformant push-mode lower EMA must answer to its upper EMA ``target.peer`` (EMAP-6.2 to EMAP-6.4).

    ``stimulate(action, args)`` asks the IUT to act and returns the stimulus status ("accepted" or why not);
    ``lifetime``: EXCHANGE_LIFETIME less the tolerance, the age up to which a repeat must be answered from the
    IUT's cache (EMAP-7.1.5-07)."""

    def __init__(self, target: LowerTarget, stimulate: Callable[[str, dict], Awaitable[str]], *, lifetime: float):
        super().__init__()
        self.target, self.peer, self.stimulate, self.lifetime = target, target.peer, stimulate, lifetime
        self.events: dict[str, dict] = {}  # the model's events the peer holds for L (eventID -> EmapEvent)
        self.records: dict[str, EventRecord] = {}
        self.mine: set[str] = set()  # reportRequestIDs the model used
        self.active: set[str] = set()  # ... active at L
        self.used: set[str] = set()  # ... accepted during the registration, re-registrations included
        self.offered: dict[str, tuple[str, str]] = {}  # reportRequestID -> (reportSpecifierID, rID) it names
        self.stale_registrations: list[str] = []
        self.repeatable: Repeatable | None = None
        self.registration: str | None = None
        self.registrations = 0

    # -- bookkeeping ---------------------------------------------------------------------------------------------
    async def reset(self) -> None:
        """Start a sequence on a registered link without the model's earlier events and report requests."""
        if not self.peer.registered:
            await self.target.reregister()
        await self.clear()
        self._follow_registration()
        await super().reset()

    async def clear(self) -> None:
        """End the model's report requests and events (a conformant upper EMA delivers the cancellation, then may
        drop the events), so that what follows starts from a link without them."""
        await self._quiet()
        if self.peer.registered and self.active:
            await self.peer.send(B.cancel_report(self.peer.ids("fz-xr"), self.peer.ven_id, sorted(self.active)),
                                 timeout=self.target.bounds.exchange)
        live = self.live_events
        for event in live:
            self.peer.hold(self._changed(event, cancelled=True))
        if live and self.peer.registered:
            await self.peer.send(self.peer.distribute(request_id=self.peer.ids("fz-de")),
                                 timeout=self.target.bounds.exchange)
        for event_id in self.events:
            self.peer.events.pop(event_id, None)
        self.events, self.records, self.repeatable = {}, {}, None
        self.mine, self.active, self.used, self.offered, self.stale_registrations = set(), set(), set(), {}, []

    async def _quiet(self) -> None:
        """One request to L at a time (EMAP-7.1.5-06): the peer's own follow-ups (its emapRegisterReport after a
        registration) are delivered first."""
        await self.peer.wait_for(lambda: not self.peer.busy, self.target.bounds.answer)

    def _follow_registration(self) -> None:
        """Apply Table 6.2-2 to the model when the peer saw registrations since the last look: the same
        registrationID is a re-registration (requests end), another one a new registration (records, requests
        and used IDs discarded; L has since received the held events, its optTypes unseen)."""
        link = self.peer.link
        if link is None or self.peer.registrations == self.registrations:
            return
        self.registrations = self.peer.registrations
        self.active = set()
        if link.registration_id != self.registration:
            if self.registration is not None:
                self.stale_registrations.append(self.registration)
            self.registration, self.used = link.registration_id, set()
            self.records = {event_id: EventRecord(_descriptor(event)["modificationNumber"], None)
                            for event_id, event in self.events.items()}

    async def step(self, name: str, args: dict) -> str | None:
        await self._quiet()
        problem = await super().step(name, args)
        self._follow_registration()
        return problem

    async def probe(self) -> str | None:
        """The liveness oracle of ``LowerTarget`` (a known-good emapDistributeEvent answered 200, EMAP-6.3.2-07;
        the IUT registered again by stimulus first after a cancel)."""
        problem = await self.target.probe()
        self._follow_registration()
        return problem

    async def _send(self, envelope: dict, expect: Expectation, *, repeatable: bool = True):
        """POST ``envelope``; (the valid answer message, None) or (None, problem) judged by ``expect``."""
        posted = await self.peer.send(envelope, timeout=self.target.bounds.exchange)
        answer = answer_of(posted.response)
        problem = oracle.judge(expect, answer)
        if problem:
            return None, problem
        message = posted.message
        if repeatable and message.response_code == "200":
            self.repeatable = Repeatable(posted.resource, posted.payload, json.loads(answer.payload),
                                         time.monotonic())
        return message, None

    def _expect(self, envelope: dict, names, codes, requirement: str, echo: str | None = None) -> Expectation:
        names = frozenset({names} if isinstance(names, str) else names)
        codes = frozenset({codes} if isinstance(codes, str) else codes)
        body = next(iter(envelope.values()))
        return Expectation("app", requirement, names, codes, body.get("requestID", "") if echo is None else echo)

    # -- events (6.3.2, Table 6.3-4) -----------------------------------------------------------------------------
    def _changed(self, event: dict, *, cancelled: bool = False, always: bool | None = None,
                 intervals: int | None = None) -> dict:
        """The next modification of ``event`` (EMAP-6.3.1-02): cancelled, or with new signal intervals and
        response policy."""
        changed = copy.deepcopy(event)
        descriptor = _descriptor(changed)
        descriptor["modificationNumber"] += 1
        if cancelled:
            descriptor["eventStatus"] = "cancelled"
        else:
            changed["eiEvent"]["eiEventSignals"]["eiEventSignal"] = [_signal(intervals or 1)]
            changed["eiEvent"]["eiActivePeriod"]["properties"]["duration"] = _total(intervals or 1)
            changed["emapResponseRequired"] = "always" if always else "never"
        return changed

    def _new_event(self, number: int, always: bool, intervals: int) -> dict:
        return B.event(self.peer.ids("fz-ev"), modification_number=number, duration=_total(intervals),
                       signals=[_signal(intervals)], response_required="always" if always else "never")

    @property
    def live_events(self) -> list[dict]:
        """The model's events that are not cancelled, in the order they were made."""
        return [e for e in self.events.values() if _descriptor(e)["eventStatus"] != "cancelled"]

    async def _distribute(self, change: str, pick: int, always: bool, intervals: int, number: int) -> str | None:
        live = self.live_events
        sent_events = None
        if change == "new" or (change in ("modify", "cancel") and not live):
            event = self._new_event(number, always, intervals)
            self.events[_descriptor(event)["eventID"]] = event
            self.peer.hold(event)
        elif change in ("modify", "cancel"):
            event = self._changed(live[pick % len(live)], cancelled=change == "cancel", always=always,
                                  intervals=intervals)
            self.events[_descriptor(event)["eventID"]] = event
            self.peer.hold(event)
        elif change == "stale":
            older = [e for e in live if _descriptor(e)["modificationNumber"] > 0]
            if not older:  # an event with an older version first: L has seen a higher number than is sent
                return await self._distribute("modify", pick, always, intervals, number) \
                    or await self._distribute("stale", pick, always, intervals, number)
            stale = copy.deepcopy(older[pick % len(older)])
            _descriptor(stale)["modificationNumber"] -= 1
            held = {**self.peer.events, _descriptor(stale)["eventID"]: stale}
            sent_events = sorted(held.values(), key=event_sort_key)
        envelope = self.peer.distribute(sent_events, request_id=self.peer.ids("fz-de"))
        return await self._judge_distribute(envelope)

    async def _judge_distribute(self, envelope: dict) -> str | None:
        body = envelope["emapDistributeEvent"]
        always = any(event["emapResponseRequired"] == "always" for event in body["emapEvent"])
        expect = self._expect(envelope, "emapCreatedEvent" if always else "emapResponse", "200", "EMAP-6.3.2-07")
        message, problem = await self._send(envelope, expect)
        return problem or self._judge_events(message, body["emapEvent"], body["requestID"])

    def _judge_events(self, message, events: list[dict], request_id: str | None) -> str | None:
        """EMAP-6.3.2-07/-08/-09, Table 6.3-4: one eventResponse per ``always`` event, none for ``never``, each
        echoing ``request_id`` (None: the answer's own echo) with the event's ID and number and the code and
        optType the model predicts; then the records follow."""
        responses = []
        if message.name == "emapCreatedEvent":
            created = message.body["eiCreatedEvent"]
            responses = created.get("eventResponses", {}).get("eventResponse", [])
            request_id = created["eiResponse"]["requestID"] if request_id is None else request_id
        wanted = Counter(_descriptor(e)["eventID"] for e in events if e["emapResponseRequired"] == "always")
        got = Counter(r["qualifiedEventID"]["eventID"] for r in responses)
        if got != wanted:
            return f"EMAP-6.3.2-07: eventResponses for {sorted(got.elements())}, expected exactly one for each " \
                   f"event with emapResponseRequired always: {sorted(wanted.elements())}"
        sent = {_descriptor(e)["eventID"]: e for e in events}
        for response in responses:
            event = sent[response["qualifiedEventID"]["eventID"]]
            problem = self._judge_event_response(response, event, request_id)
            if problem:
                return problem
        for response in responses:
            self._note_answer(sent[response["qualifiedEventID"]["eventID"]], response)
        for event in events:
            record = self.records.get(_descriptor(event)["eventID"])
            number = _descriptor(event)["modificationNumber"]
            if _descriptor(event)["eventID"] in self.events and record is None:
                self.records[_descriptor(event)["eventID"]] = EventRecord(number)
            elif record is not None:
                record.highest = max(record.highest, number)
        return None

    def _judge_event_response(self, response: dict, event: dict, request_id: str) -> str | None:
        descriptor = _descriptor(event)
        event_id, number = descriptor["eventID"], descriptor["modificationNumber"]
        if response["requestID"] != request_id:
            return f"EMAP-6.3.2-08: eventResponse for {event_id} has requestID {response['requestID']!r}, the " \
                   f"emapDistributeEvent's is {request_id!r}"
        if response["qualifiedEventID"]["modificationNumber"] != number:
            return f"EMAP-6.3.2-08: eventResponse for {event_id} names modificationNumber " \
                   f"{response['qualifiedEventID']['modificationNumber']}, received {number}"
        if event_id not in self.events:
            return None  # another test's event: L's records of it are not modelled
        row, codes, opts = self._evaluation(event)
        if response["responseCode"] not in codes or (opts is not None and response["optType"] not in opts):
            shown = "/".join(sorted(opts)) if opts is not None else "optIn/optOut"
            return f"{row}: eventResponse for {event_id} (modificationNumber {number}, {descriptor['eventStatus']})" \
                   f" is {response['responseCode']} {response['optType']}, expected {'/'.join(sorted(codes))} " \
                   f"{shown}"
        return None

    def _evaluation(self, event: dict) -> tuple[str, frozenset[str], frozenset[str] | None]:
        """(requirement, responseCodes, optTypes or None for either) of Table 6.3-4 for one model event."""
        descriptor = _descriptor(event)
        record = self.records.get(descriptor["eventID"])
        number = descriptor["modificationNumber"]
        if descriptor["eventStatus"] == "cancelled":
            return "Table 6.3-4 row 1/2", frozenset({"200"}), frozenset({"optIn"}) if record is None else record.last
        if record is not None and number < record.highest:
            return "Table 6.3-4 row 3", frozenset({"454"}), frozenset({"optOut"})
        if record is not None and number in record.answered:
            return "EMAP-6.3.2-09", frozenset({"200"}), frozenset({record.answered[number]})
        return "Table 6.3-4 row 6", frozenset({"200"}), None

    def _note_answer(self, event: dict, response: dict) -> None:
        descriptor = _descriptor(event)
        if descriptor["eventID"] not in self.events:
            return
        number = descriptor["modificationNumber"]
        record = self.records.setdefault(descriptor["eventID"], EventRecord(number))
        # the optType of the last eventResponse (Table 6.3-4 row 2); after a 454 either that optOut or the
        # decision it did not replace (docs/decisions.md)
        record.last = frozenset({response["optType"]}) if response["responseCode"] == "200" \
            else frozenset({"optOut"}) | (record.last or OPT_TYPES)
        if response["responseCode"] == "200" and descriptor["eventStatus"] != "cancelled":
            record.answered[number] = response["optType"]

    # -- reports (6.4) -------------------------------------------------------------------------------------------
    def _metadata(self) -> tuple[str, str] | None:
        """(reportSpecifierID, rID) of the IUT's TELEMETRY_STATUS metadata, or None."""
        for report in self.peer.lower_metadata:
            if report["reportName"] == "METADATA_TELEMETRY_STATUS" and report["emapReportDescription"]:
                return report["reportSpecifierID"], report["emapReportDescription"][0]["rID"]
        return None

    def _offers(self, specifier_id: str, r_id: str) -> bool:
        return any(report["reportSpecifierID"] == specifier_id
                   and any(d["rID"] == r_id for d in report["emapReportDescription"])
                   for report in self.peer.lower_metadata)

    async def _create_report(self, reuse: bool) -> str | None:
        offered = self._metadata()
        if offered is None:
            return None
        used = sorted(self.used - self.active) + sorted(self.used & self.active)  # ended ones first
        request_id = used[0] if reuse and used else self.peer.ids("fz-rq")
        repeated = request_id in self.used
        self.mine.add(request_id)
        request = B.report_request(request_id, offered[0], [offered[1]], back_duration=QUIET_PERIOD)
        envelope = B.create_report(self.peer.ids("fz-cr"), self.peer.ven_id, [request])
        codes = {"454"} if repeated else {"200", "461"}  # EMAP-6.4.3-02; 461 allowed by EMAP-6.4.3-04
        message, problem = await self._send(envelope, self._expect(
            envelope, "emapCreatedReport", codes, "EMAP-6.4.3-02" if repeated else "EMAP-6.4.3-05"))
        if problem:
            return problem
        if message.response_code == "200":
            self.active.add(request_id)
            self.used.add(request_id)
            self.offered[request_id] = offered
        return _ids_problem(message, self.peer.ven_id, "EMAP-6.1-09") \
            or _pending_problem(message, self.mine, self.active)

    async def _cancel_report(self, live: bool, pick: int) -> str | None:
        active = sorted(self.active)
        request_id = active[pick % len(active)] if live and active else self.peer.ids("fz-rq")
        self.mine.add(request_id)
        known = request_id in self.active
        envelope = B.cancel_report(self.peer.ids("fz-xr"), self.peer.ven_id, [request_id])
        message, problem = await self._send(envelope, self._expect(
            envelope, "emapCanceledReport", "200" if known else "452", "EMAP-6.4.5-03" if known else "EMAP-6.4.5-02"))
        if problem:
            return problem
        self.active.discard(request_id)
        return _ids_problem(message, self.peer.ven_id, "EMAP-6.1-09") \
            or _pending_problem(message, self.mine, self.active)

    async def _register_report(self, answering: bool) -> str | None:
        envelope = B.register_report(self.peer.ids("fz-rr"), self.peer.ven_id, self.peer.metadata,
                                     report_request_id=self.peer.ids("fz-rq") if answering else None)
        message, problem = await self._send(envelope, self._expect(
            envelope, "emapRegisteredReport", "452" if answering else "200",
            "EMAP-6.4.2-06" if answering else "EMAP-6.4.2-01"))
        return problem or _ids_problem(message, self.peer.ven_id, "EMAP-6.1-09")

    async def _update_report(self) -> str | None:
        offered = self._metadata() or ("rs-unknown", "r-unknown")
        now = timefmt.format_datetime(timefmt.utc_now())
        report = B.data_report(self.peer.ids("fz-rq"), offered[0], "TELEMETRY_STATUS",
                               [B.data_interval(now, "PT0S", [B.report_payload(offered[1], online=True)])])
        envelope = B.update_report(self.peer.ids("fz-ur"), self.peer.ven_id, [report])
        message, problem = await self._send(envelope, self._expect(envelope, "emapUpdatedReport", "452",
                                                                   "EMAP-6.4.4-04"))
        return problem or _ids_problem(message, self.peer.ven_id, "EMAP-6.1-09")

    # -- registration (6.2.4, 6.2.5) -----------------------------------------------------------------------------
    async def _request_reregistration(self, own: bool) -> str | None:
        link = self.peer.link
        ven_id = link.ven_id if own else self.peer.ids("fz-ven")
        envelope = B.request_reregistration(ven_id)
        before, start = self.peer.registrations, self.peer.trace.elapsed()
        _, problem = await self._send(envelope, self._expect(envelope, "emapResponse", "200" if own else "452",
                                                             "EMAP-6.2.5-02", echo=""), repeatable=False)
        if problem or not own:
            return problem
        create = await self.peer.inbox.take(
            lambda item: item.message is not None and item.message.name == "emapCreatePartyRegistration"
            and item.t >= start, self.target.bounds.answer)
        if create is None:
            return f"EMAP-6.2.5-03: no emapCreatePartyRegistration within {self.target.bounds.answer:g} s after " \
                   f"answering emapRequestReregistration 200"
        body = create.message.body
        if body.get("registrationID") != link.registration_id or body.get("venID") != link.ven_id:
            return f"EMAP-6.2.5-03: the re-registration carries registrationID/venID {body.get('registrationID')}/" \
                   f"{body.get('venID')}, not the current {link.registration_id}/{link.ven_id}"
        await self.peer.wait_for(lambda: self.peer.registrations > before and self.peer.bootstrapped,
                                 2 * self.target.bounds.answer)
        return None

    async def _cancel_registration(self, stale: bool) -> str | None:
        link = self.peer.link
        registration_id = self.stale_registrations[-1] if stale and self.stale_registrations \
            else link.registration_id
        current = registration_id == link.registration_id
        envelope = B.cancel_party_registration(self.peer.ids("fz-cp"), registration_id, link.ven_id)
        message, problem = await self._send(envelope, self._expect(
            envelope, "emapCanceledPartyRegistration", "200" if current else "452",
            "EMAP-6.2.4-04" if current else "EMAP-6.2.4-03"))
        if problem:
            return problem
        body = message.body
        if (body["registrationID"], body["venID"]) != (registration_id, link.ven_id):
            return f"EMAP-6.1-09: emapCanceledPartyRegistration echoes {body['registrationID']}/{body['venID']}, " \
                   f"the cancel carried {registration_id}/{link.ven_id}"
        if not current:
            return None
        registrations = self.peer.registrations
        envelope = self.peer.distribute(request_id=self.peer.ids("fz-de"))
        posted = await self.peer.send(envelope, timeout=self.target.bounds.exchange)
        if self.peer.registrations != registrations:  # the IUT registered anew meanwhile: any answer is right
            return None
        return oracle.judge(self._expect(envelope, "emapCreatedEvent", "463", "EMAP-6.2.1-03"),
                            answer_of(posted.response))

    # -- the IUT's own procedures, on stimulus -------------------------------------------------------------------
    async def _stimulus(self, action: str, opt_in: bool) -> str | None:
        """The IUT's request after an accepted stimulus carries the link's venID (EMAP-6.2.1-06); an
        emapDistributeEvent answering its emapRequestEvent gets the follow-up emapCreatedEvent the model predicts
        (EMAP-6.3.3-05). A stimulus the IUT does not accept is a no-op."""
        (name, allowed), start = STIMULI[action], self.peer.trace.elapsed()
        held = sorted(self.peer.events.values(), key=event_sort_key)
        args = {}
        if action == "create-opt":  # availability form: it changes no eventResponse (EMAP-6.3.2-09)
            window = {"dtstart": timefmt.format_datetime(timefmt.utc_now()), "duration": "PT1H"}
            args = {"optType": "optIn" if opt_in else "optOut", "availability": [window]}
        if await self.stimulate(action, args) != "accepted":
            return None
        request = await self.peer.inbox.take(
            lambda item: item.message is not None and item.message.name == name and item.t >= start,
            self.target.bounds.answer)
        if request is None:
            return f"{allowed}: no {name} within {self.target.bounds.answer:g} s of the accepted stimulus {action}"
        body = request.message.body.get("eiRequestEvent", request.message.body)
        if body.get("venID") != self.peer.ven_id:
            return f"EMAP-6.2.1-06: {name} carries venID {body.get('venID')!r}, not the link's {self.peer.ven_id!r}"
        held = held[:body.get("replyLimit") or None]  # what the peer answers (EMAP-6.3.3-04)
        if action == "register-report":  # EMAP-6.4.2-05: requests naming withdrawn metadata end
            await self.peer.answered(request)
            self.active = {rid for rid in self.active if self._offers(*self.offered[rid])}
        if action != "request-event" or not any(e["emapResponseRequired"] == "always" for e in held):
            return None
        answer = await self.peer.inbox.take(
            lambda item: item.message is not None and item.message.name == "emapCreatedEvent"
            and item.t >= request.t, self.target.bounds.answer)
        if answer is None:
            return f"EMAP-6.3.3-05: no emapCreatedEvent within {self.target.bounds.answer:g} s for the " \
                   f"emapDistributeEvent answering emapRequestEvent"
        return self._judge_events(answer.message, held, None)

    # -- exact repeats (EMAP-7.1.5-07) ---------------------------------------------------------------------------
    async def _repeat(self) -> str | None:
        last = self.repeatable
        if last is None or time.monotonic() - last.at > self.lifetime:
            return None
        posted = await self.peer.post(last.resource, last.payload, timeout=self.target.bounds.exchange,
                                      expect_answer=False)
        answer = answer_of(posted.response)
        try:
            value = json.loads(answer.payload) if answer.code == "2.04" else None
        except ValueError:
            value = None
        if value != last.answer:
            return f"EMAP-7.1.5-07: an identical repeat of {next(iter(last.answer), '?')}'s request at " \
                   f"{last.resource} got {answer.describe()}, not the earlier answer"
        return None


def _signal(intervals: int) -> dict:
    return B.signal([(INTERVAL, (uid % 3) + 1) for uid in range(intervals)])


def _total(intervals: int) -> str:
    return f"PT{10 * intervals}M"


def machine_class(model: LowerProcedureModel, bridge: Bridge):
    """A RuleBasedStateMachine class driving ``model`` through ``bridge`` (one instance per example)."""

    class LowerProcedures(procedures(model, bridge)):
        def _distribute(self, change, pick=0, always=True, intervals=1, number=0):
            self._do("distribute", change=change, pick=pick, always=always, intervals=intervals, number=number)

        @rule(always=st.booleans(), intervals=st.integers(1, 3), number=st.sampled_from([0, 0, 2]))
        def new_event(self, always, intervals, number):
            self._distribute("new", always=always, intervals=intervals, number=number)

        @precondition(lambda self: model.live_events)
        @rule(pick=st.integers(0, 7), always=st.booleans(), intervals=st.integers(1, 3))
        def modify_event(self, pick, always, intervals):
            self._distribute("modify", pick, always, intervals)

        @precondition(lambda self: model.live_events)
        @rule(pick=st.integers(0, 7))
        def cancel_event(self, pick):
            self._distribute("cancel", pick)

        @precondition(lambda self: model.live_events)
        @rule(pick=st.integers(0, 7), always=st.booleans())
        def stale_event(self, pick, always):
            self._distribute("stale", pick, always)

        @rule()
        def resend_events(self):
            self._distribute("resend")

        @rule(reuse=st.booleans())
        def create_report(self, reuse):
            self._do("create-report", reuse=reuse)

        @rule(live=st.booleans(), pick=st.integers(0, 7))
        def cancel_report(self, live, pick):
            self._do("cancel-report", live=live, pick=pick)

        @rule(answering=st.booleans())
        def register_report(self, answering):
            self._do("register-report", answering=answering)

        @rule()
        def update_report(self):
            self._do("update-report")

        @rule(own=st.booleans())
        def request_reregistration(self, own):
            self._do("request-reregistration", own=own)

        @rule(stale=st.booleans())
        def cancel_registration(self, stale):
            self._do("cancel-registration", stale=stale)

        @rule(action=st.sampled_from(sorted(STIMULI)), opt_in=st.booleans())
        def stimulus(self, action, opt_in):
            self._do("stimulus", action=action, opt_in=opt_in)

        @precondition(lambda self: model.repeatable is not None)
        @rule()
        def repeat(self):
            self._do("repeat")

    return LowerProcedures


async def fuzz_lower_sequences(model: LowerProcedureModel, budget: Budget, stats, *, timeout: float,
                               steps: int = 10) -> tuple[Finding, list[dict]] | None:
    """Run ``budget.examples`` procedure sequences against the lower-EMA IUT; the shrunk failing one or None."""
    return await run_sequences(machine_class, model, budget, stats, timeout=timeout, steps=steps)
