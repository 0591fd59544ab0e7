"""CoAP-level fuzz cases of the poll replies a pull-mode lower-EMA IUT receives (``TC-F-LPCOAP``).

A case is a known-good ``emapDistributeEvent`` queued as the next poll reply; the response datagram that carries
it to the IUT gets one CoAP-level change (``reply_plan``), made by ``ReplyRewrite`` in the wire tap in front of the
reference upper EMA's server, so the trace holds the bytes actually sent. What the IUT may do next follows from
those bytes:

- ``ACCEPT``: its step two for the reply (a 2.04 carrying the message, also with unknown elective options, ETag or
  Max-Age, or as a separate response after an empty ACK: RFC 7252 sections 5.2.2, 5.4.1, EMAP-7.1.1-03);
- ``RETRY``: the datagram is ignored (not a valid CoAP message, or a piggy-backed response rejected for an unknown
  critical option: RFC 7252 sections 4.2, 5.4.1, EMAP-7.1.5-13), the IUT re-sends its poll and the duplicate is
  answered with the original response (EMAP-7.1.5-02), then its step two; a piggy-backed response with a token
  other than the poll's (RFC 7252 section 5.3.2) is followed by the original as a separate response, and the step
  two must come after that;
- ``DISCARD``: no step two for it and the IUT keeps polling (any code but 2.04, EMAP-7.1.4-07; a payload that is
  no valid poll reply, EMAP-6.6-11); after 5.03 its next poll not before Max-Age (EMAP-7.1.5-08).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from conformance.transport import FaultPlan, codec
from conformance.transport.faults import FaultOutcome
from conformance.transport.trace import TO_IUT

from .cases import FuzzCase
from .coapcases import EXPERIMENTAL_OPTIONS
from .oracle import Expectation
from .strategies import CRITICAL_OPTION, ELECTIVE_OPTION, PAYLOAD_BYTES, UNPARSABLE_HEADERS

ACCEPT, RETRY, DISCARD = "step two", "step two after re-sending the poll", "no step two"
POLL_RESOURCE = "EmapPoll"
#: Changes the peer answers late: the poll gets an empty ACK first, the reply comes as a separate response.
LATE = frozenset({"separate", "token"})
#: Codes other than 2.04 a poll reply gets (5.03 separately, with Max-Age).
OTHER_CODES = ("2.01", "2.03", "2.05", "4.00", "4.02", "4.04", "4.05", "4.15", "5.00", "5.02")


@dataclass(frozen=True)
class ReplyPlan:
    """The datagram sent instead of the poll reply (None: unchanged), the IUT's allowed next behaviours, the
    requirement, what its step two must be when one is allowed (``step``), the 5.03's Max-Age (its next poll not
    earlier), and ``may_wait``: the IUT may take the datagram for an empty ACK and wait for a separate response
    (EMAP-7.1.1-03) before it polls again."""

    data: bytes | None
    allowed: frozenset[str]
    requirement: str
    step: Expectation
    max_age: int | None = None
    may_wait: bool = False


def reply_plan(spec: dict, original: codec.CoapDatagram, *,
               expect_payload: Callable[[bytes], Expectation]) -> ReplyPlan:
    """What replaces ``original`` (the piggy-backed or separate 2.04 carrying the known-good poll reply; for
    ``token`` the piggy-backed response the server's empty ACK stands for) for the change ``spec``, and what the
    IUT may do then; ``expect_payload`` gives the step two the bytes call for."""
    kind, value = spec["mutation"], spec.get("value")
    step = expect_payload(original.payload)
    options = [o for o in original.options if o[0] != codec.CONTENT_FORMAT]
    content_format = original.option(codec.CONTENT_FORMAT)
    code, payload, token = original.code, original.payload, original.token
    allowed, requirement, max_age, may_wait = frozenset({ACCEPT}), "EMAP-7.1.4-04", None, False
    raw: dict = {}
    if kind == "separate":  # the peer answers late: empty ACK, then this CON (ACCEPT)
        return ReplyPlan(None, allowed, "EMAP-7.1.1-03", step)
    if kind == "code":
        code, allowed, requirement = codec.code_of(value), frozenset({DISCARD}), "EMAP-7.1.4-07"
        if value == "5.03":
            max_age, requirement = spec["max_age"], "EMAP-7.1.5-08"
            options.append((codec.MAX_AGE, codec.uint_bytes(max_age)))
    elif kind == "content-format":
        content_format = None if value is None else codec.uint_bytes(value)
        allowed = frozenset({ACCEPT, DISCARD})
    elif kind == "elective-option":
        options.append((EXPERIMENTAL_OPTIONS + 2 * spec["number"], bytes.fromhex(value)))
    elif kind == "critical-option":
        options.append((EXPERIMENTAL_OPTIONS + 1 + 2 * spec["number"], bytes.fromhex(value)))
        allowed, requirement = frozenset({RETRY, DISCARD}), "EMAP-7.1.4-07"
    elif kind == "etag":
        options.append((codec.ETAG, bytes.fromhex(value)))
    elif kind == "max-age":
        options.append((codec.MAX_AGE, codec.uint_bytes(value)))
    elif kind == "token":  # never the poll's own token
        token = bytes.fromhex(value)
        if token == original.token:
            token = bytes([token[0] ^ 0xFF]) + token[1:]
        allowed, requirement = frozenset({RETRY, DISCARD}), "EMAP-7.1.4-07"
    elif kind in ("payload-bytes", "truncated-json"):
        if kind == "payload-bytes":
            at, change = min(spec["at"], len(payload)), bytes.fromhex(value)
            payload = payload[:at] + change + payload[at + len(change):]
        else:
            payload = payload[:min(value, len(payload) - 1)]
        step = expect_payload(payload)
        allowed = frozenset({ACCEPT}) if step.kind == "app" else frozenset({DISCARD})
        requirement = step.requirement
    elif kind in ("tkl", "version", "truncated"):  # RFC 8974 may read TKL 13/14 as a longer token
        raw[kind] = value
        allowed, requirement = frozenset({RETRY, DISCARD} if kind == "tkl" else {RETRY}), "EMAP-7.1.5-13"
        may_wait = kind == "tkl"
    else:
        raise ValueError(f"unknown poll-reply mutation {kind!r}")
    if content_format is not None:
        options.append((codec.CONTENT_FORMAT, content_format))
    dg = codec.CoapDatagram(original.mtype, code, original.mid, token, tuple(sorted(options, key=lambda o: o[0])),
                            payload, raw.get("version", 1))
    data = codec.encode(dg, tkl=raw.get("tkl"))
    if "truncated" in raw:
        data = data[:raw["truncated"]]
    return ReplyPlan(data, allowed, requirement, step, max_age, may_wait)


def poll_coap_cases() -> st.SearchStrategy[FuzzCase]:
    """Poll-reply changes, weighted by what they cost against an IUT: an accepted reply only its step two, an
    ignored datagram one ACK_TIMEOUT (the IUT re-sends its poll) or the peer's late answer, a discarded reply one
    poll period."""
    accepted = st.one_of(
        ELECTIVE_OPTION,
        st.builds(dict, mutation=st.just("etag"), value=st.binary(min_size=1, max_size=8).map(bytes.hex)),
        st.builds(dict, mutation=st.just("max-age"), value=st.integers(0, 2 ** 32 - 1)),
        st.builds(dict, mutation=st.just("separate")),
        st.builds(dict, mutation=st.just("content-format"),
                  value=st.none() | st.sampled_from([0, 40, 60, 110]) | st.integers(0, 65535).filter(lambda v: v != 50)),
    )
    ignored = st.one_of(
        *UNPARSABLE_HEADERS,
        st.builds(dict, mutation=st.just("token"), value=st.binary(min_size=1, max_size=8).map(bytes.hex)),
        CRITICAL_OPTION,
    )
    discarded = st.one_of(
        st.builds(dict, mutation=st.just("code"), value=st.sampled_from(OTHER_CODES)),
        st.builds(dict, mutation=st.just("code"), value=st.just("5.03"), max_age=st.integers(0, 1)),
        PAYLOAD_BYTES,
        st.builds(dict, mutation=st.just("truncated-json"), value=st.integers(0, 200)),
    )
    specs = st.one_of(accepted, accepted, accepted, ignored, ignored, discarded, discarded)
    return specs.map(lambda spec: FuzzCase("coap", POLL_RESOURCE, coap=spec))


class ReplyRewrite(FaultPlan):
    """Wire-tap plan: the first response datagram to the IUT carrying ``payload`` is replaced per ``spec`` (for
    ``token``, which the peer answers late, the empty ACK of the poll instead; for ``separate`` nothing, the
    separate response is only labelled); ``plan``, ``original`` and ``fired`` are set then. Every other datagram,
    the answers to the IUT's retransmissions and the separate response included, passes unchanged."""

    def __init__(self, spec: dict, payload: bytes, *, expect_payload: Callable[[bytes], Expectation]):
        super().__init__(seed=0)
        self.spec = spec
        self.payload = payload
        self.expect_payload = expect_payload
        self.plan: ReplyPlan | None = None
        self.original: codec.CoapDatagram | None = None
        self.fired = asyncio.Event()
        self._polls: dict[int, bytes] = {}  # Message ID -> token of the IUT's polls (for ``token``)

    @property
    def late(self) -> bool:
        """True when the peer must answer the poll late (an empty ACK first, then a separate response)."""
        return self.spec["mutation"] in LATE

    def decide(self, direction: str, data: bytes) -> FaultOutcome:
        out = FaultOutcome(data)
        if self.plan is not None:
            return out
        try:
            dg = codec.decode(data)
        except codec.CodecError:
            return out
        if direction != TO_IUT:
            if dg.is_request and dg.path.endswith("/" + POLL_RESOURCE):
                self._polls[dg.mid] = dg.token
            return out
        if self.spec["mutation"] == "token":
            if dg.mtype != codec.ACK or not dg.is_empty or dg.mid not in self._polls:
                return out
            dg = codec.CoapDatagram(codec.ACK, codec.code_of("2.04"), dg.mid, self._polls[dg.mid],
                                    ((codec.CONTENT_FORMAT, codec.uint_bytes(50)),), self.payload)
        elif not dg.is_response or dg.payload != self.payload:
            return out
        self.original, self.plan = dg, reply_plan(self.spec, dg, expect_payload=self.expect_payload)
        self.fired.set()
        if self.plan.data is None:
            out.labels.append("poll reply answered late by the tester: a separate response")
        else:
            out.data = self.plan.data
            out.labels.append(f"poll reply changed by the tester ({describe(self.spec)})")
        return out


def describe(spec: dict) -> str:
    """One phrase for a poll-reply change, e.g. ``code 5.03, Max-Age 1``."""
    parts = [spec["mutation"]] + [f"{key} {value}" for key, value in spec.items() if key != "mutation"]
    return ", ".join(str(part) for part in parts)
