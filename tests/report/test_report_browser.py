"""conformance.html opened in headless Chromium with the network disabled: the summary and a chart render."""

from __future__ import annotations

import subprocess

from report_samples import require_tool

from conformance.report import write_reports

SCREENSHOT = "conformance.png"


def _chromium(chromium: str, profile_dir, *args: str) -> subprocess.CompletedProcess:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)


def test_report_renders_in_headless_chromium(results, report_dir, tmp_path):
    chromium = require_tool("chromium")
    write_reports(results, report_dir)
    url = (report_dir / "conformance.html").as_uri()
    dom = _chromium(chromium, tmp_path / "chromium-profile", "--dump-dom", f"{url}#run1-TC-U-6.2.2-01").stdout
    assert 'id="overall"' in dom and 'id="summary"' in dom
    assert 'class="msc"' in dom and dom.count('class="msc-row to-iut') >= 3
    assert "CON POST MID 4097 tok a1 /emap/EiRegisterParty" in dom
    assert '<details class="test" id="run1-TC-U-6.2.2-01" data-verdict="fail" open' in dom  # the script ran
    _chromium(
        chromium,
        tmp_path / "chromium-profile",
        f"--screenshot={report_dir / SCREENSHOT}",
        "--window-size=1280,2000",
        url,
    )
    png = (report_dir / SCREENSHOT).read_bytes()
    assert (
        png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    )  # a blank page compresses far below this


def test_load_report_renders_in_headless_chromium(tmp_path):
    """The "Community load" section with its two SVG charts, drawn by the browser from the page alone."""
    from report_samples import sample_load_run

    chromium = require_tool("chromium")
    write_reports(sample_load_run(), tmp_path / "report")
    url = (tmp_path / "report" / "conformance.html").as_uri()
    dom = _chromium(chromium, tmp_path / "chromium-profile", "--dump-dom", f"{url}#run1-load").stdout
    assert 'id="run1-load"' in dom and "Conformance violations under load" in dom
    assert dom.count('<polyline class="series') == 2 and dom.count('class="bar bar-') == 12
    assert 'data-series="p50" data-points="10"' in dom and "EMAP-6.6-02" in dom
