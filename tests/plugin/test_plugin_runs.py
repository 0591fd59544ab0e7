"""The plugin end to end, in pytest subprocesses over the fake suite: verdict mapping, results.json, exit status."""

from __future__ import annotations

import socket

import pytest
from plugin_subprocess import BAD_CASES, NEEDS_IUT, VERDICTS, results_of, run_cli, run_pytest, verdicts_of

from conformance.catalogue import load_catalogue
from conformance.plugin.options import DEFAULT_FUZZ_EXAMPLES


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One run of every fake verdict under the bundled upper profile."""
    out = tmp_path_factory.mktemp("full")
    proc = run_cli("run", "--cases", str(VERDICTS), "--profile", "upper", "--report-dir", str(out), cwd=out)
    return proc, out, results_of(out)


def test_each_ending_maps_to_its_verdict(full_run):
    proc, _, results = full_run
    assert verdicts_of(results) == {
        "TC-F-PASS": "pass", "TC-F-FAIL": "fail", "TC-F-ASSERT": "fail", "TC-F-INCONCLUSIVE": "inconclusive",
        "TC-F-NA-PROFILE": "not-applicable", "TC-F-NA-RAISED": "not-applicable", "TC-F-ERROR": "error",
        "TC-F-SHOULD": "fail",
    }, proc.stdout
    assert "the body of a not-applicable test ran" not in proc.stdout
    assert proc.returncode == 2  # a suite error makes the run unjudged


def test_reasons_are_one_line(full_run):
    tests = {t["id"]: t for t in full_run[2]["tests"]}
    assert tests["TC-F-FAIL"]["reason"] == "EMAP-6.2.3-04: answered 4.00 instead of 2.04"
    assert tests["TC-F-ASSERT"]["reason"].startswith("EMAP-5-02: the sum is wrong")
    assert tests["TC-F-INCONCLUSIVE"]["reason"] == "no stimulus available"
    assert tests["TC-F-NA-PROFILE"]["reason"] == 'not applicable under profile upper: role == "lower"'
    assert tests["TC-F-ERROR"]["reason"] == "KeyError: 'suite bug'"
    assert all("\n" not in t["reason"] for t in tests.values())


def test_results_shape(full_run):
    _, out, results = full_run
    assert results["suite"]["name"] == "emap-conformance"
    assert results["iut"] == {"uri": None, "role": "upper", "mode": None, "embedded": True}
    assert results["profile"]["name"] == "upper" and results["seed"] == 0 and results["strict"] is False
    assert results["summary"] == {"pass": 1, "fail": 3, "inconclusive": 1, "error": 1, "not-applicable": 2,
                                  "waived": 0}
    passed = next(t for t in results["tests"] if t["id"] == "TC-F-PASS")
    assert passed["clause"] == "6.2.3" and passed["purpose"].startswith("Passes")
    assert passed["trace"] == "trace/TC-F-PASS.jsonl" and (out / passed["trace"]).is_file()
    assert f"upper seed=0 examples={DEFAULT_FUZZ_EXAMPLES}" in (out / passed["trace"]).read_text()
    assert next(t for t in results["tests"] if t["id"] == "TC-F-FAIL")["trace"] is None


def test_requirements_roll_up_worst_verdict(full_run):
    requirements = {r["id"]: r for r in full_run[2]["requirements"]}
    assert list(requirements) == load_catalogue().ids
    assert requirements["EMAP-6.2.3-04"]["verdict"] == "fail"  # pass + fail
    assert requirements["EMAP-5-03"]["verdict"] == "inconclusive"  # inconclusive + 2 not-applicable
    assert requirements["EMAP-5-04"]["verdict"] == "error"
    assert requirements["EMAP-7.1.5-07"]["verdict"] == "not-tested"
    assert requirements["EMAP-6.1-11"] | {"tests": None} == {"id": "EMAP-6.1-11", "level": "should",
                                                             "verdict": "fail", "tests": None}


def test_should_level_failure_is_advisory(full_run):
    tests = {t["id"]: t for t in full_run[2]["tests"]}
    assert tests["TC-F-SHOULD"]["advisory"] is True and tests["TC-F-SHOULD"]["advisories"]
    assert tests["TC-F-FAIL"]["advisory"] is False


@pytest.mark.parametrize(("extra", "status"), [((), 0), (("--emap-strict",), 1)])
def test_advisory_failure_counts_only_when_strict(tmp_path, extra, status):
    proc = run_pytest(VERDICTS, "--profile", "upper", "--report-dir", str(tmp_path),
                      "-k", "TC-F-PASS or TC-F-NA or TC-F-SHOULD", *extra, cwd=tmp_path)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert results_of(tmp_path)["strict"] is bool(extra)


def test_no_tests_collected_through_pytest_is_2(tmp_path):
    proc = run_pytest(VERDICTS, "--profile", "upper", "--report-dir", str(tmp_path), "-k", "nothing", cwd=tmp_path)
    assert proc.returncode == 2


def test_baseline_waives_a_failure(tmp_path):
    baseline = tmp_path / "baseline.toml"
    baseline.write_text('[[waivers]]\ntest = "TC-F-FAIL"\nreason = "known defect"\nexpires = 2999-01-01\n')
    proc = run_pytest(VERDICTS, "--profile", "upper", "--report-dir", str(tmp_path),
                      "-k", "TC-F-PASS or TC-F-FAIL", "--baseline", str(baseline), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert verdicts_of(results_of(tmp_path))["TC-F-FAIL"] == "waived"


def test_bad_case_definitions_end_the_run(tmp_path):
    proc = run_pytest(BAD_CASES, "--profile", "upper", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    for text in ("unknown requirement id(s) EMAP-9.9-99", "TC-B-TWICE: used by both", "TC-B-NODOC", "no docstring"):
        assert text in proc.stderr + proc.stdout


def test_bad_profile_through_pytest_is_2(tmp_path):
    proc = run_pytest(VERDICTS, "--profile", "no-such-profile", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "no-such-profile" in proc.stderr
    assert not (tmp_path / "results.json").exists()


def test_iut_option_wins_over_environment(tmp_path):
    proc = run_pytest(VERDICTS, "--profile", "upper", "-k", "TC-F-PASS", "--report-dir", str(tmp_path),
                      "--iut", "coap://192.0.2.2/from-option", cwd=tmp_path,
                      env={"EMAP_IUT": "coap://192.0.2.1/from-env"})
    assert proc.returncode == 0, proc.stdout
    assert results_of(tmp_path)["iut"] == {"uri": "coap://192.0.2.2/from-option", "role": "upper", "mode": None,
                                           "embedded": False}


def test_unreachable_iut_ends_the_run_with_2(tmp_path):
    profile = tmp_path / "silent.toml"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # receives, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        profile.write_text(
            'name = "silent"\n[pics]\nrole = "upper"\n'
            f'[pixit]\niut = "coap://127.0.0.1:{port}/emap"\n'
            "[pixit.timing]\nack_timeout_s = 0.1\nack_random_factor = 1.0\nmax_retransmit = 1\ntolerance_s = 0.2\n")
        proc = run_pytest(NEEDS_IUT, "--profile", str(profile), "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"IUT unreachable: no answer from coap://127.0.0.1:{port}/emap" in proc.stdout + proc.stderr
    results = results_of(tmp_path)
    assert results["aborted"].startswith("IUT unreachable")
    assert results["tests"][0]["verdict"] == "error" and results["tests"][0]["reason"].startswith("not run: IUT")


def test_embedded_sample_ema_is_started_for_upper_and_lower_profiles(tmp_path):
    proc = run_cli("run", "--cases", str(NEEDS_IUT), "--profile", "upper", "--profile", "lower-pull",
                   "--report-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("upper", "lower-pull"):
        assert verdicts_of(results_of(tmp_path / name)) == {"TC-F-IUT": "pass"}
        assert (tmp_path / name / "iut" / "ema.log").is_file()


def test_allure_results_carry_each_tests_wire_trace(tmp_path):
    proc = run_pytest(VERDICTS, "--profile", "upper", "--report-dir", str(tmp_path), "-k", "TC-F-PASS",
                      "--alluredir", str(tmp_path / "allure-results"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    attached = [p for p in (tmp_path / "allure-results").iterdir() if "wire trace (TC-F-PASS.jsonl)" in p.read_text()]
    assert attached, "no Allure result names the test's trace attachment"
