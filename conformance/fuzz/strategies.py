"""Hypothesis strategies of fuzz cases against an IUT's resources of Table 7.1-2 (side "U": an upper-EMA IUT,
side "L": a lower-EMA IUT).

- ``message_cases(name, side)``: valid messages (mostly at the resource that accepts them, sometimes at another:
  EMAP-7.1.3-05) and near-valid ones with one JSON-tree or byte-level change (EMAP-7.1.4-06, EMAP-B-02);
- ``state_cases(side)``: well-formed messages breaking one state rule with a known answer (Table 6.1-4);
- ``poll_reply_cases()``: valid, near-valid and state-broken poll replies for a pull-mode lower EMA (Table 6.6-1,
  EMAP-6.6-11), and valid messages that are no poll reply;
- ``coap_cases()``: a known-good request with one CoAP-level change (EMAP-7.1.4-01..06, EMAP-7.1.5-10/-13).
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

from conformance.messages import (
    LOWER_RESOURCES,
    MESSAGES,
    POLL_REPLIES,
    RESOURCES,
    SERVICE_RESOURCE,
    UPPER_RESOURCES,
)

from .cases import FuzzCase, bind_live, slots_of
from .mutations import pointers
from .schemagen import IDS, TEXT, envelope_strategy

#: Any JSON value, small (for replacements and unknown members).
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 40), 2 ** 40) | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
#: Replacement values that break types, enumerations, patterns and ranges.
BAD_VALUES = st.one_of(
    st.sampled_from(["", "not-a-value", "2024-13-40T25:61:61Z", "P", "PT-1S", "x", "1.5", "200 "]),
    st.sampled_from([0, -1, 1.0, 1.5, 2 ** 32, -(2 ** 63), True, False, None, [], {}, [None]]),
    JSON_VALUES,
)


def _accepting(side: str) -> dict[str, list[str]]:
    return {name: sorted(res for (at, res), names in RESOURCES.items() if at == side and name in names)
            for name in MESSAGES}


ACCEPTING = _accepting("U")
LOWER_ACCEPTING = _accepting("L")
#: The messages a lower EMA accepts at its resources (push mode, Table 7.1-2 side L).
LOWER_MESSAGES = tuple(sorted(name for name, homes in LOWER_ACCEPTING.items() if homes))
POLL_REPLY = "EmapPoll"  # the resource of a case delivered as a poll reply


def accepting(side: str) -> dict[str, list[str]]:
    return ACCEPTING if side == "U" else LOWER_ACCEPTING


def home_resource(name: str, side: str = "U") -> str:
    """Where the IUT accepts ``name`` (Table 7.1-2); the service resource when it accepts it nowhere."""
    homes = accepting(side)[name]
    return homes[0] if homes else SERVICE_RESOURCE[name]


@functools.cache
def templates(name: str, side: str = "U") -> st.SearchStrategy[dict]:
    """Drawn envelopes of ``name`` with the live registration's IDs as placeholders."""
    return envelope_strategy(name).map(lambda envelope: bind_live(envelope, side))


@functools.cache
def _resource(name: str, side: str) -> st.SearchStrategy[str]:
    """Mostly a resource that accepts ``name``, one time in five any resource of the IUT (EMAP-7.1.3-05)."""
    homes = accepting(side)[name] or [home_resource(name, side)]
    others = UPPER_RESOURCES if side == "U" else LOWER_RESOURCES
    return st.sampled_from([homes[i % len(homes)] for i in range(16)] + list(others))


def _pick(draw, items: list | tuple):
    """One of ``items`` drawn like ``sampled_from`` without building a strategy per draw (cached ``integers``);
    no draw when there is only one."""
    return items[draw(st.integers(0, len(items) - 1))] if len(items) > 1 else items[0]


# The helpers below draw with the caller's ``draw`` from strategies built once (module constants, cached
# ``integers``): a strategy built per drawn case would be validated again for every case.
def _unknown_member(draw, envelope: dict) -> dict:
    found = pointers(envelope)
    objects = [p for p in found if p.count("/") == 1] + [p for p in found if p.count("/") > 1]
    return {"op": "add", "pointer": _pick(draw, objects), "name": "zz" + draw(IDS), "value": draw(JSON_VALUES)}


_TREE_OPS = ("drop", "null", "replace", "replace", "replace", "rename", "second-envelope")
_MESSAGE_NAMES = tuple(sorted(MESSAGES))
_RENAMES = st.sampled_from(_MESSAGE_NAMES) | IDS


def _tree_mutation(draw, envelope: dict) -> dict:
    op = _pick(draw, _TREE_OPS)
    if op == "rename":
        return {"op": op, "value": draw(_RENAMES)}
    if op == "second-envelope":
        return {"op": op, "value": _pick(draw, _MESSAGE_NAMES)}
    mutation = {"op": op, "pointer": _pick(draw, pointers(envelope))}
    if op == "replace":
        mutation["value"] = draw(BAD_VALUES)
    return mutation


_BYTE_MUTATIONS = (
    st.builds(dict, op=st.sampled_from(("bom", "duplicate-member"))),
    st.builds(dict, op=st.just("bad-utf8"), at=st.integers(0, 200),
              value=st.sampled_from(["ff", "c0af", "eda080", "f4908080", "80", "fe"])),
    st.builds(dict, op=st.just("truncate"), at=st.integers(0, 200)),
    st.builds(dict, op=st.just("trailing"), value=st.sampled_from([",", "}", " x", "{}", "\u0000"])),
    st.builds(dict, op=st.just("number-token"), value=st.sampled_from(["1.0", "1e2", "-0", "NaN", "01", "+1"])),
)


def _near_valid_change(draw, envelope: dict) -> dict:
    """A JSON-tree change or one of the five kinds of byte-level change, one time in two each (shrinks towards
    the tree change)."""
    if not draw(st.booleans()):
        return _tree_mutation(draw, envelope)
    return draw(_BYTE_MUTATIONS[_pick(draw, range(len(_BYTE_MUTATIONS)))])


@functools.cache
def _message_cases(name: str, side: str, resource: str | None, kinds: tuple[str, ...]) -> st.SearchStrategy:
    """Cases of message ``name`` of one of ``kinds`` ("valid": with an unknown member one time in two,
    "mutated": with one near-valid change)."""

    @st.composite
    def case(draw) -> FuzzCase:
        kind = _pick(draw, kinds)
        envelope = draw(templates(name, side))
        where = resource or draw(_resource(name, side))
        # the change is drawn last: dropping it while shrinking leaves the draws before it in place
        if kind == "valid":
            mutation = _unknown_member(draw, envelope) if draw(st.booleans()) else None
        else:
            mutation = _near_valid_change(draw, envelope)
        return FuzzCase(kind, where, envelope, mutation=mutation)

    return case()


def valid_case(name: str, side: str = "U", resource: str | None = None) -> st.SearchStrategy[FuzzCase]:
    return _message_cases(name, side, resource, ("valid",))


def mutated_case(name: str, side: str = "U", resource: str | None = None) -> st.SearchStrategy[FuzzCase]:
    return _message_cases(name, side, resource, ("mutated",))


def message_cases(name: str, side: str = "U", resource: str | None = None,
                  valid_share: int = 2) -> st.SearchStrategy[FuzzCase]:
    """Valid and near-valid cases of message ``name`` (``valid_share`` valid ones to one near-valid), at
    ``resource`` when given."""
    return _message_cases(name, side, resource, ("valid",) * valid_share + ("mutated",))


# -- state rules ----------------------------------------------------------------------------------------------
#: rule -> (messages it applies to, pointer inside the body it breaks, expected response code).
_RESPONSE_TYPES = ("emapCanceledPartyRegistration", "emapResponse", "emapCreatedEvent", "emapRegisteredReport",
                   "emapCreatedReport", "emapUpdatedReport", "emapCanceledReport")
_REGISTERED_ONLY = tuple(sorted(n for n in MESSAGES if ACCEPTING[n] and n not in (
    "emapQueryRegistration", "emapCreatePartyRegistration")))
STATE_RULES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "unregistered-venID": (_REGISTERED_ONLY, "venID", "463"),  # EMAP-6.2.1-02
    "stale-registrationID": (("emapCancelPartyRegistration", "emapCreatePartyRegistration"), "registrationID",
                             "452"),  # EMAP-6.2.4-03, EMAP-6.2.3-04
    "unknown-optID": (("emapCancelOpt",), "optID", "452"),  # Table 6.5.4-6
    "unknown-reportRequestID": (("emapCancelReport",), "reportRequestID", "452"),  # Table 6.4.6-24
    "not-outstanding": (_RESPONSE_TYPES, "requestID", "450"),  # EMAP-6.1-07
}


#: The same for a lower-EMA IUT: every broken ID is answered 452 (Table 6.1-4 step 4).
LOWER_STATE_RULES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "foreign-venID": (tuple(n for n in LOWER_MESSAGES if n != "emapDistributeEvent"), "venID", "452"),
    # EMAP-6.2.5-02, EMAP-6.2.4-03, Table 6.1-3
    "foreign-vtnID": (("emapDistributeEvent",), "vtnID", "452"),  # EMAP-6.3.2-06
    "stale-registrationID": (("emapCancelPartyRegistration",), "registrationID", "452"),  # EMAP-6.2.4-03
    "unknown-reportRequestID": (("emapCancelReport",), "reportRequestID", "452"),  # EMAP-6.4.5-02
}


def state_rules(side: str) -> dict[str, tuple[tuple[str, ...], str, str]]:
    return STATE_RULES if side == "U" else LOWER_STATE_RULES


def _state_pointer(name: str, member: str) -> str:
    if member == "venID":
        path = next(p for p, key in slots_of(name).items() if key == "venID")
        return "/" + "/".join((name, *path))
    if member == "requestID":
        holder = "eiCreatedEvent/eiResponse" if name == "emapCreatedEvent" else "eiResponse"
        return f"/{name}/{holder}/requestID"
    return f"/{name}/{member}"


@st.composite
def state_case(draw, side: str = "U", resource: str | None = None) -> FuzzCase:
    rules = state_rules(side)
    rule = _pick(draw, sorted(rules))
    names, member, _ = rules[rule]
    name = _pick(draw, names)
    envelope = draw(templates(name, side))
    bogus = draw(IDS) + "-unknown"
    value = [bogus] if member == "reportRequestID" else bogus
    mutation = {"op": "replace", "pointer": _state_pointer(name, member), "value": value}
    where = resource or _pick(draw, accepting(side)[name])
    return FuzzCase("state", where, envelope, mutation=mutation, rule=rule)


def state_cases(side: str = "U") -> st.SearchStrategy[FuzzCase]:
    return state_case(side)


def expected_state_code(case: FuzzCase, side: str = "U") -> str:
    return state_rules(side)[case.rule][2]


def poll_reply_cases() -> st.SearchStrategy[FuzzCase]:
    """Poll replies for a pull-mode lower EMA: the requests of Table 6.6-1 valid (three in four) and near-valid,
    near-valid R0 replies, state-broken requests, and valid messages that are no poll reply (to be discarded,
    EMAP-6.6-11). A discarded reply costs a poll period (the IUT polls again when its period allows), a valid one
    only its step two, hence the weights."""
    replies = [message_cases(name, "L", POLL_REPLY, valid_share=3) for name in POLL_REPLIES[1:]]
    replies.append(mutated_case("emapResponse", "L", POLL_REPLY))
    others = sorted(set(MESSAGES) - set(POLL_REPLIES))
    foreign = st.sampled_from(others).flatmap(lambda name: valid_case(name, "L", POLL_REPLY))
    return st.one_of(*replies, state_case("L", POLL_REPLY), foreign)


# -- CoAP level -----------------------------------------------------------------------------------------------
_HEX = st.binary(max_size=8).map(bytes.hex)
#: Changes the request and poll-reply fuzzers share.
ELECTIVE_OPTION = st.builds(dict, mutation=st.just("elective-option"), number=st.integers(0, 267), value=_HEX)
CRITICAL_OPTION = st.builds(dict, mutation=st.just("critical-option"), number=st.integers(0, 266), value=_HEX)
UNPARSABLE_HEADERS = (
    st.builds(dict, mutation=st.just("tkl"), value=st.integers(9, 15)),
    st.builds(dict, mutation=st.just("version"), value=st.sampled_from([0, 2, 3])),
    st.builds(dict, mutation=st.just("truncated"), value=st.integers(0, 3)),
)
PAYLOAD_BYTES = st.builds(dict, mutation=st.just("payload-bytes"), at=st.integers(0, 120),
                          value=st.binary(min_size=1, max_size=4).map(bytes.hex))
#: CoAP-level changes in three groups: options and method/path, the header and datagram framing, the body.
COAP_GROUPS: dict[str, st.SearchStrategy[dict]] = {
    "options": st.one_of(
        st.builds(dict, mutation=st.just("method"),
                  value=st.sampled_from(["GET", "PUT", "DELETE", "FETCH", "PATCH", "iPATCH"])),
        st.builds(dict, mutation=st.just("path"),
                  value=IDS.filter(lambda s: "/" not in s and s not in UPPER_RESOURCES)),
        st.builds(dict, mutation=st.just("extra-segment"), value=IDS.filter(lambda s: "/" not in s)),
        st.builds(dict, mutation=st.just("content-format"),
                  value=st.none() | st.sampled_from([0, 40, 41, 42, 47, 60, 110, 11542])
                  | st.integers(0, 65535).filter(lambda v: v != 50)),
        st.builds(dict, mutation=st.just("accept"),
                  value=st.sampled_from([0, 40, 60, 110]) | st.integers(0, 65535).filter(lambda v: v != 50)),
        st.builds(dict, mutation=st.just("accept-json")),
        st.builds(dict, mutation=st.just("query"), value=st.lists(TEXT, min_size=1, max_size=3)),
        ELECTIVE_OPTION,
        CRITICAL_OPTION,
        st.builds(dict, mutation=st.just("token"), value=_HEX),
    ),
    "framing": st.one_of(
        *UNPARSABLE_HEADERS,
        st.builds(dict, mutation=st.just("marker-without-payload")),
        st.builds(dict, mutation=st.just("reserved-option-nibble"), value=st.sampled_from(["f0", "0f", "fd", "df"])),
        st.builds(dict, mutation=st.just("empty-con")),
    ),
    "body": st.one_of(
        PAYLOAD_BYTES,
        st.builds(dict, mutation=st.just("block1-single"), value=st.integers(0, 6)),
        st.builds(dict, mutation=st.just("block1-gap"), value=st.integers(1, 20)),
        st.builds(dict, mutation=st.just("size1-over-limit"), value=st.integers(1, 10 ** 6)),
    ),
}


def coap_cases(group: str | None = None) -> st.SearchStrategy[FuzzCase]:
    """CoAP-level cases of one group of COAP_GROUPS (all groups when None)."""
    specs = COAP_GROUPS[group] if group else st.one_of(*COAP_GROUPS.values())
    return specs.map(lambda spec: FuzzCase("coap", "EiRegisterParty", coap=spec))
