"""The report command re-renders every output from a results file; bad input: exit 2 and one line."""

from __future__ import annotations

import json

import pytest

from conformance.report import main, write_reports

OUTPUTS = ("results.json", "conformance.html", "junit.xml", "trace.pcapng")


def test_write_reports_writes_every_output(results, report_dir):
    write_reports(results, report_dir)
    for name in OUTPUTS:
        assert (report_dir / name).stat().st_size > 0, name
    assert json.loads((report_dir / "results.json").read_text()) == results


def test_rerender_in_place_and_into_another_directory(results, report_dir, tmp_path):
    write_reports(results, report_dir)
    (report_dir / "conformance.html").unlink()
    assert main([str(report_dir / "results.json")]) == 0
    assert "CON POST MID 4097" in (report_dir / "conformance.html").read_text()
    out = tmp_path / "elsewhere"
    assert main([str(report_dir / "results.json"), "--out", str(out)]) == 0
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    assert "CON POST MID 4097" in (out / "conformance.html").read_text()  # traces read next to the results


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        ("{not json", "not JSON: "),
        ('{"suite": {}}', ": /: 'iut' is a required property"),
        ("[]", ": /: [] is not of type 'object'"),
    ],
)
def test_bad_results_file_is_a_one_line_error_and_exit_2(tmp_path, capsys, content, expected):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("emap-conformance report: error: ")
    assert str(path) in err and expected in err


def test_usage_error_exits_2(capsys):
    assert main([]) == 2
    assert "RESULTS_JSON" in capsys.readouterr().err
