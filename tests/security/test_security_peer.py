"""The reference peer on a DTLS-PSK link (clause 8): ``LowerPeer`` against the sample upper EMA, ``UpperPeer``
serving the sample push-mode lower EMA and pushing to it; protected exchanges are noted in the trace."""

from __future__ import annotations

import pytest
from security_helpers import link_of, lower_config, needs_dtls, stub_link

from conformance.ema.main import RunningEma
from conformance.messages import build
from conformance.peer import LowerPeer, PeerError
from conformance.peer.upper import UpperPeer
from conformance.profiles.model import Timing
from conformance.transport.trace import Trace

TIMING = Timing(t_prompt_s=2, ack_timeout_s=0.5, max_retransmit=2, backoff_initial_s=1, backoff_cap_s=2)
WAIT = 10.0

pytestmark = needs_dtls


async def test_lower_peer_registers_over_dtls_as_its_psk_identity(dtls_upper):
    secure, _ema = dtls_upper
    trace = Trace("peer-dtls")
    async with LowerPeer(trace=trace, timing=TIMING, iut_uri=secure.base_uri,
                         credentials=link_of(secure.base_uri)) as peer:
        posted = await peer.register()
        assert posted.code == "2.04" and posted.message.response_code == "200"
        assert peer.ven_id == "ven-1"  # attributed to the PSK identity (EMAP-8-06)
        assert (await peer.poll()).message.name == "emapRegisterReport"  # EMAP-6.2.3-11, delivered by poll
        with pytest.raises(PeerError, match="NoSec"):
            await peer.send_raw([b"\x40\x02\x00\x01"])
    assert not trace.records  # a relay could only have recorded ciphertext
    notes = _notes(trace)
    assert any("dtls-psk POST" in n and "emapCreatePartyRegistration" in n and "2.04" in n for n in notes)


async def test_lower_peer_without_credentials_gets_no_dtls_answer(dtls_upper):
    secure, _ema = dtls_upper
    async with LowerPeer(trace=Trace("nosec"), timing=TIMING, iut_uri=secure.base_uri) as peer:
        with pytest.raises(Exception):  # noqa: B017 (plain CoAP to a coaps URI: no transport for it)
            await peer.post("EiRegisterParty", build.query_registration("q-1"), timeout=2)


async def test_upper_peer_serves_and_pushes_over_dtls():
    trace = Trace("upper-peer-dtls")
    peer = UpperPeer(trace=trace, timing=TIMING, poll_freq_s=1, credentials=stub_link())
    assert peer.vtn_id == "vtn-sample"  # its PSK identity (EMAP-8-05)
    try:
        base_uri = await peer.serve_at(("127.0.0.1", 0))
        assert base_uri.startswith("coaps://127.0.0.1:")
        ema = RunningEma(lower_config(base_uri))
        await ema.start()
        try:
            assert await peer.wait_for(lambda: peer.registered and not peer.busy, WAIT)
            assert peer.link.ven_id == "ven-1" and not peer.link.pull
            assert peer.link.transport_address.startswith("coaps://")
            create = await peer.next_request("emapCreatePartyRegistration", timeout=WAIT)
            assert create is not None
            pushed = await peer.send(peer.distribute([]))
            assert pushed.code == "2.04" and pushed.message is not None  # accepted from identity vtn-sample
        finally:
            await ema.stop()
    finally:
        await peer.stop()
    notes = _notes(trace)
    assert any("as 'ven-1'" in n and "emapCreatePartyRegistration" in n for n in notes)
    assert any("dtls-psk POST coaps://" in n and "emapDistributeEvent" in n for n in notes)


def _notes(trace: Trace) -> list[str]:
    return [note.text for note in trace.notes]


def test_embedded_plain_uri_is_one_port_below():
    from conformance.testcases.security.conftest import plain_uri

    assert plain_uri("coaps://127.0.0.1:40271/emap") == "coap://127.0.0.1:40270/emap"
