"""Units of the plugin: the marker, verdict mapping, option resolution, results roll-up and exit status."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.plugin.iut_access import IutError, external_uris, peer_endpoint, resource_uri
from conformance.plugin.options import DEFAULT_FUZZ_EXAMPLES, SettingsError, check_iut, read_settings
from conformance.plugin.results import Outcome, entry_of, exit_status, requirement_verdicts, summarise
from conformance.plugin.verdicts import judge
from conformance.profiles import load_profile
from conformance.testcases.marker import EmapCase, clause_of, emap_test
from conformance.verdict import Fail, Inconclusive, NotApplicable, Verdict


@pytest.mark.parametrize(("req", "clause"), [("EMAP-6.2.3-04", "6.2.3"), ("EMAP-A-04", "A"), ("EMAP-5-02", "5"),
                                             ("EMAP-7.1.5-07", "7.1.5")])
def test_clause_of(req, clause):
    assert clause_of(req) == clause


def test_marker_carries_id_requirements_clause_and_applicability():
    mark = emap_test("TC-U-6.2.2-01", requirements=["EMAP-6.2.2-03", "EMAP-5-02"], applies='role == "upper"').mark
    assert mark.name == "emap" and mark.args == ("TC-U-6.2.2-01",)
    assert mark.kwargs == {"requirements": ("EMAP-6.2.2-03", "EMAP-5-02"), "clause": "6.2.2",
                           "applies": 'role == "upper"'}


@pytest.mark.parametrize(("tc_id", "requirements"), [("U-1", ["EMAP-5-02"]), ("TC-1", []), ("TC-1", ["5-02"]),
                                                     ("TC-1", "EMAP-5-02")])
def test_marker_rejects_bad_definitions(tc_id, requirements):
    with pytest.raises((ValueError, TypeError)):
        emap_test(tc_id, requirements=requirements)


def test_case_of_an_item_reads_mark_and_docstring():
    @emap_test("TC-X-1", requirements=["EMAP-5-02"])
    def case():
        """Purpose line.

        More text."""

    class Item:
        function = case

        def get_closest_marker(self, name):
            return case.pytestmark[0] if name == "emap" else None

    assert EmapCase.of(Item()) == EmapCase("TC-X-1", ("EMAP-5-02",), "5", "True", "Purpose line.")


@pytest.mark.parametrize(("exc", "verdict", "reason"), [
    (None, Verdict.PASS, ""),
    (Fail("EMAP-5-02: bad\nmore"), Verdict.FAIL, "EMAP-5-02: bad"),
    (AssertionError("assert 1 == 2\n +  where"), Verdict.FAIL, "assert 1 == 2"),
    (AssertionError(), Verdict.FAIL, "assertion failed"),
    (Inconclusive("no stimulus"), Verdict.INCONCLUSIVE, "no stimulus"),
    (NotApplicable("not declared"), Verdict.NOT_APPLICABLE, "not declared"),
    (KeyError("x"), Verdict.ERROR, "KeyError: 'x'"),
    (TimeoutError(), Verdict.ERROR, "TimeoutError"),
    (ExceptionGroup("two", [Fail("a"), Inconclusive("b")]), Verdict.FAIL, "a"),
    (ExceptionGroup("two", [Fail("a"), ValueError("b")]), Verdict.ERROR, "ValueError: b"),
])
def test_judge(exc, verdict, reason):
    assert judge(exc) == (verdict, reason)


def test_judge_pytest_outcomes():
    with pytest.raises(pytest.fail.Exception) as failed:
        pytest.fail("async def functions are not natively supported")
    assert judge(failed.value)[0] is Verdict.ERROR
    with pytest.raises(pytest.skip.Exception) as skipped:
        pytest.skip("why")
    assert judge(skipped.value) == (Verdict.INCONCLUSIVE, "skipped: why")


def _results(*verdicts, advisory=(), **extra):
    tests = [{"id": f"TC-{i}", "verdict": v, "advisory": i in advisory, "requirements": []}
             for i, v in enumerate(verdicts)]
    return {"tests": tests, **extra}


@pytest.mark.parametrize(("results", "status"), [
    (_results("pass", "not-applicable", "waived"), 0),
    (_results("pass", "fail", advisory={1}), 0),
    (_results("pass", "inconclusive", advisory={1}), 0),
    (_results("pass", "fail"), 1),
    (_results("fail", "inconclusive"), 1),
    (_results("pass", baseline_problems=["TC-9 passes but is listed"]), 1),
    (_results("pass", "inconclusive"), 2),
    (_results("fail", "error"), 2),
    (_results("error", advisory={0}), 2),
    (_results("pass", aborted="IUT unreachable"), 2),
])
def test_exit_status(results, status):
    assert exit_status(results) == status


def test_entry_is_advisory_only_for_should_level_non_pass():
    case = EmapCase("TC-1", ("EMAP-6.1-11",), "6.1", "True", "p")
    levels = {req.id: req.level for req in load_catalogue()}
    assert entry_of(case, Outcome(Verdict.FAIL, "x"), levels, strict=False)["advisory"] is True
    assert entry_of(case, Outcome(Verdict.FAIL, "x"), levels, strict=True)["advisory"] is False
    assert entry_of(case, Outcome(Verdict.PASS), levels, strict=False)["advisory"] is False
    mixed = EmapCase("TC-2", ("EMAP-6.1-11", "EMAP-5-02"), "6.1", "True", "p")
    assert entry_of(mixed, Outcome(Verdict.FAIL, "x"), levels, strict=False)["advisory"] is False


def test_requirement_verdicts_and_summary():
    tests = [{"id": "TC-1", "verdict": "pass", "requirements": ["EMAP-5-02"]},
             {"id": "TC-2", "verdict": "not-applicable", "requirements": ["EMAP-5-02", "EMAP-5-03"]}]
    rows = {r["id"]: r for r in requirement_verdicts(tests, load_catalogue())}
    assert rows["EMAP-5-02"] == {"id": "EMAP-5-02", "level": "shall", "verdict": "pass", "tests": ["TC-1", "TC-2"]}
    assert rows["EMAP-5-03"]["verdict"] == "not-applicable" and rows["EMAP-5-04"]["verdict"] == "not-tested"
    assert summarise(tests) == {"pass": 1, "fail": 0, "inconclusive": 0, "error": 0, "not-applicable": 1,
                                "waived": 0}


class _Config:
    def __init__(self, ini="", **options):
        self.options, self.ini = options, ini

    def getoption(self, name):
        return self.options.get(name)

    def getini(self, name):
        return self.ini


def test_iut_precedence_option_environment_ini(monkeypatch):
    monkeypatch.setenv("EMAP_IUT", "coap://192.0.2.1/env")
    assert read_settings(_Config("coap://192.0.2.3/ini", iut="coap://192.0.2.2/opt")).iut == "coap://192.0.2.2/opt"
    assert read_settings(_Config("coap://192.0.2.3/ini")).iut == "coap://192.0.2.1/env"
    monkeypatch.delenv("EMAP_IUT")
    assert read_settings(_Config("coap://192.0.2.3/ini")).iut == "coap://192.0.2.3/ini"
    assert read_settings(_Config()).iut is None


def test_settings_defaults():
    settings = read_settings(_Config())
    assert (str(settings.report_dir), settings.seed, settings.strict, settings.fuzz_examples) == ("reports", 0, False, DEFAULT_FUZZ_EXAMPLES)


@pytest.mark.parametrize(("options", "text"), [({"seed": "x"}, "--seed"), ({"seed": "-1"}, "--seed"),
                                               ({"fuzz_examples": "0"}, "--fuzz-examples"),
                                               ({"iut": "http://h/emap"}, "--iut")])
def test_bad_settings_name_the_option(monkeypatch, options, text):
    monkeypatch.delenv("EMAP_IUT", raising=False)
    with pytest.raises(SettingsError, match=text):
        read_settings(_Config(**options))


@pytest.mark.parametrize("value", ["coap://192.0.2.7/emap", "coaps://[2001:db8::1]:5684/emap", "embedded",
                                   "external"])
def test_check_iut_accepts(value):
    assert check_iut(value, "--iut") == value


@pytest.mark.parametrize("value", ["192.0.2.7", "http://h/emap", "coap:///emap", "coap://h:99999/emap",
                                   "coap://h/emap?x=1"])
def test_check_iut_rejects_with_one_line(value):
    with pytest.raises(SettingsError) as error:
        check_iut(value, "--iut")
    assert str(error.value).startswith("--iut: ") and "\n" not in str(error.value)


def test_peer_endpoint_of_an_embedded_lower_iut_gets_a_free_port():
    peer = peer_endpoint(load_profile("lower-pull"), embedded=True)
    assert peer.host == "127.0.0.1" and peer.port > 0 and peer.path == "/emap"
    assert peer.uri == f"coap://127.0.0.1:{peer.port}/emap"
    assert peer_endpoint(load_profile("upper"), embedded=True) is None


def test_peer_port_0_needs_the_embedded_iut():
    with pytest.raises(IutError, match="port 0"):
        peer_endpoint(load_profile("lower-pull"), embedded=False)


def test_external_uris():
    assert external_uris("upper", "coap://h/emap") == ("coap://h/emap", None)
    assert external_uris("lower", "coap://h/emapl") == (None, "coap://h/emapl")
    assert external_uris("lower", "external") == (None, None)
    with pytest.raises(IutError):
        external_uris("upper", "external")
    assert resource_uri("coap://h:5/emap/", "EiRegisterParty") == "coap://h:5/emap/EiRegisterParty"
