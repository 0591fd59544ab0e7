"""The requirement catalogue against the EMAP binding: the same ids in the same order, the same level, side and
mode, and short titles of our own."""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

import pytest

from conformance.catalogue import BINDS, LEVELS, MODES, Catalogue, CatalogueError, Requirement, load_catalogue

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (EMAP-([0-9A-Z.]+)-\d+) \| (\w+) \| (\w+) \| (\w+) \| (.*) \|$")


def binding_path() -> Path:
    return Path(os.environ.get("EMAP_BINDING") or REPO.parent / "shared" / "spec" / "emap-binding.md")


@pytest.fixture(scope="module")
def binding_rows() -> list[tuple[str, ...]]:
    """(id, clause, level, binds, mode, sentence) for every requirement row of the binding."""
    path = binding_path()
    if not path.is_file():
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"binding not found at {path} (set EMAP_BINDING); CI must check the catalogue")
        pytest.skip(f"binding not found at {path} (set EMAP_BINDING to check the catalogue against it)")
    rows = [m.groups() for m in map(ROW.match, path.read_text("utf-8").splitlines()) if m]
    assert rows, f"{path}: no requirement rows found"
    return rows


def test_catalogue_has_every_binding_id_in_order(binding_rows):
    assert load_catalogue().ids == [row[0] for row in binding_rows]


def test_catalogue_has_202_requirements():
    assert len(load_catalogue()) == 202


def test_fields_match_binding(binding_rows):
    catalogue = load_catalogue()
    for rid, clause, level, binds, mode, _ in binding_rows:
        req = catalogue[rid]
        assert (req.clause, req.level, req.binds, req.mode) == (clause, level, binds, mode), rid


def test_titles_are_short_and_own_words(binding_rows):
    catalogue = load_catalogue()
    for rid, *_, sentence in binding_rows:
        title = catalogue[rid].title
        assert 3 <= len(title) <= 70, rid
        words = re.findall(r"\w+", title.lower())
        text = " ".join(re.findall(r"\w+", sentence.lower()))
        copied = [
            " ".join(words[i : i + 6]) for i in range(len(words) - 5) if " ".join(words[i : i + 6]) in text
        ]
        assert not copied, f"{rid}: title repeats the binding's words: {copied[0]!r}"


def test_titles_unique():
    titles = [req.title for req in load_catalogue()]
    assert len(titles) == len(set(titles))


def test_raw_json_entries_valid():
    raw = json.loads(
        resources.files("conformance.catalogue").joinpath("requirements.json").read_text("utf-8")
    )
    ids = [entry["id"] for entry in raw]
    assert len(ids) == len(set(ids))
    for entry in raw:
        assert set(entry) == {"id", "clause", "level", "binds", "mode", "title"}, entry
        assert entry["level"] in LEVELS and entry["binds"] in BINDS and entry["mode"] in MODES, entry
        assert entry["id"].startswith(f"EMAP-{entry['clause']}-"), entry


def test_lookup_iteration_and_clauses():
    catalogue = load_catalogue()
    assert catalogue is load_catalogue()
    req = catalogue["EMAP-6.2.3-04"]
    assert (req.clause, req.level, req.binds, req.mode) == ("6.2.3", "shall", "U", "both")
    assert "EMAP-6.2.3-04" in catalogue and "EMAP-9-99" not in catalogue
    assert [r.id for r in catalogue] == catalogue.ids
    groups = catalogue.by_clause()
    assert list(groups)[:3] == ["5", "6.1", "6.2.1"]
    assert list(groups)[-2:] == ["A", "B"]
    assert sum(map(len, groups.values())) == len(catalogue)
    assert all(r.clause == clause for clause, reqs in groups.items() for r in reqs)
    with pytest.raises(KeyError, match="EMAP-9-99"):
        catalogue["EMAP-9-99"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"id": "EMAP-5-01", "clause": "5", "level": "must", "binds": "U", "mode": "both", "title": "t"},
            "level",
        ),
        (
            {"id": "EMAP-5-01", "clause": "5", "level": "shall", "binds": "X", "mode": "both", "title": "t"},
            "binds",
        ),
        (
            {"id": "EMAP-5-01", "clause": "5", "level": "shall", "binds": "U", "mode": "all", "title": "t"},
            "mode",
        ),
        (
            {"id": "EMAP-5-01", "clause": "6", "level": "shall", "binds": "U", "mode": "both", "title": "t"},
            "id",
        ),
        ({"id": "EMAP-5-01", "clause": "5", "level": "shall", "binds": "U", "mode": "both"}, "title"),
    ],
)
def test_bad_entries_rejected(entry, message):
    with pytest.raises(CatalogueError, match=f"^EMAP-5-01: {message}: "):
        Requirement.from_dict(entry)


def test_duplicate_ids_rejected():
    req = load_catalogue()["EMAP-5-01"]
    with pytest.raises(CatalogueError, match="listed twice"):
        Catalogue([req, req])
