"""A load run as a results.json run object: the ``load`` section, one test ``TC-LOAD-01`` that judges it, and
the requirements its checks cover (fail where a violation was seen), so every report renders it."""

from __future__ import annotations

from datetime import UTC, datetime

from conformance import __version__
from conformance.catalogue import load_catalogue

TEST_ID = "TC-LOAD-01"
#: The requirements every exchange is checked against (conformance.load.checks).
CHECKED = (
    "EMAP-6.1-01",
    "EMAP-6.1-02",
    "EMAP-6.2.3-11",
    "EMAP-6.6-02",
    "EMAP-7.1.4-04",
    "EMAP-7.1.5-07",
    "EMAP-7.1.6-01",
    "EMAP-7.1.6-02",
    "EMAP-B-02",
    "EMAP-B-03",
)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def verdict_of(section: dict) -> tuple[str, str]:
    """``fail`` when any violation was seen, else ``pass``; with a one-line reason."""
    violations = section["violations"]
    figures = (
        f"{section['lower_emas']} lower EMAs, {section['exchanges'] - section['after_stop']} exchanges in "
        f"{section['duration_s']:g} s ({section['per_s']:g}/s) and {section['after_stop']} after the stop, "
        f"{section['failed']} failed"
    )
    if violations["total"]:
        worst = ", ".join(f"{rid} x{n}" for rid, n in violations["by_requirement"].items())
        return "fail", f"{violations['total']} violations under load ({worst}); {figures}"
    return "pass", f"no violation under load; {figures}"


def results_of(section: dict, *, started: float, finished: float, profile: dict | None = None) -> dict:
    """A results.json run object for one load run (``profile``: name, pics, pixit of the profile used)."""
    verdict, reason = verdict_of(section)
    catalogue = load_catalogue()
    violated = section["violations"]["by_requirement"]
    ids = [rid for rid in catalogue.ids if rid in CHECKED or rid in violated]
    summary = dict.fromkeys(("pass", "fail", "inconclusive", "error", "not-applicable", "waived"), 0)
    summary[verdict] = 1
    return {
        "suite": {"name": "emap-conformance", "version": __version__},
        "iut": {"uri": section["iut"], "role": "upper", "mode": None, "embedded": False},
        "profile": profile or {"name": "load", "pics": {"role": "upper"}, "pixit": {}},
        "started": _stamp(started),
        "finished": _stamp(finished),
        "seed": section["seed"],
        "summary": summary,
        "tests": [
            {
                "id": TEST_ID,
                "purpose": "Community load: simulated lower EMAs against the upper-EMA IUT",
                "requirements": ids,
                "clause": "7.1",
                "verdict": verdict,
                "reason": reason,
                "duration_s": round(finished - started, 3),
                "trace": None,
            }
        ],
        "requirements": [
            {
                "id": rid,
                "level": catalogue[rid].level,
                "clause": catalogue[rid].clause,
                "title": catalogue[rid].title,
                "tests": [TEST_ID],
                "verdict": "fail" if rid in violated else "pass",
            }
            for rid in ids
        ],
        "load": section,
    }
