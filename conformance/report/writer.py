"""write_reports: results.json, then conformance.html, junit.xml and trace.pcapng rendered from it."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report.html import render_html
from conformance.report.junit import render_junit
from conformance.report.results import runs_of, validate_results
from conformance.report.traces import load_traces
from conformance.transport.pcapng import write_pcapng

RESULTS_FILE = "results.json"
HTML_FILE = "conformance.html"
JUNIT_FILE = "junit.xml"
PCAPNG_FILE = "trace.pcapng"


def write_reports(results: dict, out_dir: Path, *, trace_dir: Path | None = None) -> None:
    """Validate ``results`` (ResultsError when it breaks the schema) and write every report into ``out_dir``.

    The per-test traces are read from ``trace_dir`` (default ``out_dir``), where the run wrote
    ``trace/*.jsonl``.
    """
    validate_results(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    traces = load_traces(runs_of(results), Path(trace_dir) if trace_dir is not None else out_dir)
    (out_dir / RESULTS_FILE).write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", errors="backslashreplace"
    )
    (out_dir / HTML_FILE).write_text(render_html(results, traces), encoding="utf-8", errors="backslashreplace")
    (out_dir / JUNIT_FILE).write_bytes(render_junit(results))
    records = [record for run in traces for loaded in run if loaded.trace for record in loaded.trace.records]
    write_pcapng(records, out_dir / PCAPNG_FILE)
