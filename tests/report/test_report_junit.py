"""junit.xml: one testcase per test, requirement and clause properties, verdicts mapped to JUnit outcomes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from report_samples import sample_run

from conformance.report.baseline import Baseline, Waiver, apply_baseline
from conformance.report.junit import render_junit


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in root.iter("testcase")}


def _properties(case: ET.Element) -> list[tuple[str, str]]:
    return [(p.get("name"), p.get("value")) for p in case.find("properties")]


def test_one_testcase_per_test_with_requirements_and_clause(results):
    root = ET.fromstring(render_junit(results))
    assert root.tag == "testsuites"
    cases = _cases(root)
    assert list(cases) == [t["id"] for t in results["tests"]]
    props = _properties(cases["TC-U-6.2.2-01"])
    assert ("requirement", "EMAP-6.2.2-01") in props and ("requirement", "EMAP-6.2.2-02") in props
    assert ("clause", "6.2.2") in props and ("verdict", "fail") in props
    assert cases["TC-U-6.2.2-01"].get("classname") == "emap.upper.clause-6.2.2"
    assert cases["TC-U-6.2.2-01"].get("time") == "0.250"


def test_verdicts_map_to_junit_outcomes(results):
    cases = _cases(ET.fromstring(render_junit(results)))
    outcome = {
        name: [child.tag for child in case if child.tag not in ("properties", "system-out")]
        for name, case in cases.items()
    }
    assert outcome == {
        "TC-U-6.2.1-01": [],
        "TC-U-6.2.2-01": ["failure"],
        "TC-U-6.3.1-01": ["skipped"],
        "TC-U-7.1.4-01": ["error"],
        "TC-L-6.2.4-01": ["skipped"],
    }
    failure = cases["TC-U-6.2.2-01"].find("failure")
    assert failure.get("message") == "EMAP-6.2.2-01: expected 2.04, got 4.00"
    assert cases["TC-U-6.3.1-01"].find("skipped").get("type") == "inconclusive"
    assert "advisory: EMAP-6.3.1-02" in cases["TC-U-6.3.1-01"].find("system-out").text


def test_suite_counts_and_multi_run(results):
    root = ET.fromstring(render_junit({"runs": [results, sample_run("lower-pull")]}))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["emap-conformance[upper]", "emap-conformance[lower-pull]"]
    assert (
        suites[0].get("tests"),
        suites[0].get("failures"),
        suites[0].get("errors"),
        suites[0].get("skipped"),
    ) == ("5", "1", "1", "2")
    assert root.get("tests") == "10" and root.get("failures") == "2"
    assert ("seed", "1234") in _properties(suites[0])


def test_waived_test_passes_with_the_waiver_in_system_out(results):
    apply_baseline(
        results, Baseline(None, (Waiver("TC-U-6.2.2-01", "ticket 17", date(2027, 1, 1)),)), date(2026, 11, 26)
    )
    case = _cases(ET.fromstring(render_junit(results)))["TC-U-6.2.2-01"]
    assert case.find("failure") is None
    assert "waived until 2027-01-01: ticket 17" in case.find("system-out").text
    assert ET.fromstring(render_junit(results)).find("testsuite").get("failures") == "0"
