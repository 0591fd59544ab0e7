"""Shared helpers of the upper-IUT test cases: finding exchanges in the trace, judging them, stimuli.

Every judging helper reads the captured trace (never the peer helper's return values) and raises ``Fail`` with the
requirement id and a one-line description of what was on the wire.
"""

from __future__ import annotations

import asyncio

from conformance.messages import MESSAGES
from conformance.messages.timefmt import parse_datetime
from conformance.peer import Posted
from conformance.verdict import Fail, Inconclusive

UPPER_ROLES = 'role in ("upper", "intermediate")'
OPT_CHANGE = f"{UPPER_ROLES} and opt_change"
#: U offers telemetry reports (ICS-8), so a lower EMA can request reports from it.
U_REPORTER = (f'{UPPER_ROLES} and ("METADATA_TELEMETRY_STATUS" in metadata_reports '
              'or "METADATA_TELEMETRY_USAGE" in metadata_reports)')


def flip_case(value: str) -> str:
    """The same ID with every letter's case swapped (EMAP-B-05: IDs are case-sensitive); must differ."""
    flipped = value.swapcase()
    return flipped if flipped != value else value + "X"


def code_of(message) -> str | None:
    """The top-level responseCode of a message (also of an emapDistributeEvent answering emapRequestEvent)."""
    if message.name == "emapDistributeEvent":
        return message.body.get("eiResponse", {}).get("responseCode")
    return message.response_code


def echo_of(message) -> str | None:
    """The requestID a response message echoes (Table 6.1-1, column "Echoed requestID")."""
    if message.name == "emapDistributeEvent":
        return message.body.get("eiResponse", {}).get("requestID")
    return message.request_id


def fail(requirement: str, text: str) -> Fail:
    return Fail(f"{requirement}: {text}")


def describe(exchange) -> str:
    """One line saying what an exchange carried: request, code, message and responseCode."""
    if exchange is None:
        return "no such exchange on the wire"
    request = exchange.request_message
    sent = request.name if request is not None else "non-EMAP payload"
    if exchange.response is None:
        return f"{exchange.method} {exchange.path} ({sent}) got no response"
    answer = exchange.response_message
    if answer is None:
        error = exchange.response_message_error
        shown = f"undecodable payload ({error})" if error else "no EMAP message"
        return f"{exchange.method} {exchange.path} ({sent}) -> {exchange.code} with {shown}"
    code = f" responseCode {code_of(answer)}" if code_of(answer) is not None else ""
    return f"{exchange.method} {exchange.path} ({sent}) -> {exchange.code} {answer.name}{code}"


def exchange_of(trace, posted: Posted):
    """The exchange in the trace that carried ``posted`` (the last one with exactly its payload and resource)."""
    for exchange in reversed(trace.exchanges()):
        if exchange.direction == "to-iut" and exchange.path.endswith("/" + posted.resource) \
                and exchange.request_payload == posted.payload:
            return exchange
    raise RuntimeError(f"the POST to {posted.resource} is missing from the trace")


def answer_of(trace, posted: Posted, requirement: str):
    """The EMAP message U returned for ``posted``: a 2.04 carrying a valid message, else Fail."""
    exchange = exchange_of(trace, posted)
    if exchange.code != "2.04" or exchange.response_message is None:
        raise fail(requirement, f"expected 2.04 with an EMAP message; wire: {describe(exchange)}")
    return exchange.response_message


def expect_answer(trace, posted: Posted, requirement: str, *, name: str | tuple[str, ...],
                  code: str | tuple[str, ...] | None = "200", echo: bool = False):
    """Judge U's answer to ``posted``: message type ``name``, responseCode ``code`` and, with ``echo`` (only in
    tests of the requirement concerned), the echoed requestID."""
    exchange = exchange_of(trace, posted)
    message = answer_of(trace, posted, requirement)
    names = (name,) if isinstance(name, str) else name
    codes = (code,) if isinstance(code, str) else code
    if message.name not in names:
        raise fail(requirement, f"expected {' or '.join(names)}; wire: {describe(exchange)}")
    if codes is not None and code_of(message) not in codes:
        raise fail(requirement, f"expected responseCode {' or '.join(codes)}; wire: {describe(exchange)}")
    sent = exchange.request_message
    if echo and sent is not None and sent.request_id is not None and echo_of(message) != sent.request_id:
        raise fail(requirement, f"{message.name} echoes requestID {echo_of(message)!r}, "
                                f"the request carried {sent.request_id!r}")
    return message


def expect_empty_ack(trace, posted: Posted, requirement: str) -> None:
    """U accepted a POSTed emapResponse: 2.04 with no payload (EMAP-6.1-06)."""
    exchange = exchange_of(trace, posted)
    if exchange.code != "2.04" or exchange.response_payload:
        raise fail(requirement, f"expected an empty 2.04; wire: {describe(exchange)}")


def sent_by_iut(trace, name: str | None = None) -> list:
    """``(record, message)`` of every EMAP message the IUT sent (its requests and its responses)."""
    return trace.messages(name, direction="from-iut")


def poll_replies(trace, ven_id: str) -> list:
    """``(exchange, reply message)`` of every answered poll of ``ven_id``, in wire order."""
    found = []
    for exchange in trace.exchanges():
        request = exchange.request_message
        if exchange.direction == "to-iut" and request is not None and request.name == "emapPoll" \
                and request.body.get("venID") == ven_id and exchange.response_message is not None:
            found.append((exchange, exchange.response_message))
    return found


def pushed_to(trace, peer, name: str | None = None) -> list:
    """Exchanges of CoAP requests the IUT sent to a push-mode peer's server side."""
    return [ex for ex in trace.exchanges() if ex.direction == "from-iut" and ex.request.dst == peer.served_at
            and (name is None or (ex.request_message is not None and ex.request_message.name == name))]


def nonconforming(trace) -> list:
    """``(exchange, error)`` for every payload the IUT sent that is not a valid EMAP message (B.6 schema)."""
    found = []
    for exchange in trace.exchanges():
        if exchange.direction == "to-iut" and exchange.response_payload and exchange.response_message_error:
            found.append((exchange, exchange.response_message_error))
        if exchange.direction == "from-iut" and exchange.request_payload and exchange.request_message_error:
            found.append((exchange, exchange.request_message_error))
    return found


def check_conformance(trace, requirement: str, service: str) -> None:
    """Fail ``requirement`` when a message of ``service`` (Table B-1) that the IUT sent breaks its schema.

    A payload that is not even an envelope of a known message counts against every service."""
    for exchange, error in nonconforming(trace):
        name = error.split(":", 1)[0]
        if name not in MESSAGES or MESSAGES[name].service == service:
            raise fail(requirement, f"{describe(exchange)}: {error}")


def sender_is_upper(name: str) -> bool:
    return "U" in MESSAGES[name].senders


def _upper(args: dict | None) -> dict:
    """Stimulus args for the IUT's upper role (an intermediate IUT needs ``role``; others ignore it)."""
    return {"role": "upper", **(args or {})}


async def act(stimulus, action: str, args: dict | None = None) -> None:
    """Make the IUT start a procedure; not possible or refused -> Inconclusive (the test needs it)."""
    outcome = await stimulus.stimulate(action, _upper(args))
    if outcome.status == "accepted":
        return
    if outcome.status in ("unavailable", "unsupported", "refused"):
        raise Inconclusive(f"stimulus {action} {outcome.status}: {outcome.detail}")
    raise RuntimeError(f"stimulus {action} failed: {outcome.detail}")


def upper_metadata(trace, ven_id: str) -> list[dict]:
    """The metadata reports of the latest emapRegisterReport U sent to ``ven_id`` (empty if none)."""
    found = [m for _, m in sent_by_iut(trace, "emapRegisterReport") if m.body.get("venID") == ven_id]
    return found[-1].body.get("emapReport", []) if found else []


def telemetry_target(trace, ven_id: str) -> tuple[str, str, dict]:
    """(reportSpecifierID, rID, emapSamplingRate) of a telemetry report U offers ``ven_id``; Inconclusive if none."""
    for report in upper_metadata(trace, ven_id):
        if report.get("reportName", "").startswith("METADATA_TELEMETRY_"):
            description = report["emapReportDescription"][0]
            return report["reportSpecifierID"], description["rID"], description.get("emapSamplingRate", {})
    raise Inconclusive("the IUT offers no METADATA_TELEMETRY_* report in its emapRegisterReport (ICS-8)")


def lower_status_request(peer) -> dict:
    """Stimulus args asking U to request a one-shot report of the peer's status metadata."""
    status = peer.metadata[0]
    return {"venID": peer.ven_id, "reportSpecifierID": status["reportSpecifierID"],
            "rIDs": [status["emapReportDescription"][0]["rID"]], "granularity": "PT0S", "reportBackDuration": "PT0S"}


async def let_iut_act(peer, bounds: int = 1) -> None:
    """Wait ``bounds`` times the declared bound (T_PROMPT + tolerance) by which U must have queued what a stimulus
    asked for, when the test must not fetch it yet (pull mode: fetching it would deliver it)."""
    await asyncio.sleep(bounds * peer.prompt)


def messages_to(trace, peer, name: str) -> list:
    """``(record, message)`` of every ``name`` U sent to ``peer``: pushed to its base URI, as a poll reply, or as
    the answer to one of its requests."""
    found = []
    for exchange in trace.exchanges():
        request, reply = exchange.request_message, exchange.response_message
        if exchange.direction == "from-iut" and request is not None and request.name == name \
                and exchange.request.dst == peer.served_at:
            found.append((exchange.request, request))
        elif exchange.direction == "to-iut" and reply is not None and reply.name == name and request is not None:
            body = request.body
            if (body.get("venID") or body.get("eiRequestEvent", {}).get("venID")) == peer.ven_id:
                found.append((exchange.response, reply))
    return found


def rule_violations(violations, requirement: str) -> list:
    """The violations of one requirement (rules functions report several)."""
    return [v for v in violations if v.requirement_id == requirement]


def generated_at(record):
    """The wall-clock time U generated a message, as seen by the tester (the record's capture time)."""
    return parse_datetime(record.wall)


async def try_act(stimulus, action: str, args: dict) -> bool:
    """Like ``act`` but a refused or unsupported stimulus only returns False (an optional part of a test)."""
    outcome = await stimulus.stimulate(action, _upper(args))
    if outcome.status == "error":
        raise RuntimeError(f"stimulus {action} failed: {outcome.detail}")
    return outcome.status == "accepted"
