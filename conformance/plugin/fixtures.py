"""Fixtures the test cases use (contracts.md): profile, timing, seed, peer_endpoint, iut, stimulus, trace, ...

The IUT is session-scoped: the embedded sample EMA is started once, on first use, and stopped at session end.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import pytest_asyncio

from .state import RUN_KEY, EmapRun, trace_name

TRACE_KEY = pytest.StashKey[str]()


@dataclass(frozen=True)
class FuzzBudget:
    """How much property-based testing to do per test (``--fuzz-examples``, ``--fuzz-seconds``, ``--seed``)."""

    examples: int
    seconds: float | None
    seed: int


@pytest.fixture(scope="session")
def emap_run(pytestconfig) -> EmapRun:
    """The plugin's run state; only usable when the session runs EMAP test cases."""
    run = pytestconfig.stash.get(RUN_KEY, None)
    if run is None or run.profile is None:
        raise RuntimeError("EMAP fixtures need a conformance run: collect @emap_test cases and give --profile")
    return run


@pytest.fixture(scope="session")
def profile(emap_run):
    """The loaded PICS/PIXIT profile of this run."""
    return emap_run.profile


@pytest.fixture(scope="session")
def timing(profile):
    """The profile's timings (``[pixit.timing]``)."""
    return profile.timing


@pytest.fixture(scope="session")
def seed(emap_run) -> int:
    """Seed of every randomised choice in this run (``--seed``)."""
    return emap_run.settings.seed


@pytest.fixture(scope="session")
def fuzz(emap_run) -> FuzzBudget:
    """Budget of property-based tests."""
    settings = emap_run.settings
    return FuzzBudget(settings.fuzz_examples, settings.fuzz_seconds, settings.seed)


@pytest.fixture(scope="session")
def peer_endpoint(emap_run) -> tuple[str, int] | None:
    """(host, port) where the reference peer must listen for a lower/intermediate IUT (None for an upper IUT).

    Fixed before the IUT starts: the peer's WireTap listens here and relays to the peer's server.
    """
    return emap_run.peer.address if emap_run.peer else None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def iut(emap_run):
    """The IUT (``IutHandle``): the embedded sample EMA, started here, or the external device, probed here."""
    from .iut_access import IutError, open_iut

    try:
        handle, ema = await open_iut(emap_run.profile, emap_run.iut_setting, emap_run.peer,
                                     emap_run.settings.report_dir / "iut")
    except IutError as exc:
        emap_run.abort(str(exc))
    emap_run.iut, emap_run.embedded = handle, ema
    yield handle
    if ema is not None:
        ema.stop()


@pytest.fixture(scope="session")
def stimulus(profile, iut):
    """The profile's StimulusAdaptor; ``{control}`` is the embedded sample EMA's control URI."""
    from conformance.profiles import StimulusAdaptor

    adaptor = StimulusAdaptor(profile)
    if iut.control:
        adaptor.context["control"] = iut.control
    return adaptor


@pytest.fixture
def emap_case(request, emap_run):
    """The current test's case (id, requirement ids, clause, applicability, purpose)."""
    return emap_run.cases[request.node.nodeid]


@pytest.fixture
def trace(request, emap_case, emap_run):
    """The current test's Trace; written to ``<report-dir>/trace/<id>.jsonl`` when the test ends."""
    from conformance.transport.trace import Trace

    current = Trace(emap_case.id)
    yield current
    relative = trace_name(emap_case.id)
    path = emap_run.settings.report_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    current.to_jsonl(path)
    request.node.stash[TRACE_KEY] = relative
    if request.config.getoption("allure_report_dir", None):  # allure-pytest active (--alluredir)
        from conformance.report.allure import attach_trace

        attach_trace(path)
