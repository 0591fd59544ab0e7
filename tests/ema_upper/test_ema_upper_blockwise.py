"""Sample upper EMA: answers larger than 1024 bytes leave block-wise (EMAP-7.1.1-04)."""

from __future__ import annotations

import json

from conformance.messages import build
from conformance.transport.codec import (
    BLOCK2,
    CON,
    CONTENT_FORMAT,
    URI_PATH,
    CoapDatagram,
    block_value,
    code_text,
    decode,
    encode,
    option_values,
)
from conformance.transport.raw import raw_exchange


async def test_large_answer_is_blockwise(upper):
    ven_id = await upper.registered_pull()
    for n in range(12):
        assert (await upper.stimulate("create-event", {"eventID": f"ev-{n:02d}", "startAfter_s": 60 * n}))[
            "status"
        ] == "accepted"
    answer = await upper.body("EiEvent", build.request_event("re-1", ven_id))
    events = answer["emapDistributeEvent"]["emapEvent"]
    assert [e["eiEvent"]["eventDescriptor"]["eventID"] for e in events] == [f"ev-{n:02d}" for n in range(12)]
    host, port = upper.base.split("//")[1].split("/")[0].rsplit(":", 1)
    options = ((URI_PATH, b"emap"), (URI_PATH, b"EiEvent"), (CONTENT_FORMAT, b"\x32"))
    request = CoapDatagram(
        mtype=CON,
        code=2,
        mid=1,
        token=b"bw",
        options=options,
        payload=json.dumps(build.request_event("re-2", ven_id)).encode(),
    )
    first = decode((await raw_exchange((host, int(port)), encode(request), wait=1.0))[0])
    number, more, szx = block_value(option_values(first, BLOCK2)[0])
    assert (code_text(first.code), number, more) == ("2.04", 0, True)
    assert len(first.payload) == 2 ** (szx + 4) <= 1024
