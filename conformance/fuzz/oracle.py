"""What an IUT must answer to a fuzz case, and the judgement of its answer.

An ``Expectation`` is derived from the exact bytes sent and the live state, never from the IUT's answer:
- a valid message (``validate()`` accepts it) at a resource that accepts it: 2.04, Content-Format 50, a valid
  message of the procedure's response type (Table 6.1-1; ``emapResponse`` or an empty 2.04 for a POSTed
  response-type message, EMAP-6.1-06), an application code of Table 6.1-3 (EMAP-6.1-10), the echoed requestID
  (EMAP-6.1-02); never 4.00/5.00 (EMAP-7.1.4-06, EMAP-7.1.5-14). From the live registration's venID it is never
  463 (EMAP-6.2.1-02); ``emapQueryRegistration`` always gets 200 (EMAP-6.2.2-03);
- a valid message at a resource that does not accept it: ``emapResponse`` 459 (EMAP-7.1.3-05);
- an invalid payload: 4.00 with a diagnostic payload and no Content-Format (EMAP-7.1.4-06);
- a state rule broken: the response message with that rule's code (Table 6.1-4);
- CoAP-level changes: the code of Table 7.1-3, or silence/RST for datagrams that are not valid CoAP
  (EMAP-7.1.5-13).

A lower-EMA IUT (``lower_application``) answers its registered upper EMA never with 463 (EMAP-6.2.1-03), and with
the code the binding fixes where the live IDs decide it: ``emapRequestReregistration`` 200/452 (EMAP-6.2.5-02),
``emapCancelPartyRegistration`` 200/452 (EMAP-6.2.4-03/-04), ``emapDistributeEvent`` 200 in ``emapCreatedEvent``
or ``emapResponse``, or 452 in ``emapCreatedEvent`` for a foreign ``vtnID`` (EMAP-6.3.2-06/-07). In pull mode the
answer is the step two; a poll reply that is not a valid message of Table 6.6-1, or an R0 ``emapResponse``, gets
none ("discard", EMAP-6.6-11).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.messages import MESSAGES, POLL_REPLIES, RESOURCES, RESPONSES_OF, MessageError, validate

APPLICATION_CODES = frozenset({"200", "450", "451", "452", "453", "454", "459", "460", "461", "462", "463", "469"})
JSON_FORMAT = 50


@dataclass(frozen=True)
class Answer:
    """What came back: ``code`` ("2.04") or None; ``reset`` when an RST came; ``silent`` when nothing did."""

    code: str | None
    payload: bytes = b""
    content_format: int | None = None
    size1: int | None = None
    reset: bool = False
    token: bytes | None = None
    #: The transport's response, whose payload it validates once and caches (``message``, ``message_error``).
    response: object = field(default=None, compare=False, repr=False)

    @property
    def silent(self) -> bool:
        return self.code is None and not self.reset

    def describe(self) -> str:
        if self.reset:
            return "RST"
        if self.code is None:
            return "no answer"
        shown = self.payload[:160].decode("utf-8", "replace")
        cf = f" cf={self.content_format}" if self.content_format is not None else ""
        return f"{self.code}{cf} {shown!r}" if self.payload else f"{self.code}{cf} (no payload)"


@dataclass(frozen=True)
class Expectation:
    """``kind``: "app" (2.04 + EMAP message), "coap" (a CoAP code), "silence" (nothing or RST), "rst",
    "discard" (no step two to a poll reply)."""

    kind: str
    requirement: str
    names: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    echo: str | None = None
    empty_ok: bool = False
    diagnostic: bool = False
    size1: int | None = None
    token: bytes | None = None

    def describe(self) -> str:
        if self.kind == "app":
            names = "/".join(sorted(self.names))
            return f"2.04 with {names} responseCode {'/'.join(sorted(self.codes)) or 'any'}"
        if self.kind == "coap":
            return "/".join(sorted(self.codes))
        if self.kind == "discard":
            return "no step two (the poll reply is discarded)"
        return "RST" if self.kind == "rst" else "no answer or RST"


def application(name: str, resource: str, *, request_id: str | None, live_ven: bool,
                registered: bool) -> Expectation:
    """Expectation for a valid message ``name`` POSTed to the upper EMA's ``resource``."""
    if name not in RESOURCES[("U", resource)]:
        return Expectation("app", "EMAP-7.1.3-05", frozenset({"emapResponse"}), frozenset({"459"}))
    codes = set(APPLICATION_CODES - {"459"})
    if live_ven and registered:
        codes.discard("463")
    if name == "emapQueryRegistration":
        return Expectation("app", "EMAP-6.2.2-03", frozenset(RESPONSES_OF[name]), frozenset({"200"}), request_id)
    if name == "emapPoll":
        return Expectation("app", "EMAP-6.6-02", frozenset(POLL_REPLIES), frozenset({"200", "451", "463"} & codes),
                           "")
    if MESSAGES[name].kind == "request":
        return Expectation("app", "EMAP-6.1-01", frozenset(RESPONSES_OF[name]), frozenset(codes), request_id)
    return Expectation("app", "EMAP-6.1-06", frozenset({"emapResponse"}), frozenset(codes), request_id,
                       empty_ok=name == "emapResponse")


def lower_application(message, resource: str, ids: dict, *, registered: bool,
                      poll_reply: bool = False) -> Expectation:
    """Expectation for a valid ``message`` given to a lower-EMA IUT: POSTed to its ``resource`` (push) or as a poll
    reply (``poll_reply``); ``ids``: the link's venID, registrationID and the upper EMA's vtnID."""
    name, body = message.name, message.body
    if poll_reply and (name not in POLL_REPLIES or name == "emapResponse"):
        return Expectation("discard", "EMAP-6.6-11")
    if not poll_reply and name not in RESOURCES[("L", resource)]:
        return Expectation("app", "EMAP-7.1.3-05", frozenset({"emapResponse"}), frozenset({"459"}))
    names, echo = frozenset(RESPONSES_OF[name]), message.request_id
    requirement, codes = "EMAP-6.1-01", APPLICATION_CODES - {"459", "463"}
    if name == "emapRequestReregistration":
        requirement, echo = "EMAP-6.2.5-02", ""
        codes = {"200"} if body["venID"] == ids["venID"] else {"452"}
    elif name == "emapCancelPartyRegistration":
        requirement = "EMAP-6.2.4-03"
        same = body["registrationID"] == ids["registrationID"] and body["venID"] == ids["venID"]
        codes = {"200"} if same else {"452"}
    elif name == "emapDistributeEvent":
        if body["vtnID"] != ids["vtnID"]:
            requirement, names, codes = "EMAP-6.3.2-06", frozenset({"emapCreatedEvent"}), {"452"}
        else:
            requirement, names, codes = "EMAP-6.3.2-07", frozenset({"emapCreatedEvent", "emapResponse"}), {"200"}
    if not registered:
        requirement, codes = "EMAP-6.2.1-03", {"463"}
    return Expectation("app", requirement, names, frozenset(codes), echo)


def invalid_payload() -> Expectation:
    return Expectation("coap", "EMAP-7.1.4-06", codes=frozenset({"4.00"}), diagnostic=True)


def classify(payload: bytes):
    """(ValidMessage, None) or (None, MessageError) for the bytes a case sends."""
    try:
        return validate(payload, posted=True), None
    except MessageError as exc:
        return None, exc


def _top_code(message) -> str | None:
    if message.name == "emapDistributeEvent":
        return message.body.get("eiResponse", {}).get("responseCode")
    return message.response_code


def _echo(message) -> str | None:
    if message.name == "emapDistributeEvent":
        return message.body.get("eiResponse", {}).get("requestID")
    return message.request_id


def judge(expect: Expectation, answer: Answer) -> str | None:
    """None when ``answer`` meets ``expect``, else one line: requirement id, what was expected, what came."""
    problem = _problem(expect, answer)
    if problem is None:
        return None
    return f"{expect.requirement}: expected {expect.describe()}; got {answer.describe()} ({problem})"


def _problem(expect: Expectation, answer: Answer) -> str | None:
    if expect.kind == "silence":
        return None if answer.silent or answer.reset else "a datagram that is not valid CoAP must be ignored"
    if expect.kind == "rst":
        return None if answer.reset else "an empty CON must be answered with RST"
    if expect.kind == "discard":
        return None if answer.silent else "a discarded poll reply gets no step two"
    if answer.silent:
        return "no answer"
    if answer.reset:
        return "RST instead of a response"
    if expect.kind == "coap":
        return _coap_problem(expect, answer)
    return _app_problem(expect, answer)


def _coap_problem(expect: Expectation, answer: Answer) -> str | None:
    if answer.code not in expect.codes:
        return "wrong CoAP code"
    if expect.diagnostic and answer.content_format is not None:
        return "a diagnostic payload has no Content-Format"
    if expect.diagnostic:
        try:
            text = answer.payload.decode("utf-8")
        except UnicodeDecodeError:
            return "the diagnostic payload is not UTF-8"
        if not text:
            return "no diagnostic payload"
    if expect.size1 is not None and answer.size1 != expect.size1:
        return f"Size1 {answer.size1} instead of the limit {expect.size1}"
    return None


def _app_problem(expect: Expectation, answer: Answer) -> str | None:
    if answer.code != "2.04":
        return "an application result is always 2.04 (EMAP-7.1.6-02)"
    if expect.token is not None and answer.token is not None and answer.token != expect.token:
        return "response token differs from the request's"
    if not answer.payload:
        return None if expect.empty_ok else "empty 2.04 where a response message is due"
    if answer.content_format != JSON_FORMAT:
        return "a response carrying a message has Content-Format 50 (EMAP-7.1.4-04)"
    if answer.response is not None:
        message, error = answer.response.message, answer.response.message_error
    else:
        try:
            message, error = validate(answer.payload, posted=False), None
        except MessageError as exc:
            message, error = None, str(exc)
    if message is None:
        return f"the response is not a valid message: {error}"
    return message_problem(expect, message)


def message_problem(expect: Expectation, message) -> str | None:
    """What is wrong with the valid response ``message`` for ``expect`` (a 2.04 payload or a step two)."""
    if message.name not in expect.names:
        return f"{message.name} is not the procedure's response message"
    if MESSAGES[message.name].kind == "request":  # a poll reply delivering a queued request
        return None
    code = _top_code(message)
    if code not in expect.codes:
        return f"responseCode {code}"
    if expect.echo is not None and _echo(message) != expect.echo:
        return f"echoed requestID {_echo(message)!r} instead of {expect.echo!r} (EMAP-6.1-02)"
    return None
