"""pytest plugin of the EMAP conformance suite (entry point ``pytest11: emap_conformance``).

Options ``--iut --profile --report-dir --seed --baseline --strict --fuzz-examples --fuzz-seconds``; fixtures
``profile timing seed fuzz peer_endpoint iut stimulus trace emap_case``; verdict mapping, results.json and the
exit-status contract of interfaces.md. Inert unless ``@emap_test`` cases are collected or ``--profile``/``--iut``
is given.
"""

from .fixtures import emap_case, emap_run, fuzz, iut, peer_endpoint, profile, seed, stimulus, timing, trace
from .hooks import (
    pytest_addoption,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_teststatus,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

__all__ = [
    "emap_case", "emap_run", "fuzz", "iut", "peer_endpoint", "profile", "seed", "stimulus", "timing", "trace",
    "pytest_addoption", "pytest_collection_finish", "pytest_collection_modifyitems", "pytest_configure",
    "pytest_report_teststatus", "pytest_runtest_makereport", "pytest_runtest_setup", "pytest_sessionfinish",
    "pytest_terminal_summary",
]
