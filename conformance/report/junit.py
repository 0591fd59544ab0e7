"""junit.xml: one testsuite per run, one testcase per test, requirement ids and clause as properties.

Verdict mapping: fail -> <failure>, error -> <error>, not-applicable -> <skipped>, inconclusive ->
<skipped type="inconclusive"> (a CI dashboard shows it; the exit code, not JUnit, gates the run), waived ->
passed with the waiver in <system-out>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.report.results import runs_of, summarise

_OUTCOME_ELEMENT = {
    "fail": "failure",
    "error": "error",
    "not-applicable": "skipped",
    "inconclusive": "skipped",
}


def render_junit(results: dict) -> bytes:
    """The JUnit XML document for ``results`` (UTF-8 bytes with an XML declaration)."""
    root = ET.Element("testsuites", name="emap-conformance")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    total_time = 0.0
    for run in runs_of(results):
        suite = _suite(run)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key))
        total_time += float(suite.get("time"))
    root.attrib.update({key: str(value) for key, value in totals.items()})
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _suite(run: dict) -> ET.Element:
    profile = run["profile"]["name"]
    tests = run["tests"]
    summary = summarise(tests)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"emap-conformance[{profile}]",
            "tests": str(len(tests)),
            "failures": str(summary["fail"]),
            "errors": str(summary["error"]),
            "skipped": str(summary["not-applicable"] + summary["inconclusive"]),
            "time": f"{sum(t['duration_s'] for t in tests):.3f}",
            "timestamp": run["started"],
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("profile", profile),
        ("iut.role", run["iut"]["role"]),
        ("iut.uri", run["iut"].get("uri")),
        ("iut.mode", run["iut"].get("mode")),
        ("seed", run["seed"]),
        ("suite.version", run["suite"]["version"]),
    ):
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=str(value))
    for problem in run.get("baseline_problems", []):
        ET.SubElement(properties, "property", name="baseline.problem", value=problem)
    for test in tests:
        suite.append(_case(test, profile))
    return suite


def _case(test: dict, profile: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "name": test["id"],
            "classname": f"emap.{profile}.clause-{test['clause']}",
            "time": f"{test['duration_s']:.3f}",
        },
    )
    properties = ET.SubElement(case, "properties")
    for requirement_id in test["requirements"]:
        ET.SubElement(properties, "property", name="requirement", value=requirement_id)
    ET.SubElement(properties, "property", name="clause", value=test["clause"])
    ET.SubElement(properties, "property", name="verdict", value=test["verdict"])
    if test.get("advisory"):
        ET.SubElement(properties, "property", name="advisory", value="true")
    if "purpose" in test:
        ET.SubElement(properties, "property", name="purpose", value=test["purpose"])
    element = _OUTCOME_ELEMENT.get(test["verdict"])
    if element is not None:
        outcome = ET.SubElement(case, element, message=test["reason"], type=test["verdict"])
        outcome.text = test["reason"]
    out = [f"advisory: {text}" for text in test.get("advisories", [])]
    if "waiver" in test:
        out.insert(
            0,
            f"waived until {test['waiver']['expires']}: {test['waiver']['reason']} "
            f"(failure: {test['reason']})",
        )
    if test.get("trace"):
        out.append(f"trace: {test['trace']}")
    if out:
        ET.SubElement(case, "system-out").text = "\n".join(out)
    return case
