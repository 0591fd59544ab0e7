"""Procedure-sequence fuzzing of an upper-EMA IUT: a hypothesis ``RuleBasedStateMachine`` over register,
re-register, new registration, query, cancel, events, opts, reports and polls in any order, checked against a model
of what the binding says each answer must be.

The model (``ProcedureModel``) holds what the lower EMA knows: registered or not, mode, IDs, its opts. Each step
sends one well-formed message through the reference peer and returns a problem line when the answer breaks the
model (message type, responseCode, echoed requestID, IDs kept or renewed per Table 6.2-2); then the liveness
invariant asks a known-good query. Steps are data (``{"rule", "args"}``), so a failing sequence is saved and
replayed on a fresh peer by ``ProcedureModel.replay``.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance.messages import POLL_REPLIES
from conformance.peer import LowerPeer

from .runner import Bridge, Budget, Finding
from .sequences import SequenceModel, procedures, run_sequences

ID_TEXT = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6)


def _code(message) -> str | None:
    if message is None:
        return None
    if message.name == "emapDistributeEvent":
        return (message.body.get("eiResponse") or {}).get("responseCode")
    return message.response_code


class ProcedureModel(SequenceModel):
    """What a conformant upper EMA must answer to the lower EMA ``peer`` (EMAP-6.2 to EMAP-6.6)."""

    def __init__(self, peer: LowerPeer):
        super().__init__()
        self.peer = peer
        self.registered = False
        self.pull = True
        self.opts: set[str] = set()
        self.last_registration: str | None = None  # kept after a cancel: later messages carry stale IDs

    async def reset(self) -> None:
        """Start from no registration: cancel a leftover one and forget the venID (a new one will be assigned)."""
        if self.peer.registered:
            await self.peer.cancel()
        self.peer.forget()
        self.peer.ven_id = None
        self.registered, self.pull, self.opts, self.steps = False, True, set(), []
        self.last_registration = None

    def _check(self, posted, requirement: str, names, codes) -> str | None:
        names = (names,) if isinstance(names, str) else tuple(names)
        codes = (codes,) if isinstance(codes, str) else tuple(codes)
        message = posted.message
        if posted.code != "2.04" or message is None:
            shown = posted.response.payload[:100] if posted.response else b""
            return f"{requirement}: expected 2.04 with {'/'.join(names)}; got {posted.code} {shown!r}"
        if message.name not in names:
            return f"{requirement}: expected {'/'.join(names)}; got {message.name}"
        if message.name in POLL_REPLIES[1:]:
            return None
        if _code(message) not in codes:
            return f"{requirement}: {message.name} responseCode {_code(message)}, expected {'/'.join(codes)}"
        return None

    # -- registration ------------------------------------------------------------------------------------------
    async def _register(self, pull: bool) -> str | None:
        old_reg, old_ven = self.peer.registration_id, self.peer.ven_id
        mode = "re-registration" if self.registered else "registration"
        posted = await self.peer.register(pull=pull, reregister=self.registered)
        problem = self._check(posted, "EMAP-6.2.3-05" if self.registered else "EMAP-6.2.3-08",
                              "emapCreatedPartyRegistration", "200")
        if problem:
            return problem
        body = posted.message.body
        if self.registered and (body.get("registrationID") != old_reg or body.get("venID") != old_ven):
            return f"EMAP-6.2.3-05: {mode} changed the IDs ({old_reg}/{old_ven} -> " \
                   f"{body.get('registrationID')}/{body.get('venID')})"
        if ("emapRequestedPollFreq" in body) != pull:
            return "EMAP-6.2.3-08: emapRequestedPollFreq must be present exactly for a pull-mode registration"
        if not self.registered:
            self.opts = set()
        self.registered, self.pull = True, pull
        self.last_registration = self.peer.registration_id
        return None

    async def _new_registration(self) -> str | None:
        old_reg, ven = self.peer.registration_id, self.peer.ven_id
        posted = await self.peer.register(pull=self.pull, ven_id=ven)
        problem = self._check(posted, "EMAP-6.2.3-06", "emapCreatedPartyRegistration", "200")
        if problem:
            return problem
        body = posted.message.body
        if body.get("venID") != ven or body.get("registrationID") in (None, old_reg):
            return f"EMAP-6.2.3-06: a new registration keeps venID {ven} and gets a new registrationID; got " \
                   f"{body.get('venID')}/{body.get('registrationID')} (old {old_reg})"
        self.opts = set()
        self.last_registration = self.peer.registration_id
        return None

    async def _query(self) -> str | None:
        posted = await self.peer.query()
        problem = self._check(posted, "EMAP-6.2.2-03", "emapCreatedPartyRegistration", "200")
        if problem:
            return problem
        body = posted.message.body
        if self.registered and body.get("registrationID") != self.peer.registration_id:
            return f"EMAP-6.2.2-05: the registered lower EMA's query reply has registrationID " \
                   f"{body.get('registrationID')!r}, not {self.peer.registration_id!r}"
        if not self.registered and ("registrationID" in body or "venID" in body):
            return "EMAP-6.2.2-04: the query reply of an unregistered lower EMA has registrationID or venID"
        return None

    async def _cancel(self) -> str | None:
        registration = self.peer.registration_id or self.last_registration
        posted = await self.peer.cancel(registration_id=registration, ven_id=self.peer.ven_id)
        expected = "200" if self.registered else "463"
        problem = self._check(posted, "EMAP-6.2.4-04" if self.registered else "EMAP-6.2.1-02",
                              "emapCanceledPartyRegistration", expected)
        if problem is None and self.registered:
            self.peer.adopt(posted)
            self.peer.registration_id = None
            self.registered = False
        return problem

    # -- events, opts, reports, polls ----------------------------------------------------------------------------
    def _registered_code(self, ok: str = "200") -> str:
        return ok if self.registered else "463"

    async def _request_event(self, reply_limit: int | None) -> str | None:
        posted = await self.peer.request_event(reply_limit)
        return self._check(posted, "EMAP-6.3.3-01", "emapDistributeEvent", self._registered_code())

    async def _create_opt(self, opt_id: str) -> str | None:
        posted = await self.peer.create_opt(opt_id, "optOut")
        problem = self._check(posted, "EMAP-6.5.2-01", "emapCreatedOpt", self._registered_code())
        if problem is None and self.registered:
            self.opts.add(opt_id)
        return problem

    async def _cancel_opt(self, opt_id: str) -> str | None:
        known = opt_id in self.opts
        posted = await self.peer.cancel_opt(opt_id)
        problem = self._check(posted, "EMAP-6.5.3-01", "emapCanceledOpt",
                              self._registered_code("200" if known else "452"))
        if problem is None and known and self.registered:
            self.opts.discard(opt_id)
        return problem

    async def _register_report(self) -> str | None:
        posted = await self.peer.register_report()
        return self._check(posted, "EMAP-6.4.2-01", "emapRegisteredReport", self._registered_code())

    async def _cancel_report(self, request_id: str) -> str | None:
        posted = await self.peer.cancel_report([request_id + "-unknown"])
        return self._check(posted, "EMAP-6.4.5-01", "emapCanceledReport", self._registered_code("452"))

    async def _poll(self) -> str | None:
        posted = await self.peer.poll()
        if not self.registered:
            return self._check(posted, "EMAP-6.2.1-02", "emapResponse", "463")
        if not self.pull:
            return self._check(posted, "EMAP-6.6-03", "emapResponse", "451")
        problem = self._check(posted, "EMAP-6.6-02", POLL_REPLIES, "200")
        message = posted.message
        if problem or message.name == "emapResponse":
            return problem
        answer = await self.peer.step_two(message)
        if answer.code == "2.04" and not answer.response.payload:
            return None
        problem = self._check(answer, "EMAP-6.1-06", "emapResponse", "200")
        if problem is None and message.name == "emapCancelPartyRegistration":
            self.registered = False
        return problem

    async def probe(self) -> str | None:
        """Liveness and registration state: a known-good query gets 200 and shows the registration the model
        expects (EMAP-6.2.2-03 to -05)."""
        problem = await self._query()
        return f"liveness: {problem}" if problem else None


def machine_class(model: ProcedureModel, bridge: Bridge):
    """A RuleBasedStateMachine class driving ``model`` through ``bridge`` (one instance per example)."""

    class Procedures(procedures(model, bridge)):
        @rule(pull=st.booleans())
        def register(self, pull):
            self._do("register", pull=pull)

        @precondition(lambda self: model.registered)
        @rule()
        def new_registration(self):
            self._do("new-registration")

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule()
        def cancel(self):
            self._do("cancel")

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule(reply_limit=st.none() | st.integers(1, 5))
        def request_event(self, reply_limit):
            self._do("request-event", reply_limit=reply_limit)

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule(opt_id=ID_TEXT)
        def create_opt(self, opt_id):
            self._do("create-opt", opt_id=opt_id)

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule(opt_id=ID_TEXT)
        def cancel_opt(self, opt_id):
            self._do("cancel-opt", opt_id=opt_id)

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule()
        def register_report(self):
            self._do("register-report")

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule(request_id=ID_TEXT)
        def cancel_report(self, request_id):
            self._do("cancel-report", request_id=request_id)

        @precondition(lambda self: model.peer.ven_id is not None)
        @rule()
        def poll(self):
            self._do("poll")

    return Procedures


async def fuzz_sequences(model: ProcedureModel, budget: Budget, stats, *, timeout: float,
                         steps: int = 12) -> tuple[Finding, list[dict]] | None:
    """Run ``budget.examples`` procedure sequences (at most ``steps`` steps each); the shrunk failing sequence
    and its steps, or None."""
    return await run_sequences(machine_class, model, budget, stats, timeout=timeout, steps=steps)
