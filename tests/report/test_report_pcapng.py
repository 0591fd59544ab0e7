"""trace.pcapng holds every test's datagrams; tshark decodes a test's CoAP messages from it."""

from __future__ import annotations

import subprocess

from report_samples import TRACES, require_tool

from conformance.report import write_reports


def _tshark(tshark: str, *args: str) -> list[list[str]]:
    out = subprocess.run([tshark, *args], capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_tshark_finds_the_coap_messages_of_a_test(results, report_dir):
    tshark = require_tool("tshark")
    write_reports(results, report_dir)
    capture = str(report_dir / "trace.pcapng")
    assert len(_tshark(tshark, "-r", capture, "-T", "fields", "-e", "frame.number")) == sum(
        len(datagrams) for datagrams in TRACES.values()
    )
    rows = _tshark(
        tshark,
        "-r",
        capture,
        "-Y",
        "coap.mid == 4099 || coap.mid == 28673",
        "-T",
        "fields",
        "-e",
        "coap.type",
        "-e",
        "coap.code",
        "-e",
        "coap.mid",
        "-e",
        "coap.token",
    )
    # TC-U-6.3.1-01: CON POST, empty ACK, separate CON 2.04 (code 68), empty ACK
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("0", "2", "4099"),
        ("2", "0", "4099"),
        ("0", "68", "28673"),
        ("2", "0", "28673"),
    ]
    assert rows[0][3] == rows[2][3] == "a3"
