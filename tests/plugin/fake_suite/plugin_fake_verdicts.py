"""Fake EMAP test cases, one per way a test can end; run by tests/plugin in a pytest subprocess only.

The file name does not match ``test_*.py`` so the project's own test run never collects it.
"""

from conformance.testcases.marker import emap_test
from conformance.verdict import Fail, Inconclusive, NotApplicable


@emap_test("TC-F-PASS", requirements=["EMAP-6.2.3-04"])
async def test_pass(trace, profile, timing, seed, fuzz, emap_case):
    """Passes and notes the fixtures it saw in its trace."""
    trace.note(f"{emap_case.id} {profile.name} seed={seed} examples={fuzz.examples} t_prompt={timing.t_prompt_s}")


@emap_test("TC-F-FAIL", requirements=["EMAP-6.2.3-04", "EMAP-5-02"])
async def test_fail():
    """Fails with a Fail naming the requirement."""
    raise Fail("EMAP-6.2.3-04: answered 4.00 instead of 2.04\nsecond line")


@emap_test("TC-F-ASSERT", requirements=["EMAP-5-02"])
def test_assert():
    """Fails with a plain assert."""
    assert 1 + 1 == 3, "EMAP-5-02: the sum is wrong"


@emap_test("TC-F-INCONCLUSIVE", requirements=["EMAP-5-03"])
def test_inconclusive():
    """Cannot decide."""
    raise Inconclusive("no stimulus available")


@emap_test("TC-F-NA-PROFILE", requirements=["EMAP-5-03"], applies='role == "lower"')
def test_not_applicable_by_profile():
    """Excluded by the profile: the body never runs."""
    raise RuntimeError("the body of a not-applicable test ran")


@emap_test("TC-F-NA-RAISED", requirements=["EMAP-5-03"])
def test_not_applicable_raised():
    """Finds out itself that it does not apply."""
    raise NotApplicable("the IUT declares no such feature")


@emap_test("TC-F-ERROR", requirements=["EMAP-5-04"])
def test_error():
    """A fault of the suite, never of the IUT."""
    raise KeyError("suite bug")


@emap_test("TC-F-SHOULD", requirements=["EMAP-6.1-11"])
def test_should_level_failure():
    """Fails a should-level requirement only (advisory unless --strict)."""
    raise Fail("EMAP-6.1-11: no responseDescription")
