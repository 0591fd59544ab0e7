"""OSCORE on the lower side (EMAP-8-02, -07, -08, -09): the reference peer's OSCORE server side (the test cases'
upper stub, ``UpperPeer``) serving the sample lower EMA, the lower-side checks against the sample push-mode
lower EMA and against mutants of its guard, an intermediate EMA with OSCORE upward and NoSec downward, and the
contexts the run provisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_helpers import (
    OSCORE_KEY,
    TIMEOUT,
    accept_unprotected,
    check_intermediate_links,
    needs_oscore,
    oscore_lower_config,
    oscore_stub_link,
)

from conformance.ema.config import Endpoint
from conformance.ema.main import RunningEma
from conformance.ema.security import SecurityGuard
from conformance.messages import build
from conformance.peer.upper import UpperPeer
from conformance.profiles.model import Timing
from conformance.security import LinkSecurity, client_credentials_map
from conformance.security.oscore import provisioned_pair
from conformance.testcases.security.checks import SecureIut, check_oscore_replay, check_unprotected_refused
from conformance.testcases.security.lower_checks import (
    SecureUpperStub,
    announced_address,
    check_client_identity,
    check_foreign_identity,
    distribute_event,
)
from conformance.transport.client import CoapClient
from conformance.transport.trace import Trace
from conformance.verdict import Fail

pytestmark = [needs_oscore, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]
TIMING = Timing(t_prompt_s=2, ack_timeout_s=0.5, max_retransmit=2, backoff_initial_s=1, backoff_cap_s=2)


@pytest.fixture
async def oscore_lower():
    """The sample push-mode lower EMA registered over OSCORE with the test cases' upper stub:
    ``(stub, create request, SecureIut at its transport address)``."""
    stub = await SecureUpperStub(oscore_stub_link(), poll_freq_s=2).start(("127.0.0.1", 0))
    host, port = stub.address
    ema = RunningEma(oscore_lower_config(f"coap://{host}:{port}/emap"))
    try:
        await ema.start()
        create = await stub.next("emapCreatePartyRegistration", TIMEOUT)
        await stub.next("emapRegisterReport", TIMEOUT)  # registered: the link exists at the lower EMA
        yield stub, create, SecureIut(announced_address(create, stub.link), stub.link, TIMEOUT)
    finally:
        await ema.stop()
        await stub.stop()


async def test_sample_lower_passes_clause_8_over_oscore(oscore_lower):
    stub, create, lower = oscore_lower
    assert create.identity == "ven-1"  # protected with the link's context (EMAP-8-02)
    check_client_identity(create, stub.link)
    await check_foreign_identity(lower)
    await check_unprotected_refused(lower, "EiEvent", distribute_event(lower))
    await check_oscore_replay(lower, 0.5, "EiEvent", distribute_event(lower))


async def test_mutant_lower_accepting_unprotected_caught(monkeypatch, oscore_lower):
    _, _, lower = oscore_lower
    accept_unprotected(monkeypatch)
    with pytest.raises(Fail, match="EMAP-8-08"):
        await check_unprotected_refused(lower, "EiEvent", distribute_event(lower))


async def test_mutant_lower_skipping_identity_check_caught(monkeypatch, oscore_lower):
    _, _, lower = oscore_lower
    monkeypatch.setattr(SecurityGuard, "_check_lower", lambda self, role, message, identity: None)
    with pytest.raises(Fail, match="EMAP-8-07"):
        await check_foreign_identity(lower)


def test_unprotected_registration_fails_the_identity_check():
    from conformance.testcases.security.lower_checks import Received

    with pytest.raises(Fail, match="EMAP-8-02: the lower IUT sent an unprotected request on its oscore link"):
        check_client_identity(Received(None, None), oscore_stub_link())


async def test_upper_peer_serves_an_oscore_lower_ema():
    """``UpperPeer`` on an OSCORE link: the sample lower EMA registers protected with the link's context, the
    peer pushes to it with the same context, an unprotected request to the peer gets 4.01."""
    trace = Trace("upper-peer-oscore")
    peer = UpperPeer(trace=trace, timing=TIMING, poll_freq_s=1, credentials=oscore_stub_link())
    try:
        base_uri = await peer.serve_at(("127.0.0.1", 0))
        assert base_uri.startswith("coap://127.0.0.1:")
        ema = RunningEma(oscore_lower_config(base_uri))
        await ema.start()
        try:
            assert await peer.wait_for(lambda: peer.registered and not peer.busy, TIMEOUT)
            assert peer.link.ven_id == "ven-1" and peer.link.transport_address.startswith("coap://")
            pushed = await peer.send(peer.distribute([]))
            assert pushed.code == "2.04"  # accepted: protected with the link's context, from vtn-sample
            client = await CoapClient.create(credentials=client_credentials_map())  # unprotected
            try:
                plain = await client.request(
                    f"{base_uri}/EiRegisterParty", timeout=TIMEOUT, payload=build.query_registration("p-1")
                )
            finally:
                await client.close()
            assert plain.code == "4.01"
        finally:
            await ema.stop()
    finally:
        await peer.stop()
    notes = [note.text for note in trace.notes]
    assert any("as 'ven-1'" in n and "emapCreatePartyRegistration" in n for n in notes)
    assert any("oscore POST coap://" in n and "emapDistributeEvent" in n for n in notes)


async def test_intermediate_uses_each_links_own_profile():
    """EMAP-8-02, Table 8-1 (security is hop by hop): OSCORE towards its upper EMA, NoSec towards its lower
    EMAs."""
    stub = await SecureUpperStub(oscore_stub_link(), poll_freq_s=2).start(("127.0.0.1", 0))
    host, port = stub.address
    await check_intermediate_links(stub, oscore_lower_config(f"coap://{host}:{port}/emap", role="intermediate",
                                                             mode="pull", bind=Endpoint("127.0.0.1", 0, ("emap",))))


def test_provisioned_contexts_are_a_mirrored_pair_outside_the_repository():
    secret = bytes.fromhex(OSCORE_KEY)
    peer, iut = provisioned_pair("vtn-x", secret, 0)
    assert provisioned_pair("vtn-x", secret, 0) == (peer, iut)  # once per process
    repo = Path(__file__).resolve().parents[2]
    assert not Path(peer).resolve().is_relative_to(repo)
    import json

    peer_settings = json.loads((Path(peer) / "settings.json").read_text())
    iut_settings = json.loads((Path(iut) / "settings.json").read_text())
    assert peer_settings["sender-id_hex"] == iut_settings["recipient-id_hex"] == "10"
    assert peer_settings["recipient-id_hex"] == iut_settings["sender-id_hex"] == "20"
    other = provisioned_pair("ven-2", secret, 1)
    assert json.loads((Path(other[0]) / "settings.json").read_text())["sender-id_hex"] == "11"


def test_link_contexts_explicit_or_provisioned(tmp_path):
    provisioned = LinkSecurity.parse(
        {"profile": "oscore", "identity": "ven-1", "psk_hex": OSCORE_KEY, "other_identity": "ven-2",
         "other_psk_hex": OSCORE_KEY}
    )
    assert set(provisioned.iut_contexts()) == {"ven-1", "ven-2"}
    assert provisioned.peer_context("ven-2") != provisioned.peer_context()
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "settings.json").write_text("{}")
    explicit = LinkSecurity.parse(
        {"profile": "oscore", "identity": "ven-1", "oscore_context": str(tmp_path / "p"),
         "iut_oscore_context": str(tmp_path / "p")}
    )
    assert explicit.peer_context() == str(tmp_path / "p") + "/"
    assert explicit.iut_contexts() == {"ven-1": str(tmp_path / "p")}
