"""The pytest command lines of ``run`` and ``list``: bundled test cases, the plugin, asyncio settings."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import conformance

DEFAULT_CASES = "conformance.testcases"
INI_FILE = Path(__file__).with_name("pytest.ini")
PLUGIN_MODULE = "conformance.plugin"
# A conformance run is one sequential session against one IUT: no parallel workers, no benchmarks.
DISABLED_PLUGINS = ("cacheprovider", "xdist", "xdist.looponfail", "benchmark")
ASYNCIO_OVERRIDES = ("asyncio_mode=auto", "asyncio_default_fixture_loop_scope=session",
                     "asyncio_default_test_loop_scope=session")


def plugin_registered() -> bool:
    """True when the installed package registers the plugin as a pytest11 entry point (pytest then loads it)."""
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="pytest11"))


def base_command(cases: str) -> list[str]:
    """``python -m pytest`` over ``cases`` (a package name or a path) with the plugin and the suite's settings."""
    path = Path(cases)
    if path.exists():  # node ids relative to the given directory (or the file's)
        target, rootdir = [str(path)], path if path.is_dir() else path.parent
    else:  # node ids like conformance/testcases/...
        target, rootdir = ["--pyargs", cases], Path(conformance.__file__).parent.parent
    cmd = [sys.executable, "-m", "pytest", *target, "-c", str(INI_FILE), "--rootdir", str(rootdir)]
    for plugin in DISABLED_PLUGINS:
        cmd += ["-p", f"no:{plugin}"]
    for override in ASYNCIO_OVERRIDES:
        cmd += ["-o", override]
    if not plugin_registered():
        cmd += ["-p", PLUGIN_MODULE]
    return cmd
