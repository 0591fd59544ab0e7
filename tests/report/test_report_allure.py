"""attach_trace hands a test's JSON-lines trace to Allure."""

from __future__ import annotations

import allure_commons

from conformance.report.allure import attach_trace


class _Recorder:
    def __init__(self):
        self.files = []

    @allure_commons.hookimpl
    def attach_file(self, source, name, attachment_type, extension):
        self.files.append((source, name, attachment_type, extension))


def test_attach_trace_attaches_the_jsonl_file(report_dir):
    recorder = _Recorder()
    allure_commons.plugin_manager.register(recorder)
    try:
        attach_trace(report_dir / "trace" / "TC-U-6.2.1-01.jsonl")
    finally:
        allure_commons.plugin_manager.unregister(recorder)
    assert recorder.files == [
        (
            str(report_dir / "trace" / "TC-U-6.2.1-01.jsonl"),
            "wire trace (TC-U-6.2.1-01.jsonl)",
            "text/plain",
            "jsonl",
        )
    ]
