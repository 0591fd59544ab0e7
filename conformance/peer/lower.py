"""``LowerPeer``: the reference peer playing one lower EMA against an upper-EMA IUT.

It holds the link state a lower EMA holds (Table 6.2-1: venID, registrationID, vtnID, mode, poll frequency, opt
change, the report requests of U it serves) and offers one helper per L-initiated procedure. It answers U's requests
like a conformant lower EMA: in push mode on its server side (EiRegisterParty, EiEvent, EiReport under the base URI
it announces in ``emapTransportAddress``), in pull mode as the step two of a poll reply. A test may replace the
default answer with ``responder`` (an async callable ``(resource, message) -> envelope | None``, returning
``DEFAULT`` to keep the default).

Helpers return ``Posted`` records to drive the test; verdicts are computed from the trace by the test cases.
"""

from __future__ import annotations

import asyncio
import time

from conformance.messages import SERVICE_RESOURCE, ValidMessage
from conformance.messages import build as B
from conformance.messages.timefmt import format_datetime, parse_duration, utc_now
from conformance.peer.base import PeerBase, Posted

DEFAULT = object()
R0_NAME = "emapResponse"


def telemetry_metadata(prefix: str) -> list[dict]:
    """A lower EMA's metadata meeting EMAP-6.4.2-02/-03: one status and one usage report, specifier IDs unique."""
    now = format_datetime(utc_now())
    rate = {"emapMinPeriod": "PT1S", "emapMaxPeriod": "PT1H", "emapOnChange": False}
    return [
        {"duration": "PT0S",
         "emapReportDescription": [{"rID": f"{prefix}-status", "reportType": "x-resourceStatus",
                                    "readingType": "x-notApplicable", "emapSamplingRate": rate}],
         "reportRequestID": "0", "reportSpecifierID": f"{prefix}-rs-status",
         "reportName": "METADATA_TELEMETRY_STATUS", "createdDateTime": now},
        {"duration": "PT0S",
         "emapReportDescription": [{"rID": f"{prefix}-power", "reportType": "usage", "readingType": "Direct Read",
                                    "itemBase": {"type": "powerReal", "itemDescription": "RealPower",
                                                 "itemUnits": "W", "siScaleCode": "none",
                                                 "powerAttributes": {"hertz": 50, "voltage": 230, "ac": True}},
                                    "emapSamplingRate": rate}],
         "reportRequestID": "0", "reportSpecifierID": f"{prefix}-rs-usage",
         "reportName": "METADATA_TELEMETRY_USAGE", "createdDateTime": now},
    ]


class LowerPeer(PeerBase):
    """One lower EMA with its own identities; ``pull`` is the mode it registers in by default."""

    side = "L"

    def __init__(self, *, trace, timing, iut_uri: str, pull: bool = True, ids=None, name: str = "peer",
                 credentials=None):
        """``credentials``: the link's ``LinkSecurity`` (its PSK identity is this lower EMA's venID)."""
        super().__init__(trace=trace, timing=timing, target=iut_uri, ids=ids, credentials=credentials)
        self.name = name
        self.pull = pull
        self.ven_id: str | None = None
        self.registration_id: str | None = None
        self.vtn_id: str | None = None
        self.poll_freq: float | None = None
        self.opt_change: bool | None = None
        self.serving: set[str] = set()  # reportRequestIDs of U's requests this lower EMA serves (as reporter)
        self.responder = None
        self._create_done = asyncio.Event()
        self._create_done.set()
        self.metadata = telemetry_metadata(f"{name}-{self.ids.tag}")

    @property
    def registered(self) -> bool:
        return self.registration_id is not None

    def ven_id_for_response(self) -> str | None:
        return self.ven_id

    # -- registration (6.2) ----------------------------------------------------------------------------------
    async def create_message(self, *, pull: bool | None = None, reregister: bool = False, **overrides) -> dict:
        """An ``emapCreatePartyRegistration`` envelope (push: serves first, to announce its base URI)."""
        pull = self.pull if pull is None else pull
        args = {"pull": pull, "ven_name": self.name}
        if not pull:
            args["transport_address"] = await self.serve()
        if reregister:
            args.update(registration_id=self.registration_id, ven_id=self.ven_id)
        args.update(overrides)
        return B.create_party_registration(self.ids("c"), **args)

    async def register(self, *, pull: bool | None = None, reregister: bool = False, **overrides) -> Posted:
        """Create (or, with ``reregister``, re-create) the registration; adopts the IDs of a 200 answer."""
        message = await self.create_message(pull=pull, reregister=reregister, **overrides)
        self._create_done.clear()
        try:
            posted = await self.post("EiRegisterParty", message)
            self.adopt(posted, pull=message["emapCreatePartyRegistration"]["emapPullModel"])
        finally:
            self._create_done.set()
        return posted

    def adopt(self, posted: Posted, *, pull: bool | None = None) -> None:
        """Take over the link state a successful create or cancel answer sets (Table 6.2-2)."""
        message = posted.message
        if message is None or message.response_code != "200":
            return
        body = message.body
        if message.name == "emapCreatedPartyRegistration" and "registrationID" in body:
            self.registration_id = body["registrationID"]
            self.ven_id = body.get("venID")
            self.vtn_id = body.get("vtnID")
            freq = body.get("emapRequestedPollFreq")
            self.poll_freq = parse_duration(freq) if freq else None
            self.opt_change = body.get("emapOptChange")
            self.serving.clear()
            if pull is not None:
                self.pull = pull
        elif message.name == "emapCanceledPartyRegistration":
            self.forget()

    def forget(self) -> None:
        """Drop the registration (cancel succeeded)."""
        self.registration_id = None
        self.serving.clear()

    async def query(self, *, with_ven_id: bool = True) -> Posted:
        return await self.post("EiRegisterParty",
                               B.query_registration(self.ids("q"), self.ven_id if with_ven_id else None))

    async def cancel(self, *, registration_id: str | None = None, ven_id: str | None = None) -> Posted:
        posted = await self.post("EiRegisterParty", B.cancel_party_registration(
            self.ids("x"), registration_id or self.registration_id, ven_id or self.ven_id))
        if registration_id is None and ven_id is None:
            self.adopt(posted)
        return posted

    # -- events, opts, reports (6.3-6.5) ---------------------------------------------------------------------
    async def request_event(self, reply_limit: int | None = None) -> Posted:
        return await self.post("EiEvent", B.request_event(self.ids("re"), self.ven_id, reply_limit=reply_limit))

    async def create_opt(self, opt_id: str | None = None, opt_type: str = "optOut", **kwargs) -> Posted:
        """``emapCreateOpt``; schedule form (one open-ended window from now) unless ``event_id`` is given."""
        if "event_id" not in kwargs and "availability" not in kwargs:
            kwargs["availability"] = [(utc_now(), "PT1H")]
        return await self.post("EiOpt", B.create_opt(self.ids("co"), self.ven_id, opt_id or self.ids("opt"),
                                                     opt_type, **kwargs))

    async def cancel_opt(self, opt_id: str) -> Posted:
        return await self.post("EiOpt", B.cancel_opt(self.ids("xo"), self.ven_id, opt_id))

    async def register_report(self, reports: list[dict] | None = None, report_request_id: str | None = None) -> Posted:
        return await self.post("EiReport", B.register_report(
            self.ids("rr"), self.ven_id, self.metadata if reports is None else reports,
            report_request_id=report_request_id))

    async def create_report(self, report_requests: list[dict]) -> Posted:
        return await self.post("EiReport", B.create_report(self.ids("cr"), self.ven_id, report_requests))

    async def cancel_report(self, report_request_ids: list[str], report_to_follow: bool = False) -> Posted:
        return await self.post("EiReport", B.cancel_report(self.ids("xr"), self.ven_id, report_request_ids,
                                                           report_to_follow=report_to_follow))

    async def update_report(self, reports: list[dict]) -> Posted:
        return await self.post("EiReport", B.update_report(self.ids("ur"), self.ven_id, reports))

    # -- answering U's requests ------------------------------------------------------------------------------
    def answer_for(self, message: ValidMessage, code: str = "200", opt_type: str = "optIn") -> dict:
        """The response message a conformant lower EMA gives to U's request ``message`` (Table 6.1-1)."""
        body = message.body
        rid = message.request_id or ""
        name = message.name
        if name == "emapCancelPartyRegistration":
            return B.canceled_party_registration(rid, body["registrationID"], body["venID"], code=code)
        if name == "emapRequestReregistration":
            return B.response("", code=code, ven_id=self.ven_id)
        if name == "emapDistributeEvent":
            always = [e for e in body.get("emapEvent", []) if e.get("emapResponseRequired") == "always"]
            if not always:
                return B.response(rid, code=code, ven_id=self.ven_id)
            responses = [B.event_response(rid, e["eiEvent"]["eventDescriptor"]["eventID"],
                                          e["eiEvent"]["eventDescriptor"]["modificationNumber"], opt_type=opt_type)
                         for e in always]
            return B.created_event(rid, self.ven_id, responses, code=code)
        if name == "emapRegisterReport":
            return B.registered_report(rid, self.ven_id, code=code)
        if name == "emapCreateReport":
            if code == "200":
                self.serving.update(r["reportRequestID"] for r in body["emapReportRequest"])
            return B.created_report(rid, self.ven_id, sorted(self.serving), code=code)
        if name == "emapUpdateReport":
            return B.updated_report(rid, self.ven_id, code=code)
        if name == "emapCancelReport":
            if code == "200":
                self.serving.difference_update(body["reportRequestID"])
            return B.canceled_report(rid, self.ven_id, sorted(self.serving), code=code)
        raise ValueError(f"{name} is not a request a lower EMA answers")

    async def answer_request(self, resource: str, message: ValidMessage) -> dict | None:
        """Push mode: answer U's POST (the test's ``responder`` first, else the conformant default); a request
        arriving while the peer's create exchange is open is held until it ends (EMAP-6.2.3-13)."""
        try:
            await asyncio.wait_for(self._create_done.wait(), self.exchange_timeout)
        except TimeoutError:
            pass
        if self.responder is not None:
            answer = await self.responder(resource, message)
            if answer is not DEFAULT:
                return answer
        answer = self.answer_for(message)
        if message.name == "emapCancelPartyRegistration":
            self.forget()
        return answer

    async def step_two(self, message: ValidMessage, envelope: dict | None = None, code: str = "200") -> Posted:
        """Pull mode: POST the answer to a poll reply to U's resource of the same service (EMAP-6.1-05)."""
        envelope = envelope or self.answer_for(message, code=code)
        posted = await self.post(SERVICE_RESOURCE[message.name], envelope)
        if message.name == "emapCancelPartyRegistration" and posted.code == "2.04" and posted.message is not None \
                and posted.message.response_code == "200":
            self.forget()
        return posted

    # -- polling (6.6) ---------------------------------------------------------------------------------------
    async def poll(self, ven_id: str | None = None) -> Posted:
        return await self.post("EmapPoll", B.poll(ven_id or self.ven_id))

    @staticmethod
    def is_empty_reply(message: ValidMessage | None) -> bool:
        """R0 (or any emapResponse, e.g. 451/463): nothing was delivered."""
        return message is None or message.name == R0_NAME

    @property
    def poll_interval(self) -> float:
        """Spacing of the peer's polls while it waits for something: fine enough to time T_PROMPT bounds."""
        return max(0.1, min(self.poll_freq or self.timing.tolerance_s, self.timing.tolerance_s))

    async def drain(self, *, limit: int = 16, answer: bool = True) -> list[ValidMessage]:
        """Poll until R0 (at most ``limit`` replies), answering each delivered request with its step two."""
        delivered = []
        for _ in range(limit):
            message = (await self.poll()).message
            if self.is_empty_reply(message):
                break
            delivered.append(message)
            if answer:
                await self.step_two(message)
        return delivered

    async def receive(self, names: str | tuple[str, ...], *, timeout: float, answer: bool = True,
                      seen: list[ValidMessage] | None = None) -> ValidMessage | None:
        """The next request of ``names`` from U within ``timeout`` s (pull: polling; push: server side).

        Other requests delivered meanwhile are answered (pull) and appended to ``seen``; with ``answer`` False the
        awaited one is left unanswered (pull) so the test can answer it itself.
        """
        names = (names,) if isinstance(names, str) else tuple(names)
        if not self.pull:
            item = await self.next_request(names, timeout=timeout)
            return None if item is None else item.message
        deadline = time.monotonic() + timeout
        while True:
            message = (await self.poll()).message
            if not self.is_empty_reply(message):
                if message.name in names:
                    if answer:
                        await self.step_two(message)
                    return message
                if seen is not None:
                    seen.append(message)
                await self.step_two(message)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(self.poll_interval, remaining))
