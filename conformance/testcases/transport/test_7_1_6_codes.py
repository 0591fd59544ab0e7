"""Transport, clause 7.1.6: CoAP response codes (Table 7.1-3) and application results in 2.04."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages import encode
from conformance.testcases.marker import emap_test

from .support import (
    SERVER,
    audit_codes,
    audit_messages_only_in_204,
    block1_gap,
    describe,
    expect_code,
    expect_message,
    fail,
    padded,
)


async def provoke_rows(server, limit: int) -> None:
    """One request per provokable row of Table 7.1-3, each checked for its code (EMAP-7.1.6-01)."""
    resource = server.harmless()[0]

    def fresh() -> bytes:  # a new requestID each time: a cached repeat is answered before all checks
        return encode(server.harmless()[1])

    rows = [
        ("2.04", "a valid message", dict(payload=fresh())),
        ("4.00", "a payload that is not JSON", dict(payload=b"{" + fresh())),
        ("4.04", "a path that is not a resource", dict(path=server.path("NoSuchResource"), payload=fresh())),
        ("4.05", "method PUT", dict(method="PUT", payload=fresh())),
        ("4.06", "Accept 60", dict(payload=fresh(), accept=60)),
        ("4.13", f"a payload of {limit + 1} bytes", dict(payload=padded(server.harmless()[1], limit + 1))),
        ("4.15", "Content-Format 0", dict(payload=fresh(), content_format=0)),
    ]
    for code, what, args in rows:
        path = args.pop("path", server.path(resource))
        expect_code(await server.probe.request(path, **args), code, "EMAP-7.1.6-01", what)
    answers = await block1_gap(server)
    for (code, what), answer in zip((("2.31", "Block1 block 0 of more"), ("4.08", "Block1 block 2 without "
                                                                                   "block 1")), answers, strict=True):
        if answer is None or answer.code_text != code:
            raise fail("EMAP-7.1.6-01", f"{what}: expected {code}, got {answer.code_text if answer else 'nothing'}")


@emap_test("TC-T-7.1.6-01", requirements=["EMAP-7.1.6-01"], applies=SERVER)
async def test_table_codes(server, trace, profile):
    """Each provokable row of Table 7.1-3 (2.04, 2.31, 4.00, 4.04, 4.05, 4.06, 4.08, 4.13, 4.15) gives its code; no
    other code appears."""
    await provoke_rows(server, int(profile.pics.get("max_payload") or 65536))
    audit_codes(trace, "EMAP-7.1.6-01")


def application_error(server) -> tuple[str, dict, str]:
    """A valid request the role must refuse at the application level: (resource, envelope, response name)."""
    if server.side == "U":
        return ("EiRegisterParty", B.cancel_party_registration(server.ids("x"), server.ids("reg"), server.ids("ven")),
                "emapCanceledPartyRegistration")
    resource, message = server.harmless()
    return resource, message, "emapCanceledReport"


@emap_test("TC-T-7.1.6-02", requirements=["EMAP-7.1.6-02"], applies=SERVER)
async def test_application_errors_in_204(server, trace):
    """Application errors come back as 2.04 with a response message carrying the error responseCode; no other
    code carries a message."""
    resource, message, name = application_error(server)
    sent = await server.post(resource, message)
    answer = expect_message(sent, "EMAP-7.1.6-02", f"{next(iter(message))} naming an unknown registration/report",
                            name)
    if answer.response_code == "200":
        raise fail("EMAP-7.1.6-02", f"precondition: the request was accepted (200); wire: {describe(sent.exchange)}")
    expect_code(await server.post(resource, b"{not json"), "4.00", "EMAP-7.1.6-02", "a payload that is not JSON")
    misplaced_resource, misplaced = server.misplaced()
    expect_message(await server.post(misplaced_resource, misplaced), "EMAP-7.1.6-02",
                   f"a valid message at {misplaced_resource}", "emapResponse")
    audit_messages_only_in_204(trace, "EMAP-7.1.6-02")
