"""Transport, clause 7.1.4: methods (4.05), Content-Format (4.15), Accept (4.06), 2.04 form, check order, 4.00,
and that a request rejected with a CoAP error has no effect."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages import encode
from conformance.testcases.marker import emap_test

from .support import (
    SERVER,
    audit_204_form,
    expect_code,
    expect_diagnostic,
    expect_message,
    fail,
)

OTHER_METHODS = ("GET", "PUT", "DELETE", "FETCH", "PATCH", "iPATCH")


@emap_test("TC-T-7.1.4-01", requirements=["EMAP-7.1.4-01"], applies=SERVER)
async def test_methods_other_than_post(server):
    """GET, PUT, DELETE, FETCH, PATCH and iPATCH on every resource get 4.05."""
    _, message = server.harmless()
    for resource in server.resources:
        for method in OTHER_METHODS:
            payload = None if method in ("GET", "DELETE") else encode(message)
            sent = await server.probe.request(server.path(resource), method=method, payload=payload)
            expect_code(sent, "4.05", "EMAP-7.1.4-01", f"{method} {resource}")


@emap_test("TC-T-7.1.4-02", requirements=["EMAP-7.1.4-02"], applies=SERVER)
async def test_content_format_checked(server):
    """A request without Content-Format, or with 0 (text/plain) or 60 (CBOR), gets 4.15."""
    for content_format in (None, 0, 60):
        resource, message = server.harmless()
        sent = await server.post(resource, message, content_format=content_format)
        shown = "no Content-Format" if content_format is None else f"Content-Format {content_format}"
        expect_code(sent, "4.15", "EMAP-7.1.4-02", f"POST to {resource} with {shown}")


@emap_test("TC-T-7.1.4-03", requirements=["EMAP-7.1.4-03"], applies=SERVER)
async def test_accept_checked(server):
    """Accept 50 is served; Accept 0 or 60 gets 4.06."""
    resource, message = server.harmless()
    expect_message(await server.post(resource, message, accept=50), "EMAP-7.1.4-03",
                   f"POST to {resource} with Accept 50")
    for accept in (0, 60):
        resource, message = server.harmless()
        sent = await server.post(resource, message, accept=accept)
        expect_code(sent, "4.06", "EMAP-7.1.4-03", f"POST to {resource} with Accept {accept}")


@emap_test("TC-T-7.1.4-04", requirements=["EMAP-7.1.4-04"], applies=SERVER)
async def test_response_form(server, trace, counterparts, stimulus):
    """Responses carrying a message are 2.04 with Content-Format 50; an empty 2.04 (accepted emapResponse) has no
    payload and no Content-Format; 2.05 never appears."""
    resource, message = server.harmless()
    expect_message(await server.post(resource, message), "EMAP-7.1.4-04", f"POST to {resource}")
    if server.side == "U":
        await empty_204_exchange(counterparts.lower, stimulus)
    audit_204_form(trace, "EMAP-7.1.4-04")


async def empty_204_exchange(lower, stimulus) -> None:
    """Make an upper IUT accept a POSTed emapResponse (EMAP-6.1-06): a registered pull-mode lower EMA answers U's
    emapRequestReregistration (stimulus) with one; without the stimulus only the message responses are judged."""
    peer = await lower(pull=True, name="Lempty")
    outcome = await stimulus.stimulate("request-reregistration", {"venID": peer.ven_id})
    if outcome.status == "accepted":
        await peer.receive("emapRequestReregistration", timeout=peer.prompt + peer.poll_interval)


@emap_test("TC-T-7.1.4-05", requirements=["EMAP-7.1.4-05"], applies=SERVER)
async def test_check_order(server, profile):
    """Requests failing two checks get the code of the earlier one: 4.04 > 4.05 > 4.13 > 4.15 > 4.06 > 4.00 >
    application (459)."""
    limit = int(profile.pics.get("max_payload") or 65536)
    resource = server.harmless()[0]
    cases = [
        ("4.04", "GET to an unknown path", dict(path=server.path("EiUnknown"), method="GET")),
        ("4.05", "GET with Content-Format 0 and Accept 0", dict(method="GET", good=True, content_format=0,
                                                               accept=0)),
        ("4.13", "an oversized payload with Content-Format 0", dict(payload=b"x" * (limit + 1), content_format=0)),
        ("4.15", "Content-Format 0 and Accept 0", dict(good=True, content_format=0, accept=0)),
        ("4.06", "Accept 0 and a payload that is not JSON", dict(payload=b"not json", accept=0)),
        ("4.00", "a payload that is not JSON at a resource that accepts none of it",
         dict(path=server.path("EiEvent"), payload=b"{not json")),
    ]
    for code, what, args in cases:
        path = args.pop("path", server.path(resource))
        if args.pop("good", False):  # a fresh message each time: a cached repeat is answered before all checks
            args["payload"] = encode(server.harmless()[1])
        sent = await server.probe.request(path, **args)
        expect_code(sent, code, "EMAP-7.1.4-05", what)
    misplaced_resource, misplaced = server.misplaced()
    answer = expect_message(await server.post(misplaced_resource, misplaced), "EMAP-7.1.4-05",
                            f"a valid message at {misplaced_resource} (application step 1)", "emapResponse")
    if answer.response_code != "459":
        raise fail("EMAP-7.1.4-05", f"a valid message at {misplaced_resource} answered responseCode "
                                    f"{answer.response_code}, expected 459 (Table 6.1-4 step 1)")


#: Payloads that fail EMAP-7.1.4-06, each with what is wrong.
def bad_payloads(server) -> list[tuple[str, bytes]]:
    _, message = server.harmless()
    name = next(iter(message))
    good = encode(message)
    body = message[name]
    return [
        ("not UTF-8", b'{"' + name.encode() + b'": {"requestID": "\xff\xfe"}}'),
        ("a byte-order mark", b"\xef\xbb\xbf" + good),
        ("not JSON", b"{" + good),
        ("duplicate member names", b'{"' + name.encode() + b'": ' + encode(body) + b', "' + name.encode() + b'": '
         + encode(body) + b"}"),
        ("two envelopes", encode({name: body, "emapPoll": {"venID": "ven-x"}})),
        ("an unknown message", encode({"emapUnknownMessage": body})),
        ("a schema failure (no requestID)", encode({name: {k: v for k, v in body.items() if k != "requestID"}})),
        ("a JSON array", b"[" + good + b"]"),
    ]


@emap_test("TC-T-7.1.4-06", requirements=["EMAP-7.1.4-06"], applies=SERVER)
async def test_bad_payload_400(server):
    """Not UTF-8, a BOM, not JSON, duplicate members, two envelopes, an unknown message and a schema failure each
    get 4.00 with a UTF-8 diagnostic and no Content-Format."""
    resource, _ = server.harmless()
    for what, payload in bad_payloads(server):
        sent = await server.post(resource, payload)
        exchange = expect_code(sent, "4.00", "EMAP-7.1.4-06", f"payload with {what}")
        expect_diagnostic(exchange, "EMAP-7.1.4-06", f"payload with {what}")


@emap_test("TC-T-7.1.4-07", requirements=["EMAP-7.1.4-07"], applies=SERVER)
async def test_rejected_request_not_executed(server, link_or_none):
    """A request the IUT answered with a CoAP error code was not executed (no registration, no re-registration)."""
    rejections = (("4.15", dict(content_format=0)), ("4.06", dict(accept=0)))
    if server.side == "U":
        for code, args in rejections:
            ven_id = server.ids("ven")
            create = B.create_party_registration(server.ids("c"), ven_id=ven_id, ven_name="rejected")
            expect_code(await server.post("EiRegisterParty", create, **args), code, "EMAP-7.1.4-07",
                        f"emapCreatePartyRegistration provoking {code}")
            query = expect_message(
                await server.post("EiRegisterParty", B.query_registration(server.ids("q"), ven_id)),
                "EMAP-7.1.4-07", "emapQueryRegistration", "emapCreatedPartyRegistration")
            if "registrationID" in query.body:
                raise fail("EMAP-7.1.4-07", f"the emapCreatePartyRegistration answered {code} registered "
                                            f"venID {ven_id!r}")
        return
    link = link_or_none
    before = link.peer.registrations
    for code, args in rejections:
        expect_code(await server.post("EiRegisterParty", B.request_reregistration(link.peer.ven_id), **args), code,
                    "EMAP-7.1.4-07", f"emapRequestReregistration provoking {code}")
    await link.observe(link.prompt)
    if link.peer.registrations != before:
        raise fail("EMAP-7.1.4-07", "the IUT re-registered after an emapRequestReregistration it rejected")
