"""``UpperPeer``: the reference peer playing the upper EMA of a lower-EMA IUT (or of an intermediate IUT's lower side).

It serves the five upper-EMA resources at the address the IUT is configured to use (``serve_at``), answers the
IUT's requests like a conformant upper EMA (registration, metadata, request event, opts, reports, step twos), keeps
one link (Table 6.2-1) with an outbound queue for a pull-mode IUT, and POSTs to a push-mode IUT at its
``emapTransportAddress``. ``send()`` delivers any message, valid or deliberately wrong (raw bytes), at any moment:
queued as a poll reply in pull mode, POSTed in push mode. A test may replace an answer with ``responder`` (an async
callable ``(resource, message) -> envelope | None | DEFAULT``).

Helpers only drive the exchanges; verdicts are computed from the trace by the test cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from conformance.messages import RESPONSES_OF, SERVICE_RESOURCE, MessageError, ValidMessage, encode, validate
from conformance.messages import build as B
from conformance.messages.rules import event_sort_key, metadata_rules, registration_rules
from conformance.messages.timefmt import format_duration
from conformance.peer.base import JSON, Inbound, Inbox, PeerBase, Posted
from conformance.transport import CoapReply

DEFAULT = object()


@dataclass
class UpperLink:
    """The registration the peer holds for the IUT (Table 6.2-1, U side)."""

    registration_id: str
    ven_id: str
    pull: bool
    transport_address: str | None
    opt_change: bool | None


@dataclass
class Queued:
    """One outbound-queue entry (pull mode): the exact payload, and its envelope when it is one."""

    payload: bytes
    envelope: dict | None
    content_format: int | None = JSON
    delivered_at: float | None = None


@dataclass
class PeerRequests:
    """The report requests the peer made of the IUT (as requester): reportRequestID -> EmapReportRequest."""

    active: dict[str, dict] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def reset(self, *, new_registration: bool) -> None:
        self.active.clear()
        if new_registration:
            self.used.clear()


class UpperPeer(PeerBase):
    """The upper EMA of one lower-EMA IUT, with its own vtnID and registration IDs."""

    side = "U"

    def __init__(self, *, trace, timing, vtn_id: str | None = None, poll_freq_s: float = 1.0, ids=None,
                 accept_opt_change: bool = True, serve_path: tuple[str, ...] = ("emap",), credentials=None):
        """``credentials``: the link's ``LinkSecurity``; on a secured link the vtnID defaults to its PSK
        identity (EMAP-8-05)."""
        super().__init__(trace=trace, timing=timing, target=None, ids=ids, serve_path=serve_path,
                         credentials=credentials)
        self.vtn_id = vtn_id or (credentials.identity if self.secured else None) or self.ids("vtn")
        self.poll_freq_s = poll_freq_s
        self.accept_opt_change = accept_opt_change
        self.link: UpperLink | None = None
        self.queue: deque[Queued] = deque()
        self.outstanding: dict[str, str] = {}  # requestID of a delivered request -> its message name
        self.sent_request_ids: set[str] = set()  # every requestID of a request the peer gave the IUT this session
        self.events: dict[str, dict] = {}  # EmapEvents the peer holds for the IUT (answers emapRequestEvent)
        self.metadata: list[dict] = []  # the peer's own metadata reports (it offers none by default)
        self.lower_metadata: list[dict] = []  # the IUT's latest accepted metadata
        self.requests = PeerRequests()
        self.opts: dict[str, dict] = {}
        self.responder = None
        self.registrations = 0  # successful create registrations so far
        self.bootstrapped = False  # the IUT has sent emapRequestEvent since its latest registration
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle and per-test switching --------------------------------------------------------------------
    def use_trace(self, trace) -> None:
        """Record from now on into ``trace`` (the current test's) with a fresh inbox and default answers."""
        self.trace = trace
        for tap in (self._server_tap, self._client_tap):
            if tap is not None:
                tap.trace = trace
        self.inbox = Inbox()
        self.responder = None

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().stop()

    # -- state helpers ---------------------------------------------------------------------------------------
    @property
    def registered(self) -> bool:
        return self.link is not None

    @property
    def pull(self) -> bool | None:
        return None if self.link is None else self.link.pull

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate, timeout: float) -> bool:
        """Wait at most ``timeout`` s until ``predicate()`` holds (re-checked at every state change)."""
        deadline = time.monotonic() + max(0.0, timeout)
        async with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def _end_link(self) -> None:
        self.link = None
        self.queue.clear()
        self.outstanding.clear()
        self.lower_metadata = []
        self.requests.reset(new_registration=True)
        self.opts.clear()

    @property
    def busy(self) -> bool:
        """True while a background send of the peer is still running."""
        return bool(self._tasks)

    def spawn(self, coro) -> None:
        """Run ``coro`` in the background (ended by ``stop()``); its errors are the test's to judge."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not self._tasks and not task.get_loop().is_closed():
            task.get_loop().create_task(self._notify())

    # -- sending to the IUT (U-initiated) --------------------------------------------------------------------
    async def send(self, message: dict | bytes, *, resource: str | None = None, content_format: int | None = JSON,
                   pull: bool | None = None, timeout: float | None = None) -> Posted | Queued:
        """Deliver ``message`` (envelope, or raw bytes for a deliberately wrong one) to the IUT.

        Pull mode (the link's mode unless ``pull`` is given): appended to the outbound queue, returned as the
        ``Queued`` entry (it leaves as a poll reply). Push mode: POSTed to ``resource`` (default: the resource of
        the message's service) under the IUT's base URI; returns the ``Posted`` (response None when unanswered).
        """
        pull = self.pull if pull is None else pull
        envelope = None if isinstance(message, bytes) else message
        payload = message if isinstance(message, bytes) else encode(message)
        if envelope is not None:
            name = next(iter(envelope))
            self._track(envelope)
            self._note_sent(name, envelope[name])
        if pull:
            entry = Queued(payload, envelope, content_format)
            self.queue.append(entry)
            return entry
        if resource is None:
            if envelope is None:
                raise ValueError("a raw message needs the resource to POST it to")
            resource = SERVICE_RESOURCE[next(iter(envelope))]
        posted = await self.post(resource, payload, content_format=content_format, timeout=timeout,
                                 expect_answer=False)
        if envelope is not None:
            self.outstanding.pop(_request_id_of(envelope) or "", None)
            self._absorb(posted.message)
            await self._notify()
        return posted

    def _absorb(self, answer: ValidMessage | None) -> None:
        """Apply a push-mode answer to the link: a cancel ends it, refused report requests are not active."""
        if answer is None:
            return
        if answer.name == "emapCanceledPartyRegistration" and answer.response_code == "200":
            self._end_link()
        elif answer.name == "emapCreatedReport" and answer.response_code != "200":
            self._drop_refused(answer)

    def _drop_refused(self, answer: ValidMessage) -> None:
        pending = set(answer.body["emapPendingReports"]["reportRequestID"])
        for request_id in list(self.requests.active):
            if request_id not in pending:
                self.requests.active.pop(request_id)

    def _track(self, envelope: dict) -> None:
        """Remember a request given to the IUT: outstanding until answered, and seen for the session."""
        request_id = _request_id_of(envelope) or ""
        self.outstanding[request_id] = next(iter(envelope))
        self.sent_request_ids.add(request_id)

    def _note_sent(self, name: str, body: dict) -> None:
        if name == "emapCreateReport":
            for request in body.get("emapReportRequest", []):
                self.requests.active[request["reportRequestID"]] = request
                self.requests.used.add(request["reportRequestID"])
        elif name == "emapCancelReport" and not body.get("reportToFollow"):
            for rid in body.get("reportRequestID", []):
                self.requests.active.pop(rid, None)

    async def aim(self, base_uri: str) -> None:
        """POST from now on to ``base_uri`` (the IUT's emapTransportAddress)."""
        if self.target == base_uri and self._client is not None:
            return
        for closer in (self._client and self._client.close, self._client_tap and self._client_tap.stop):
            if closer is not None:
                await closer()
        self._client = self._client_tap = None
        self.target = base_uri
        await self.start()

    # -- message builders with the link's IDs ----------------------------------------------------------------
    @property
    def ven_id(self) -> str | None:
        return None if self.link is None else self.link.ven_id

    def distribute(self, events: list[dict] | None = None, *, request_id: str | None = None,
                   vtn_id: str | None = None, ei_response: dict | None = None) -> dict:
        """An ``emapDistributeEvent`` of ``events`` (default: every event the peer holds, in Table 6.3-3 order)."""
        chosen = sorted(self.events.values(), key=event_sort_key) if events is None else events
        return B.distribute_event(request_id or self.ids("de"), vtn_id or self.vtn_id, chosen,
                                  ei_response=ei_response)

    def hold(self, *events: dict) -> None:
        """Make ``events`` (EmapEvents) part of the peer's event set for the IUT (replacing same eventIDs)."""
        for event in events:
            self.events[event["eiEvent"]["eventDescriptor"]["eventID"]] = event

    # -- serving the IUT's requests --------------------------------------------------------------------------
    async def _handle(self, request) -> CoapReply:
        """Raw queue heads leave as they are (malformed poll replies, EMAP-6.6-11); the rest as any request."""
        path = tuple(request.path)
        if path == self.serve_path + ("EmapPoll",) and request.method == "POST" and self.queue \
                and self.queue[0].envelope is None and self.link is not None and self.link.pull:
            try:
                message = validate(request.payload, posted=True)
            except MessageError:
                message = None
            if message is not None and message.name == "emapPoll":
                entry = self.queue.popleft()
                entry.delivered_at = time.monotonic()
                await self.inbox.put(Inbound("EmapPoll", message, None, request.remote, self.trace.elapsed()))
                await self._notify()
                return CoapReply(code="2.04", payload=entry.payload, content_format=entry.content_format)
        return await super()._handle(request)

    async def answer_request(self, resource: str, message: ValidMessage) -> dict | None:
        if self.responder is not None:
            answer = await self.responder(resource, message)
            if answer is not DEFAULT:
                return answer
        handler = getattr(self, "_on_" + message.name, None)
        if handler is None:
            return self._on_response_type(resource, message)
        try:
            return await handler(message)
        finally:
            await self._notify()

    def _unregistered(self, message: ValidMessage) -> dict | None:
        """463 in the procedure's response message when the sender is not the registered IUT (EMAP-6.2.1-02)."""
        ven_id = message.body.get("venID") or message.body.get("eiRequestEvent", {}).get("venID") \
            or message.body.get("eiCreatedEvent", {}).get("venID")
        if self.link is not None and ven_id == self.link.ven_id:
            return None
        return self._error_answer(message, "463", "not registered")

    def _error_answer(self, message: ValidMessage, code: str, text: str) -> dict:
        rid = message.request_id or ""
        ven_id = message.body.get("venID") or (self.link.ven_id if self.link else "unknown")
        response = RESPONSES_OF.get(message.name, frozenset({"emapResponse"}))
        name = next(iter(response)) if len(response) == 1 else "emapResponse"
        if name == "emapCanceledPartyRegistration":
            return B.canceled_party_registration(rid, message.body.get("registrationID", ""), ven_id, code,
                                                 description=text)
        if name == "emapRegisteredReport":
            return B.registered_report(rid, ven_id, code, text)
        if name in ("emapCreatedReport", "emapCanceledReport"):
            build = B.created_report if name == "emapCreatedReport" else B.canceled_report
            return build(rid, ven_id, list(self.requests.active), code, text)
        if name == "emapUpdatedReport":
            return B.updated_report(rid, ven_id, code, text)
        if name in ("emapCreatedOpt", "emapCanceledOpt"):
            build = B.created_opt if name == "emapCreatedOpt" else B.canceled_opt
            return build(rid, message.body.get("optID", ""), code, text)
        if name == "emapDistributeEvent":
            return B.distribute_event(self.ids("de"), self.vtn_id, [], ei_response=B.ei_response(rid, code, text))
        return B.response(rid, code, ven_id=ven_id, description=text)

    # RegisterParty (6.2)
    def _created(self, rid: str, *, code: str = "200", link: UpperLink | None = None, opt_change=None,
                 text: str | None = None) -> dict:
        poll = format_duration(self.poll_freq_s) if link is not None and link.pull else None
        return B.created_party_registration(
            rid, self.vtn_id, code=code, registration_id=link.registration_id if link else None,
            ven_id=link.ven_id if link else None, poll_freq=poll, opt_change=opt_change, description=text)

    async def _on_emapQueryRegistration(self, message: ValidMessage) -> dict:
        link = self.link if self.link is not None and message.body.get("venID") == self.link.ven_id else None
        return self._created(message.request_id, link=link)

    async def _on_emapCreatePartyRegistration(self, message: ValidMessage) -> dict:
        body, rid = message.body, message.request_id
        if body["emapProfileName"] != B.PROFILE_NAME or body["emapTransportName"] != B.TRANSPORT_NAME:
            return self._created(rid, code="453", text="unsupported profile or transport")
        if any(v.code == "454" for v in registration_rules(body)):
            return self._created(rid, code="454", text="emapTransportAddress missing or not a base URI")
        old = self.link
        given_reg, given_ven = body.get("registrationID"), body.get("venID")
        if given_reg is not None and (old is None or given_reg != old.registration_id
                                      or (given_ven is not None and given_ven != old.ven_id)):
            return self._created(rid, code="452", text="registrationID or venID is not the current one")
        renewed = given_reg is not None
        ven_id = old.ven_id if old is not None and (renewed or given_ven in (None, old.ven_id)) \
            else given_ven or self.ids("ven")
        opt_change = None
        if "emapOptChange" in body:
            opt_change = bool(body["emapOptChange"]) and self.accept_opt_change
        self.link = UpperLink(old.registration_id if renewed else self.ids("reg"), ven_id, body["emapPullModel"],
                              body.get("emapTransportAddress"), opt_change)
        self.queue.clear()
        self.outstanding.clear()
        self.lower_metadata = []
        self.requests.reset(new_registration=not renewed)
        if not renewed:
            self.opts.clear()
        self.registrations += 1
        self.bootstrapped = False
        if not self.link.pull:
            await self.aim(self.link.transport_address)
        await self._follow_up(B.register_report(self.ids("rr"), self.link.ven_id, self.metadata))
        return self._created(rid, link=self.link, opt_change=opt_change)

    async def _follow_up(self, envelope: dict) -> None:
        """A request the peer sends because of the one it is answering (EMAP-6.2.3-11 emapRegisterReport, a
        METADATA answer): queued at once in pull mode, POSTed just after the answer has left in push mode."""
        if self.link.pull:
            await self.send(envelope)
        else:
            self.spawn(self._push_later(envelope))

    async def _push_later(self, envelope: dict) -> None:
        await asyncio.sleep(0)  # lets the answer go first; a push-mode L also holds it (EMAP-6.2.3-13)
        with contextlib.suppress(Exception):
            await self.send(envelope)

    async def _on_emapCancelPartyRegistration(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        body = message.body
        if body["registrationID"] != self.link.registration_id:
            return B.canceled_party_registration(message.request_id, body["registrationID"], body["venID"], "452",
                                                 description="registrationID is not the current one")
        self._end_link()
        return B.canceled_party_registration(message.request_id, body["registrationID"], body["venID"])

    # Event (6.3)
    async def _on_emapRequestEvent(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        request = message.body["eiRequestEvent"]
        self.bootstrapped = True
        events = sorted(self.events.values(), key=event_sort_key)
        if request.get("replyLimit"):
            events = events[:request["replyLimit"]]
        answer = self.distribute(events, ei_response=B.ei_response(request["requestID"]))
        self._track(answer)
        return answer

    async def _on_emapPoll(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        if not self.link.pull:
            return B.response("", "451", ven_id=self.link.ven_id, description="registered in push mode")
        if not self.queue:
            return B.response("", ven_id=self.link.ven_id)
        entry = self.queue.popleft()
        entry.delivered_at = time.monotonic()
        return entry.envelope

    # Report (6.4)
    async def _on_emapRegisterReport(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        rid, ven_id = message.request_id, self.link.ven_id
        if metadata_rules(message.body, "L"):
            return B.registered_report(rid, ven_id, "454", "metadata breaks EMAP-6.4.2-02/-03")
        answered = message.body.get("reportRequestID")
        if answered is not None and answered not in self.requests.active:
            return B.registered_report(rid, ven_id, "452", "reportRequestID names no METADATA request")
        self.requests.active.pop(answered, None)
        self.lower_metadata = message.body["emapReport"]
        return B.registered_report(rid, ven_id)

    async def _on_emapUpdateReport(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        for report in message.body["emapReport"]:
            if report["reportRequestID"] not in self.requests.active:
                return B.updated_report(message.request_id, self.link.ven_id, "452", "no such active request")
        return B.updated_report(message.request_id, self.link.ven_id)

    async def _on_emapCreateReport(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        requests = message.body["emapReportRequest"]
        metadata_only = all(r["reportSpecifier"]["reportSpecifierID"] == "METADATA" for r in requests)
        if not metadata_only:
            return B.created_report(message.request_id, self.link.ven_id, [], "452", "the peer offers no reports")
        for request in requests:
            answer = B.register_report(self.ids("rr"), self.link.ven_id, self.metadata,
                                       report_request_id=request["reportRequestID"])
            await self._follow_up(answer)
        return B.created_report(message.request_id, self.link.ven_id, [])

    async def _on_emapCancelReport(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        return B.canceled_report(message.request_id, self.link.ven_id, [], "452", "no such active request")

    # Opt (6.5)
    async def _on_emapCreateOpt(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        self.opts[message.body["optID"]] = message.body
        return B.created_opt(message.request_id, message.body["optID"])

    async def _on_emapCancelOpt(self, message: ValidMessage) -> dict:
        if (refused := self._unregistered(message)) is not None:
            return refused
        opt_id = message.body["optID"]
        if self.opts.pop(opt_id, None) is None:
            return B.canceled_opt(message.request_id, opt_id, "452", "no such opt")
        return B.canceled_opt(message.request_id, opt_id)

    # Step two and follow-ups (P14)
    def _on_response_type(self, resource: str, message: ValidMessage) -> dict | None:
        refused = self._unregistered(message)
        if refused is not None:
            return refused
        rid = message.request_id or ""
        requested = self.outstanding.get(rid)
        if requested is None or message.name not in RESPONSES_OF.get(requested, ()) \
                or (message.name == "emapResponse" and SERVICE_RESOURCE[requested] != resource):
            return B.response(rid, "450", ven_id=self.link.ven_id, description="answers no outstanding request")
        del self.outstanding[rid]
        if message.name == "emapCanceledPartyRegistration" and message.response_code == "200":
            self._end_link()
        if message.name == "emapCreatedReport" and message.response_code != "200":
            self._drop_refused(message)
        if message.name == "emapResponse":
            return None
        return B.response(rid, ven_id=message.body.get("venID") or self.link.ven_id)


def _request_id_of(envelope: dict) -> str | None:
    body = next(iter(envelope.values()))
    return body.get("requestID") if isinstance(body, dict) else None
