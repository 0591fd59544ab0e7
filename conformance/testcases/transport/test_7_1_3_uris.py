"""Transport, clause 7.1.3: service endpoint URIs, resource names, 4.04, Uri-Query, 459, emapTransportAddress."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages import encode
from conformance.messages.rules import base_uri_problem
from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .support import (
    LOWER_PUSH,
    SERVER,
    describe,
    expect_code,
    expect_diagnostic,
    expect_message,
    fail,
    iut_exchanges,
)


@emap_test("TC-T-7.1.3-01", requirements=["EMAP-7.1.3-01", "EMAP-7.1.3-02"], applies=SERVER)
async def test_resources_served(server):
    """Every resource of Table 7.1-2 for the role is served at base URI + "/" + name (one Uri-Path per segment)."""
    _, probe_message = server.harmless()
    for resource in server.resources:
        sent = await server.post(resource, probe_message)
        exchange = expect_code(sent, "2.04", "EMAP-7.1.3-02", f"POST of a valid message to {resource}")
        uri_paths = [seg for num, seg in exchange.request.coap.options if num == 11]
        if len(uri_paths) != len(server.path(resource)):
            raise fail("EMAP-7.1.3-01", f"request to {resource} did not carry one Uri-Path per segment")
        expect_message(sent, "EMAP-7.1.3-02", f"POST to {resource}")


@emap_test("TC-T-7.1.3-02", requirements=["EMAP-7.1.3-03", "EMAP-7.1.3-02"], applies=SERVER)
async def test_unknown_paths_not_found(server):
    """Unknown paths, case-changed names and base paths, an extra segment and the bare base path get 4.04 with a
    UTF-8 diagnostic and no Content-Format."""
    resource, message = server.harmless()
    base = server.probe.base_path
    paths = {
        f"resource name {resource.lower()!r} (case changed)": base + (resource.lower(),),
        f"resource name {resource.upper()!r} (case changed)": base + (resource.upper(),),
        "base path with its case changed": tuple(seg.swapcase() for seg in base) + (resource,),
        "an unknown resource name": base + ("EiUnknown",),
        "an extra path segment": base + (resource, "extra"),
        "the bare base path": base,
        "a resource name without the base path": (resource,),
    }
    for what, path in paths.items():
        sent = await server.probe.request(path, payload=encode(message))
        exchange = expect_code(sent, "4.04", "EMAP-7.1.3-03" if "case" not in what else "EMAP-7.1.3-02",
                               f"POST to {what}")
        expect_diagnostic(exchange, "EMAP-7.1.3-03", f"POST to {what}")


@emap_test("TC-T-7.1.3-03", requirements=["EMAP-7.1.3-04"], applies=SERVER)
async def test_uri_query_ignored(server):
    """Uri-Query options on a request are ignored: same code and message as without them."""
    resource, message = server.harmless()
    plain = expect_message(await server.post(resource, message), "EMAP-7.1.3-04", f"POST to {resource}")
    _, again = server.harmless()
    queried = await server.post(resource, again, query=["venID=other", "x"])
    answer = expect_message(queried, "EMAP-7.1.3-04", f"POST to {resource} with Uri-Query options")
    if (answer.name, answer.response_code) != (plain.name, plain.response_code):
        raise fail("EMAP-7.1.3-04", f"with Uri-Query the answer changed from {plain.name} "
                                    f"{plain.response_code} to {answer.name} {answer.response_code}")


@emap_test("TC-T-7.1.3-04", requirements=["EMAP-7.1.3-05"], applies=SERVER)
async def test_wrong_resource_459(server, link_or_none):
    """A valid message POSTed to a resource that does not accept it gets 2.04 emapResponse 459 and has no effect."""
    resource, message = server.misplaced()
    answer = expect_message(await server.post(resource, message), "EMAP-7.1.3-05",
                            f"{next(iter(message))} POSTed to {resource}", "emapResponse")
    if answer.response_code != "459":
        raise fail("EMAP-7.1.3-05", f"{next(iter(message))} at {resource} answered with responseCode "
                                    f"{answer.response_code}, expected 459")
    await no_effect_of_misplaced(server, link_or_none, "EMAP-7.1.3-05")


async def no_effect_of_misplaced(server, link, requirement: str) -> None:
    """A message with effect POSTed where it is not accepted must change nothing: U does not register a lower EMA
    from an emapCreatePartyRegistration at EiEvent; L does not re-register on emapRequestReregistration at EiEvent."""
    if server.side == "U":
        ven_id = server.ids("ven")
        create = B.create_party_registration(server.ids("c"), ven_id=ven_id, ven_name="misplaced")
        expect_message(await server.post("EiEvent", create), requirement, "emapCreatePartyRegistration at EiEvent",
                       "emapResponse")
        query = expect_message(await server.post("EiRegisterParty", B.query_registration(server.ids("q"), ven_id)),
                               requirement, "emapQueryRegistration", "emapCreatedPartyRegistration")
        if "registrationID" in query.body:
            raise fail(requirement, f"the misplaced emapCreatePartyRegistration registered venID {ven_id!r}")
        return
    if link is None:
        return
    before = link.peer.registrations
    expect_message(await server.post("EiEvent", B.request_reregistration(link.peer.ven_id or "ven")), requirement,
                   "emapRequestReregistration at EiEvent", "emapResponse")
    await link.observe(link.prompt)
    if link.peer.registrations != before:
        raise fail(requirement, "the IUT re-registered after an emapRequestReregistration POSTed to EiEvent")


@emap_test("TC-T-7.1.3-05", requirements=["EMAP-7.1.3-06"], applies=LOWER_PUSH)
async def test_transport_address_is_base_uri(link, trace):
    """The emapTransportAddress of L's registration is a clean base URI (coap/coaps, host, optional port, base
    path; no query, fragment or trailing "/"). The wire decides: a registration the reference peer refused
    (454, EMAP-6.2.3-02) because of its address is judged by the address it carried."""
    unfinished = None
    try:
        await link.registered()
        await link.reregister()
    except Inconclusive as why:
        unfinished = why
    creates = _creates(trace)
    if not creates:
        if unfinished:
            raise unfinished
        raise fail("EMAP-7.1.3-06", "the IUT sent no emapCreatePartyRegistration")
    for create in creates:
        body = create.request_message.body
        address = body.get("emapTransportAddress")
        if body.get("emapPullModel") is False and address is None:
            raise fail("EMAP-7.1.3-06", f"push-mode registration without emapTransportAddress; wire: "
                                        f"{describe(create)}")
        problem = base_uri_problem(address or "")
        if problem:
            raise fail("EMAP-7.1.3-06", f"emapTransportAddress {address!r}: {problem}")
    if unfinished:
        raise unfinished


def _creates(trace) -> list:
    return [ex for ex in iut_exchanges(trace, "/EiRegisterParty") if ex.request_message is not None
            and ex.request_message.name == "emapCreatePartyRegistration"]
