"""pytest hooks of the conformance plugin: options, collection checks, applicability, verdicts, results, exit status.

The plugin stays inert in ordinary test runs: it acts only when ``@emap_test`` cases are collected or the command
line asks for a conformance run (``--profile``/``--iut``).
"""

from __future__ import annotations

import json

import pytest

from conformance.testcases.marker import MARK_NAME, EmapCase
from conformance.verdict import Verdict

from .fixtures import TRACE_KEY
from .options import add_options, requested
from .results import EXIT_UNJUDGED, Outcome, exit_status
from .state import RUN_KEY, EmapRun, check_cases
from .verdicts import judge

NOT_APPLICABLE_KEY = pytest.StashKey[str]()
STATUS = {
    "pass": ("passed", ".", "PASS"),
    "fail": ("failed", "F", "FAIL"),
    "inconclusive": ("inconclusive", "I", "INCONCLUSIVE"),
    "not-applicable": ("not-applicable", "n", "NOT APPLICABLE"),
    "error": ("error", "E", "ERROR"),
}
UNJUDGED_PYTEST_CODES = (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR,
                         pytest.ExitCode.NO_TESTS_COLLECTED)


def pytest_addoption(parser):
    add_options(parser)


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARK_NAME}(tc_id, requirements, clause, applies): an EMAP test case")
    run = EmapRun()
    config.stash[RUN_KEY] = run
    if requested(config):
        run.active = True
        if getattr(config.option, "numprocesses", None):
            pytest.exit("the conformance suite runs one sequential session against the IUT: drop -n",
                        returncode=EXIT_UNJUDGED)
        run.prepare(config, need_profile=not config.getoption("emap_plan"))


def _run(config) -> EmapRun | None:
    return config.stash.get(RUN_KEY, None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    cases = []
    for item in items:
        case = EmapCase.of(item)
        if case is not None:
            item.extra_keyword_matches.add(case.id)  # -k selects by test case id
            cases.append((item.nodeid, case))
    if not cases:
        return
    run = _run(config)
    run.active = True
    run.prepare(config, need_profile=not config.getoption("emap_plan"))
    problems = check_cases(cases, run.catalogue)
    if problems:
        pytest.exit("bad test case definitions: " + "; ".join(problems), returncode=EXIT_UNJUDGED)


def pytest_collection_finish(session):
    run = _run(session.config)
    if not run.active:
        return
    run.cases = {item.nodeid: case for item in session.items if (case := EmapCase.of(item)) is not None}
    plan = run.settings.plan
    if plan is not None:
        entries = [{"id": c.id, "requirements": list(c.requirements), "clause": c.clause, "applies": c.applies,
                    "purpose": c.purpose, "nodeid": nodeid} for nodeid, c in run.cases.items()]
        plan.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """NOT APPLICABLE is decided here, before any fixture sets up: no traffic for an excluded test."""
    run = _run(item.config)
    case = run.cases.get(item.nodeid) if run.active else None
    if case is None:
        return
    from conformance.profiles import applies

    if not run.profile.selects(case.id):
        item.stash[NOT_APPLICABLE_KEY] = (f"not applicable under profile {run.profile.name}: not among its cases "
                                          f"{', '.join(run.profile.cases)}")
    elif not applies(case.applies, run.profile):
        item.stash[NOT_APPLICABLE_KEY] = f"not applicable under profile {run.profile.name}: {case.applies}"
    if NOT_APPLICABLE_KEY in item.stash:
        pytest.skip(item.stash[NOT_APPLICABLE_KEY])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    run = _run(item.config)
    if not run.active or item.nodeid not in run.cases:
        return report
    if call.when == "setup" and NOT_APPLICABLE_KEY in item.stash:
        verdict, reason = Verdict.NOT_APPLICABLE, item.stash[NOT_APPLICABLE_KEY]
    else:
        verdict, reason = judge(call.excinfo.value if call.excinfo else None)
    if call.when == "call":
        run.outcomes[item.nodeid] = Outcome(verdict, reason, call.duration)
    elif verdict is not Verdict.PASS:
        outcome = run.outcomes.setdefault(item.nodeid, Outcome(verdict, reason))
        outcome.worsen(verdict, reason)
    if call.when == "teardown" and item.nodeid in run.outcomes:
        outcome = run.outcomes[item.nodeid]
        outcome.trace = item.stash.get(TRACE_KEY, None)
        status = run.embedded.died() if run.embedded is not None else None
        if status is not None:
            outcome.worsen(Verdict.ERROR, f"the sample EMA exited with status {status} during the run "
                                          f"(see {run.settings.report_dir / 'iut' / 'ema.log'})")
    if call.when == "call" or verdict is not Verdict.PASS:
        report.emap_verdict = run.outcomes[item.nodeid].verdict.value
    return report


def pytest_report_teststatus(report, config):
    verdict = getattr(report, "emap_verdict", None)
    if verdict is None or (report.when == "teardown" and verdict == "pass"):
        return None
    return STATUS.get(verdict)


def pytest_sessionfinish(session, exitstatus):
    run = _run(session.config)
    if run is None or not run.active:
        return
    if session.config.option.collectonly or not run.cases or run.profile is None:
        if exitstatus in UNJUDGED_PYTEST_CODES:
            session.exitstatus = EXIT_UNJUDGED
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED and not run.outcomes and session.testsfailed:
        not_run = f"{session.testsfailed} error(s) during collection (see the pytest output)"
    elif exitstatus == pytest.ExitCode.INTERRUPTED:
        not_run = "the run was interrupted"
    else:
        not_run = "the run stopped before this test ended"
    results = run.results(stopped_on_request=bool(session.shouldfail or session.shouldstop), not_run=not_run)
    run.warning = run.write(results)
    run.status = EXIT_UNJUDGED if exitstatus in UNJUDGED_PYTEST_CODES else exit_status(results)
    run.summary, run.tests = results["summary"], results["tests"]
    session.exitstatus = run.status


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    run = _run(config)
    summary = getattr(run, "summary", None) if run is not None else None
    if summary is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section("EMAP conformance")
    for test in run.tests:
        if test["verdict"] not in ("pass", "not-applicable"):
            label = test["verdict"].upper() + (" (advisory)" if test["advisory"] else "")
            write(f"{label:<17} {test['id']}: {test['reason']}")
    if run.aborted:
        write(f"ABORTED: {run.aborted}")
    write(", ".join(f"{count} {name}" for name, count in summary.items() if count) or "no verdicts")
    if run.warning:
        write(f"warning: {run.warning}")
    write(f"results: {run.settings.report_dir / 'results.json'} (exit status {run.status})")
