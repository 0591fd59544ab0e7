"""conformance.html: content rendered from results and traces, self-contained, escaped."""

from __future__ import annotations

import base64
import json
from datetime import date
from html.parser import HTMLParser

import pytest
from report_samples import NOTE, sample_run

from conformance.report import write_reports
from conformance.report.baseline import Baseline, Waiver, apply_baseline
from conformance.report.html import render_html
from conformance.report.traces import load_traces


class _Page(HTMLParser):
    """Collects elements by id and class, external references, and the text of the page."""

    def __init__(self, html: str):
        super().__init__()
        self.ids, self.classes, self.references, self.text = set(), [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.add(attrs.get("id"))
        self.classes += (attrs.get("class") or "").split()
        self.references += [(tag, attrs[name]) for name in ("src", "href") if name in attrs]

    def handle_data(self, data):
        self.text.append(data)


def _render(results: dict, report_dir) -> tuple[str, _Page]:
    from conformance.report.results import runs_of

    html = render_html(results, load_traces(runs_of(results), report_dir))
    return html, _Page(html)


def test_page_shows_summary_identity_profile_matrix_and_tests(results, report_dir):
    html, page = _render(results, report_dir)
    assert {"overall", "summary", "run1", "run1-TC-U-6.2.2-01"} <= page.ids
    assert 'data-verdict="error"' in html  # worst verdict of the run
    text = " ".join(page.text)
    for expected in (
        "coap://127.0.0.1:5683/emap",
        "1.2.3",
        "1234",
        "Purpose of TC-U-6.2.2-01.",
        "EMAP-6.2.2-01: expected 2.04, got 4.00",
        "EMAP-A-04",
        "NOT TESTED",
        "Clause 6.2.2",
        "Clause A",
        "emap-conformance 0.1.0",
        NOTE,
    ):
        assert expected in text, expected
    assert text.index("Clause 6.2.1") < text.index("Clause 7.1.4") < text.index("Clause A")


def test_sequence_chart_drawn_from_the_trace(results, report_dir):
    html, page = _render(results, report_dir)
    assert page.classes.count("msc") == 3  # the three tests with datagrams
    assert page.classes.count("to-iut") >= 4 and page.classes.count("from-iut") >= 4
    assert "CON POST MID 4097 tok a1 /emap/EiRegisterParty" in html
    assert "emapCreatedPartyRegistration requestID=req-1" in html
    assert "undecodable datagram: short header" in html
    assert 'marker-end="url(#msc-head-to-iut)"' in html and 'id="msc-head-to-iut"' in html


def test_missing_trace_and_empty_trace_are_explained(results, report_dir):
    html, _ = _render(results, report_dir)
    assert "No message sequence chart: no trace recorded." in html
    assert "No message sequence chart: the test exchanged no datagrams." in html
    (report_dir / "trace" / "TC-U-6.2.1-01.jsonl").unlink()
    html, _ = _render(results, report_dir)
    assert "trace file trace/TC-U-6.2.1-01.jsonl not found" in html


def test_page_is_self_contained(results, report_dir):
    html, page = _render(results, report_dir)
    local = ("#", "data:", "trace/")  # in-page anchors, the profile download, the trace files beside the page
    assert all(ref.startswith(local) for _, ref in page.references), page.references
    assert "<link" not in html and "@import" not in html and "url(http" not in html


def test_profile_is_exportable_as_a_data_uri(results, report_dir):
    _, page = _render(results, report_dir)
    uri = next(ref for tag, ref in page.references if ref.startswith("data:application/json;base64,"))
    assert json.loads(base64.b64decode(uri.split(",", 1)[1])) == results["profile"]


def test_text_from_results_is_escaped(results, report_dir):
    results["tests"][3]["reason"] = "<script>alert(1)</script>"
    html, _ = _render(results, report_dir)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_fuzz_timing_waivers_and_advisories(results, report_dir):
    apply_baseline(
        results,
        Baseline(
            None,
            (
                Waiver("TC-U-6.2.2-01", "ticket 17", date(2027, 1, 1)),
                Waiver("TC-U-6.2.1-01", "stale", date(2027, 1, 1)),
            ),
        ),
        date(2026, 11, 26),
    )
    html, page = _render(results, report_dir)
    assert "run1-fuzz" in page.ids and "EiEvent" in html
    assert "/emap/EiRegisterParty" in html and "median ms" in html
    assert "ticket 17" in html and "2027-01-01" in html
    assert "passes but is listed in the baseline" in html  # baseline problem shown
    assert "EMAP-6.3.1-02: separate response where piggy-backed was possible" in html
    del results["fuzz"]
    assert "run1-fuzz" not in _render(results, report_dir)[1].ids


@pytest.mark.parametrize("overall", ["pass", "waived"])
def test_overall_verdict_of_a_clean_run(results, report_dir, overall):
    for test in results["tests"]:
        test["verdict"] = "pass"
    results["tests"][1]["verdict"] = overall
    html, _ = _render(results, report_dir)
    assert f'data-verdict="{overall}"' in html


def test_several_runs_in_one_report(report_dir):
    results = {"runs": [sample_run("upper"), sample_run("lower-pull")]}
    write_reports(results, report_dir)
    page = _Page((report_dir / "conformance.html").read_text())
    assert {"run1", "run2", "run1-TC-U-6.2.2-01", "run2-TC-U-6.2.2-01"} <= page.ids
    assert "lower-pull" in " ".join(page.text)


def test_aborted_run_and_advisory_tests_are_marked(results, report_dir):
    results["aborted"] = "IUT unreachable at start: no answer from coap://127.0.0.1:5683/emap"
    results["tests"][2]["advisory"] = True
    html, page = _render(results, report_dir)
    assert "run1-aborted" in page.ids and "IUT unreachable at start" in html
    assert "advisory: does not decide the exit status" in html


def test_run_without_tests_renders(results, report_dir):
    results["tests"] = []
    del results["fuzz"]
    html, page = _render(results, report_dir)
    assert 'data-verdict="not-applicable"' in html and "No request/response exchanges" in html


def test_hostile_payloads_and_reasons_do_not_break_the_writer(results, report_dir):
    """A lone surrogate in a reason and a payload nested deeper than the JSON parser goes are still reported."""
    from report_samples import write_trace

    from conformance.transport import codec
    from conformance.transport.trace import TO_IUT

    deep = b"[" * 5000 + b"]" * 5000
    post = codec.encode(
        codec.request("POST", "/emap/EiEvent", mid=7, token=b"\x07", payload=deep, content_format=50)
    )
    test = results["tests"][0]
    write_trace(report_dir / test["trace"], test["id"], [(0.01, TO_IUT, post)])
    test["reason"] = "answered with '\ud800'"
    write_reports(results, report_dir)
    stored = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert stored["tests"][0]["reason"] == "answered with '\ud800'"
    assert "EiEvent" in (report_dir / "conformance.html").read_text(encoding="utf-8")
