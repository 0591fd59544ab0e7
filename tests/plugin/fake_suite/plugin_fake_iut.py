"""A fake EMAP test case that needs the IUT (so the plugin probes or starts it); run in a subprocess only."""

from conformance.testcases.marker import emap_test


@emap_test("TC-F-IUT", requirements=["EMAP-5-02"])
async def test_needs_iut(iut):
    """Needs the IUT."""
    assert iut.base_uri
