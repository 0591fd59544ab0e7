"""A fake EMAP test case that needs the IUT (so the plugin probes or starts it); run in a subprocess only."""

from conformance.testcases.marker import emap_test


@emap_test("TC-F-IUT", requirements=["EMAP-5-02"])
async def test_needs_iut(iut, stimulus, peer_endpoint, profile):
    """Sees the IUT the plugin made ready and reaches the embedded EMA's control resource."""
    assert iut.embedded and iut.role == profile.role and iut.control.startswith("coap://127.0.0.1:")
    if profile.role == "upper":
        assert iut.base_uri.startswith("coap://127.0.0.1:") and peer_endpoint is None
    else:
        assert iut.peer_address == peer_endpoint and iut.peer_uri.endswith(f":{peer_endpoint[1]}/emap")
    outcome = await stimulus.stimulate("poll", {})  # upper: not its action (3); lower, unregistered: refused (4)
    assert outcome.status in ("unsupported", "refused"), outcome
