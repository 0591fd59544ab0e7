"""The pytest command lines of ``run`` and ``list``: bundled test cases, the plugin, asyncio settings."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

DEFAULT_CASES = "conformance.testcases"
INI_FILE = Path(__file__).with_name("pytest.ini")
PLUGIN_MODULE = "conformance.plugin"
ASYNCIO_OVERRIDES = ("asyncio_mode=auto", "asyncio_default_fixture_loop_scope=session",
                     "asyncio_default_test_loop_scope=session")


def plugin_registered() -> bool:
    """True when the installed package registers the plugin as a pytest11 entry point (pytest then loads it)."""
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="pytest11"))


def base_command(cases: str) -> list[str]:
    """``python -m pytest`` over ``cases`` (a package name or a path) with the plugin and the suite's settings."""
    target = ["--pyargs", cases] if not Path(cases).exists() else [cases]
    cmd = [sys.executable, "-m", "pytest", *target, "-c", str(INI_FILE), "--rootdir", str(INI_FILE.parent),
           "-p", "no:cacheprovider"]
    for override in ASYNCIO_OVERRIDES:
        cmd += ["-o", override]
    if not plugin_registered():
        cmd += ["-p", PLUGIN_MODULE]
    return cmd
