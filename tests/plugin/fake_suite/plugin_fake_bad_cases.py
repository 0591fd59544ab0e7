"""Fake EMAP test cases with definition errors the plugin must refuse at collection; run in a subprocess only."""

from conformance.testcases.marker import emap_test


@emap_test("TC-B-UNKNOWN", requirements=["EMAP-9.9-99"])
def test_unknown_requirement():
    """Names a requirement id that is not in the catalogue."""


@emap_test("TC-B-TWICE", requirements=["EMAP-5-02"])
def test_first():
    """First use of an id."""


@emap_test("TC-B-TWICE", requirements=["EMAP-5-02"])
def test_second():
    """Second use of the same id."""


@emap_test("TC-B-NODOC", requirements=["EMAP-5-02"])
def test_without_docstring():
    pass
