"""Loading an offline OSV database: the real PYSEC snapshot, JSON, YAML, zips, bad files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from gonogo.security import AdvisoryDatabaseError
from gonogo.security.osv import load_database
from tests.security.osvdata import NPM_RECORDS, SNAPSHOT, small_db, write_json


def test_the_whole_snapshot_loads_without_warnings() -> None:
    db = load_database(SNAPSHOT)
    assert db.advisories == db.files == 2661
    assert db.warnings == []
    assert db.ecosystems() == {"PyPI"}
    jinja = db.lookup("PyPI", "Jinja2")  # PEP 503: any case and separator finds it
    assert {adv.id for adv, _ in jinja} >= {"PYSEC-2014-8", "PYSEC-2019-217"}


def test_lookup_normalises_names_the_pep503_way() -> None:
    db = load_database(SNAPSHOT, [("PyPI", "flask_cors")])
    assert db.lookup("PyPI", "Flask.CORS") == db.lookup("PyPI", "flask-cors") != []


def test_aliases_are_kept(tmp_path: Path) -> None:
    db = load_database(small_db(tmp_path / "db", ("flask",)))
    (advisory,) = [a for a, _ in db.lookup("PyPI", "flask") if a.id == "PYSEC-2023-62"]
    assert advisory.aliases == ("CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq")
    assert "CVE-2023-30861" in advisory.ids


def test_a_filtered_load_parses_only_what_it_needs_but_sees_every_ecosystem(
    tmp_path: Path,
) -> None:
    root = small_db(tmp_path / "db", ("flask", "idna"))
    for record in NPM_RECORDS:
        write_json(root / "npm", record)
    db = load_database(root, [("PyPI", "idna")])
    assert db.ecosystems() == {"PyPI", "npm"}
    assert db.lookup("PyPI", "idna") != []
    assert db.lookup("npm", "lodash") == []  # not asked for, not parsed
    assert db.files == len(list(root.rglob("*.yaml"))) + len(NPM_RECORDS)


def test_json_yaml_and_zip_archives_are_read_recursively(tmp_path: Path) -> None:
    root = tmp_path / "db"
    write_json(root / "deep" / "er", NPM_RECORDS[0])
    archive = root / "npm" / "all.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        for record in NPM_RECORDS[1:]:
            zf.writestr(f"{record['id']}.json", json.dumps(record))
        zf.writestr(f"{NPM_RECORDS[0]['id']}.json", json.dumps(NPM_RECORDS[0]))  # duplicate
    db = load_database(root)
    assert db.advisories == 3  # the duplicate id is read once
    assert {a.id for a, _ in db.lookup("npm", "@types/node")} == {"GHSA-test-0003-types"}


def test_malformed_files_are_skipped_with_one_warning_each(tmp_path: Path) -> None:
    root = small_db(tmp_path / "db", ("idna",))
    (root / "broken.json").write_text("{not json", encoding="utf-8")
    (root / "list.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (root / "noid.json").write_text(json.dumps({"affected": []}), encoding="utf-8")
    (root / "badrange.json").write_text(
        json.dumps({"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                                               "ranges": [{"type": "ECOSYSTEM"}]}]}),
        encoding="utf-8",
    )  # fmt: skip
    (root / "bad.zip").write_bytes(b"PK not really")
    db = load_database(root)
    assert db.lookup("PyPI", "idna") != []
    assert len(db.warnings) == 5
    assert all("skipped" in w for w in db.warnings)
    assert any("broken.json" in w for w in db.warnings)


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDatabaseError, match="does not exist"):
        load_database(tmp_path / "nope")


def test_an_empty_folder_is_an_error_never_no_vulnerabilities(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdvisoryDatabaseError, match="holds no advisories"):
        load_database(tmp_path / "empty")
    with pytest.raises(AdvisoryDatabaseError, match="holds no advisories"):
        load_database(tmp_path / "empty", [("PyPI", "flask")])


def test_a_folder_of_only_malformed_files_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "db"
    root.mkdir()
    (root / "a.json").write_text("[]", encoding="utf-8")
    with pytest.raises(AdvisoryDatabaseError, match="1 files skipped as malformed"):
        load_database(root)
