"""Sample EMA front door: CoAP-level checks in the order of EMAP-7.1.4-05, cached repeats (EMAP-7.1.5-07),
459 (EMAP-7.1.3-05), payload limit (EMAP-7.1.5-10)."""

from __future__ import annotations

import json

from ema_upper_peer import code_of

from conformance.messages import build
from conformance.transport.codec import (
    BLOCK1,
    CON,
    CONTENT_FORMAT,
    URI_PATH,
    CoapDatagram,
    code_text,
    decode,
    encode,
)
from conformance.transport.raw import raw_exchange


async def test_coap_level_codes(upper):
    query = build.query_registration("q-1")
    wrong_case = await upper.post("eiregisterparty", query)
    assert wrong_case.code == "4.04" and b"EiRegisterParty" in wrong_case.payload
    assert wrong_case.content_format is None
    assert (await upper.post("EiRegisterParty", query, method="GET")).code == "4.05"
    assert (await upper.post("EiRegisterParty", query, method="PUT")).code == "4.05"
    assert (await upper.post("EiRegisterParty", query, content_format=0)).code == "4.15"
    assert (await upper.post("EiRegisterParty", query, content_format=None)).code == "4.15"
    assert (await upper.post("EiRegisterParty", query, accept=0)).code == "4.06"
    bad = await upper.post("EiRegisterParty", b'{"emapQueryRegistration": {}}')
    assert bad.code == "4.00" and b"requestID" in bad.payload and bad.content_format is None
    assert (await upper.post("EiRegisterParty", b"\xff")).code == "4.00"
    ok = await upper.post("EiRegisterParty", query, accept=50, query=["x=1"])  # Uri-Query ignored
    assert ok.code == "2.04" and ok.content_format == 50


async def test_wrong_resource_is_459(upper):
    answer = await upper.body("EiOpt", build.query_registration("q-1"))
    assert list(answer) == ["emapResponse"] and code_of(answer) == "459"
    assert answer["emapResponse"]["eiResponse"]["requestID"] == "q-1"


async def test_cached_repeat_answers_identically(upper):
    """EMAP-7.1.5-07: the same message, same peer and resource: same answer, not executed again."""
    ven_id = await upper.registered_pull()
    opt = build.create_opt("co-1", ven_id, "o-1", "optOut", availability=[("2030-01-01T00:00:00Z", "PT1H")])
    first = await upper.post("EiOpt", opt)
    cancel = await upper.body("EiOpt", build.cancel_opt("xo-1", ven_id, "o-1"))
    assert code_of(cancel) == "200"
    repeat = await upper.post("EiOpt", opt, fresh=True)  # new source port, same peer (venID)
    assert repeat.payload == first.payload
    assert (
        code_of(await upper.body("EiOpt", build.cancel_opt("xo-2", ven_id, "o-1"))) == "452"
    )  # not re-created
    changed = json.loads(json.dumps(opt))
    changed["emapCreateOpt"]["optType"] = "optIn"
    assert code_of(await upper.body("EiOpt", changed)) == "200"


async def test_payload_limit(upper):
    """EMAP-7.1.5-10: exactly the limit is accepted (block-wise), one byte more is 4.13 with Size1."""
    limit = upper.running.config.max_payload
    envelope = {"emapQueryRegistration": {"requestID": "q-big", "pad": ""}}
    envelope["emapQueryRegistration"]["pad"] = "x" * (
        limit - len(json.dumps(envelope, separators=(",", ":")))
    )
    payload = json.dumps(envelope, separators=(",", ":")).encode()
    assert len(payload) == limit
    assert (await upper.post("EiRegisterParty", payload)).code == "2.04"
    too_big = await upper.post("EiRegisterParty", payload + b" ")
    assert (too_big.code, too_big.size1) == ("4.13", limit)


async def test_malformed_datagrams_do_not_hurt(upper):
    """EMAP-7.1.5-13: garbage and a truncated header are ignored; the next request is served."""
    host, port = upper.base.split("//")[1].split("/")[0].rsplit(":", 1)
    address = (host, int(port))
    for junk in (b"\x00", b"\xff" * 3, b"\x40"):
        await raw_exchange(address, junk, wait=0.1)
    datagram = CoapDatagram(
        mtype=CON,
        code=2,
        mid=7,
        token=b"t",
        options=((URI_PATH, b"emap"), (URI_PATH, b"EmapPoll")),
        payload=b"",
    )
    replies = await raw_exchange(address, encode(datagram), wait=1.0)
    assert replies and decode(replies[0]).code != 0
    assert (await upper.post("EiRegisterParty", build.query_registration("q-1"))).code == "2.04"


async def test_unrecognized_critical_option_is_4_02(upper):
    """Table 7.1-3, RFC 7252 section 5.4.1; an unknown elective option is ignored."""
    host, port = upper.base.split("//")[1].split("/")[0].rsplit(":", 1)
    payload = json.dumps(build.query_registration("q-1")).encode()
    codes = []
    for extra in (2049, 2048):
        options = sorted(
            ((URI_PATH, b"emap"), (URI_PATH, b"EiRegisterParty"), (CONTENT_FORMAT, b"\x32"), (extra, b"x")),
            key=lambda option: option[0],
        )
        datagram = CoapDatagram(
            mtype=CON, code=2, mid=extra, token=b"tk", options=tuple(options), payload=payload
        )
        replies = await raw_exchange((host, int(port)), encode(datagram), wait=1.0)
        codes.append(code_text(decode(replies[0]).code))
    assert codes == ["4.02", "2.04"]


async def test_format_errors_are_dropped_and_block_gaps_4_08(upper):
    """EMAP-7.1.5-13: a payload marker without payload is ignored; EMAP-7.1.5-10: a Block1 gap is 4.08."""
    host, port = upper.base.split("//")[1].split("/")[0].rsplit(":", 1)
    address = (host, int(port))
    path = ((URI_PATH, b"emap"), (URI_PATH, b"EiRegisterParty"), (CONTENT_FORMAT, b"\x32"))
    empty = CoapDatagram(mtype=CON, code=2, mid=40, token=b"e", options=path, payload=b"")
    assert await raw_exchange(address, encode(empty) + b"\xff", wait=0.5) == []
    body = json.dumps({"emapQueryRegistration": {"requestID": "q-gap", "pad": "x" * 3000}}).encode()
    codes = []
    for number in (0, 2):
        block = (BLOCK1, bytes([(number << 4) | 0x08 | 6]))
        datagram = CoapDatagram(
            mtype=CON,
            code=2,
            mid=41 + number,
            token=b"g",
            options=path + (block,),
            payload=body[number * 1024 : (number + 1) * 1024],
        )
        codes.append(code_text(decode((await raw_exchange(address, encode(datagram), wait=1.0))[0]).code))
    assert codes == ["2.31", "4.08"]
