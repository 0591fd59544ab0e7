"""Interop with a CoAP stack we did not write: libcoap's coap-client-notls POSTs EMAP messages to the sample EMA."""

from __future__ import annotations

from conformance.messages import validate

QUERY = '{"emapQueryRegistration":{"requestID":"q-libcoap"}}'


async def test_libcoap_client_gets_a_valid_answer(upper, require_tool, tool_runner, tmp_path):
    """EMAP-6.2.2-03, EMAP-7.1.4-04: a query from libcoap is answered 2.04 with a valid emapCreatedPartyRegistration."""
    client = require_tool("coap-client-notls")
    answer = tmp_path / "answer.json"
    code, _, err = await tool_runner(client, "-m", "post", "-t", "50", "-e", QUERY, "-B", "5", "-o", str(answer),
                                     f"{upper.base}/EiRegisterParty")
    assert code == 0 and not err.strip(), err  # coap-client prints error codes on stderr
    message = validate(answer.read_bytes(), posted=False)
    assert message.name == "emapCreatedPartyRegistration" and message.response_code == "200"
    assert message.body["eiResponse"]["requestID"] == "q-libcoap"


async def test_libcoap_client_with_wrong_content_format_gets_4_15(upper, require_tool, tool_runner):
    """EMAP-7.1.4-02: text/plain (Content-Format 0) is answered 4.15."""
    client = require_tool("coap-client-notls")
    _, _, err = await tool_runner(client, "-m", "post", "-t", "0", "-e", QUERY, "-B", "5",
                                  f"{upper.base}/EiRegisterParty")
    assert err.strip().startswith("4.15"), err
