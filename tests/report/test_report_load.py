"""The "Community load" section of conformance.html, rendered from a run's ``load`` section (docs/load.md)."""

from __future__ import annotations

import copy
import html as entities
import json
import re
from html.parser import HTMLParser

import pytest
from report_samples import LOAD_TIMELINE, sample_load_run, sample_load_section

from conformance.report import ResultsError, main, validate_results, write_reports
from conformance.report.html import render_html
from conformance.report.load_chart import MAX_X_TICKS, latency_chart, throughput_chart
from conformance.report.load_view import error_kind
from conformance.report.results import runs_of
from conformance.report.traces import load_traces


class _Svg(HTMLParser):
    """Polylines (series name -> points), bars and the other elements of the page, by tag."""

    def __init__(self, html: str):
        super().__init__()
        self.series: dict[str, dict[str, int]] = {}  # chart id -> series name -> points
        self.bars: dict[str, list[str]] = {}  # chart id -> bar kinds
        self.references: list[str] = []
        self._chart: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.references += [attrs[name] for name in ("src", "href") if name in attrs]
        if tag == "svg" and "load-chart" in (attrs.get("class") or ""):
            self._chart = attrs["id"]
            self.series[self._chart], self.bars[self._chart] = {}, []
        elif tag == "polyline" and self._chart:
            points = attrs["points"].split()
            assert len(points) == int(attrs["data-points"])
            self.series[self._chart][attrs["data-series"]] = len(points)
        elif tag == "rect" and self._chart and "bar" in attrs.get("class", "").split():
            self.bars[self._chart].append(attrs["class"].split()[-1])

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None


@pytest.fixture
def load_run() -> dict:
    return copy.deepcopy(sample_load_run())


def _html(results: dict, report_dir) -> str:
    return render_html(results, load_traces(runs_of(results), report_dir))


def _text(html: str) -> str:
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_load_run_validates_and_a_broken_load_member_is_named(load_run):
    validate_results(load_run)
    load_run["load"]["resources"]["EmapPoll"]["latency_ms"]["p50"] = "3 ms"
    with pytest.raises(ResultsError, match=r"^results: /load/resources/EmapPoll/latency_ms/p50: "):
        validate_results(load_run)
    del load_run["load"]["timeline"]
    with pytest.raises(ResultsError, match=r"^results: /load: 'timeline' is a required property"):
        validate_results(load_run)


def test_parameters_throughput_and_sampling_note(load_run, tmp_path):
    text = _text(_html(load_run, tmp_path))
    for expected in (
        "Community load",
        "200 (160 pull, 40 push)",
        "pull=0.8, push=0.2, opt=0.1, report=0.05, event=0.1",
        "10.02 s measured, 12.5 s wall clock; starts spread over 4.0 s",
        "130.0 exchanges/s (1303 in 10.02 s)",
        "1503 (200 after the stop: the final cancellations)",
        "6 (0.40 %)",
        "198 of 200 lower EMAs (201 registrations)",
        "create-event: 2 accepted",
        "to 50 of the 200 lower EMAs: 640 messages",
    ):
        assert expected in text, expected


def test_latency_percentiles_per_resource(load_run, tmp_path):
    html = _html(load_run, tmp_path)
    rows = re.findall(
        r"<tr><td><code>(\w+)</code></td>(.*?)</tr>",
        html.split('class="grid load-resources"')[1].split("</table>")[0],
        re.S,
    )
    cells = {resource: re.findall(r'<td class="num">([^<]*)</td>', rest) for resource, rest in rows}
    assert list(cells) == ["EiRegisterParty", "EmapPoll", "EiOpt"]
    assert cells["EmapPoll"] == ["899", "89.9", "3.2", "13.0", "29.2", "65.0", "6.5"]  # p50 p90 p99 max mean
    assert cells["EiOpt"][2:] == ["\u2013"] * 5  # no latency measured: a dash, not 0


def test_latency_and_throughput_charts_have_one_point_per_measured_second(load_run, tmp_path):
    svg = _Svg(_html(load_run, tmp_path))
    measured = sum(1 for row in LOAD_TIMELINE if row["p50_ms"] is not None)
    assert svg.series["run1-load-latency"] == {"p50": measured, "p99": measured} and measured == 10
    failing_seconds = sum(1 for row in LOAD_TIMELINE if row["failed"])
    assert (
        svg.bars["run1-load-throughput"].count("bar-ok") == len(LOAD_TIMELINE) - 1
    )  # second 6: failures only
    assert svg.bars["run1-load-throughput"].count("bar-failed") == failing_seconds == 2
    assert all(ref.startswith(("#", "data:")) for ref in svg.references)  # still one self-contained page


def test_errors_by_code_with_their_meaning(load_run, tmp_path):
    text = _text(_html(load_run, tmp_path).split('class="grid load-errors"')[1].split("</table>")[0])
    assert "2.04/463 application responseCode 463 Not registered or authorized 2 EmapPoll 2" in text
    assert "5.03 CoAP Service Unavailable 1 EiRegisterParty 1" in text
    assert (
        "timeout transport no complete response within MAX_TRANSMIT_WAIT 3 EiRegisterParty 2, EmapPoll 1, EiOpt 1"
        in text
    )


@pytest.mark.parametrize(
    ("outcome", "kind", "meaning"),
    [
        ("2.04/invalid", "payload", "2.04 whose payload is not a valid EMAP message"),
        ("2.04/470", "application", "responseCode 470 (not in Table 6.1-3)"),
        ("4.15", "CoAP", "Unsupported Content-Format"),
        ("reset", "transport", "the IUT answered with RST"),
    ],
)
def test_error_kinds(outcome, kind, meaning):
    assert error_kind(outcome) == (kind, meaning)


def test_violations_by_requirement_with_examples(load_run, tmp_path):
    html = _html(load_run, tmp_path)
    assert 'class="badge v-fail"' in html.split('class="load-violations-total"')[1][:200]
    table = _text(html.split('class="grid load-violations"')[1].split("</table>")[0])
    assert re.search(r"EMAP-6\.1-02 \S.* 3 EMAP-6\.6-02 \S.* 1", table), table
    examples = _text(html.split('class="grid load-examples"')[1].split("</table>")[0])
    assert (
        "1.25 EMAP-6.1-02 EiRegisterParty emapCreatePartyRegistration \u2013 requestID 'q-1' not echoed"
        in examples
    )
    assert "7.50 EMAP-6.6-02 EmapPoll emapPoll ven-17 poll answered with emapResponse" in examples


def test_a_clean_load_run_says_so(tmp_path):
    from conformance.load.results import results_of

    section = sample_load_section()
    section.update(failed=0, errors_by_code={})
    section["violations"].update(total=0, by_requirement={}, examples=[])
    html = _html(results_of(section, started=0.0, finished=12.0), tmp_path)
    assert "No failed exchange." in html and "No violation under load." in html
    assert "load-examples" not in html


def test_text_from_the_load_section_is_escaped(load_run, tmp_path):
    load_run["load"]["violations"]["examples"][0]["detail"] = "<script>alert(1)</script>"
    html = _html(load_run, tmp_path)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_run_without_load_renders_as_before(load_run, tmp_path):
    """Without ``load`` the page is the page with the section and its stylesheet taken out."""
    with_load = _html(load_run, tmp_path)
    del load_run["load"]
    without = _html(load_run, tmp_path)
    card = re.compile(
        r'  <div class="card load" id="run1-load">.*?\n(?=  <div class="card">\n    <h3>Profile used)', re.S
    )
    css = re.compile(r"/\* The \"Community load\" section.*?(?=</style>)", re.S)
    stamp = re.compile(r"rendered \S+Z")
    stripped = stamp.sub("", css.sub("", card.sub("", with_load)))
    assert card.search(with_load) and css.search(with_load)
    assert stripped == stamp.sub("", without)
    assert 'id="run1-load"' not in without and "load-chart" not in without


def test_report_command_re_renders_the_load_section(load_run, tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(load_run))
    assert main([str(tmp_path / "results.json"), "--out", str(tmp_path / "view")]) == 0
    html = (tmp_path / "view" / "conformance.html").read_text()
    assert 'id="run1-load"' in html and 'data-series="p99"' in html


def test_several_runs_keep_their_own_load_sections(load_run, tmp_path):
    write_reports({"runs": [load_run, copy.deepcopy(load_run)]}, tmp_path)
    svg = _Svg((tmp_path / "conformance.html").read_text())
    assert {chart for chart, series in svg.series.items() if series} == {
        "run1-load-latency",
        "run2-load-latency",
    }
    assert {chart for chart, bars in svg.bars.items() if bars} == {
        "run1-load-throughput",
        "run2-load-throughput",
    }


def test_latency_axis_spans_whole_decades_and_a_long_run_keeps_few_ticks():
    timeline = [{"t": t, "exchanges": 10, "failed": 0, "p50_ms": 0.4, "p99_ms": 2500.0} for t in range(3600)]
    chart = latency_chart(timeline, ramp_s=60, stop_s=3600)
    assert [tick.label for tick in chart.y_ticks] == ["0.1 ms", "1 ms", "10 ms", "100 ms", "1 s", "10 s"]
    assert 2 <= len(chart.x_ticks) <= MAX_X_TICKS + 1
    assert [m.label for m in chart.markers] == ["ramp end", "stop"]
    assert all(series.dots == () for series in chart.series)  # no dot per point on a long run
    ys = [y for _, y in chart.series[1].points]
    assert min(ys) >= chart.top and max(ys) <= chart.bottom


def test_charts_of_an_empty_or_latency_free_timeline():
    assert all(not s.points for s in latency_chart([]).series)
    rows = [{"t": 0, "exchanges": 4, "failed": 4, "p50_ms": None, "p99_ms": None}]
    assert [bar.key for bar in throughput_chart(rows).bars] == ["failed"]
    assert [tick.label for tick in latency_chart(rows).y_ticks] == ["1 ms", "10 ms"]


def test_a_load_section_written_before_after_stop_existed_still_renders(load_run, tmp_path):
    del load_run["load"]["after_stop"]
    validate_results(load_run)
    assert "130.0 exchanges/s (1503 in 10.02 s)" in _text(_html(load_run, tmp_path))
