"""`gonogo deps sbom`: CycloneDX 1.6 JSON that validates, with purls and the exception analysis."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from gonogo.evidence.lockfiles import Dependency, Ecosystem
from gonogo.security.audit import AuditPolicy, ExceptionRule, audit
from gonogo.security.osv import load_database
from gonogo.security.sbom import build_sbom, purl
from tests.helpers import Project
from tests.security.conftest import exception, policy_text
from tests.security.osvdata import NPM_RECORDS, write_json


def _valid(text: str) -> dict[str, object]:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    document: dict[str, object] = json.loads(text)
    return document


def test_sbom_validates_and_carries_the_exception_analysis(deps_project: Project) -> None:
    deps_project.policy(policy_text(exceptions=exception("CVE-2024-3651", "2030-01-01")))
    result = deps_project.run("deps", "sbom", "--output", "sbom.json")
    assert result.code == 0, result.err
    doc = _valid((deps_project.root / "sbom.json").read_text(encoding="utf-8"))
    assert doc["bomFormat"] == "CycloneDX"
    assert doc["specVersion"] == "1.6"
    purls = sorted(c["purl"] for c in doc["components"])  # type: ignore[attr-defined]
    assert purls == [
        "pkg:pypi/idna@3.6",
        "pkg:pypi/jinja2@3.1.4",
        "pkg:pypi/urllib3@2.0.5",
        "pkg:pypi/werkzeug@3.0.1",
    ]
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}  # type: ignore[attr-defined]
    idna = vulns["PYSEC-2024-60"]
    assert idna["affects"] == [
        {"ref": "pkg:pypi/idna@3.6", "versions": [{"version": "3.6", "status": "affected"}]}
    ]
    assert idna["ratings"][0]["score"] == 7.5
    assert idna["ratings"][0]["method"] == "CVSSv31"
    assert idna["recommendation"] == "Upgrade to 3.7"
    assert idna["analysis"]["state"] == "in_triage"
    assert "approved by security, expires 2030-01-01" in idna["analysis"]["detail"]
    props = {p["name"]: p["value"] for p in idna["properties"]}
    assert props["gonogo:exception:expires"] == "2030-01-01"
    assert props["gonogo:exception:state"] == "active"
    assert "analysis" not in vulns["PYSEC-2023-192"]  # no exception names it
    assert {r["id"] for r in vulns["PYSEC-2023-192"]["references"]} == {
        "CVE-2023-43804",
        "GHSA-v845-jxx5-vc9f",
    }


def test_sbom_without_a_database_lists_components_only(
    project_without_db: Project,
) -> None:
    result = project_without_db.run("deps", "sbom")
    assert result.code == 0
    doc = _valid(result.out)
    assert [c["name"] for c in doc["components"]] == ["flask"]  # type: ignore[index]
    assert "vulnerabilities" not in doc
    assert "components only" in result.err


def test_npm_purls_and_an_expired_exception(tmp_path: Path) -> None:
    for record in NPM_RECORDS:
        write_json(tmp_path / "npm", record)
    deps = [
        Dependency(Ecosystem.NPM, "@types/node", "1.1.0", "package-lock.json", 4),
        Dependency(Ecosystem.NPM, "lodash", "4.17.20", "package-lock.json", 8),
    ]
    expired = ExceptionRule("CVE-2021-23337", "legacy page", "security", date(2020, 1, 1))
    report = audit(
        deps, load_database(tmp_path), AuditPolicy(exceptions=(expired,)), today=date(2026, 1, 1)
    )
    doc = _valid(build_sbom(deps, report, project="ui", version="2.0.0"))
    assert purl(deps[0]) == "pkg:npm/%40types/node@1.1.0"
    assert doc["metadata"]["component"]["name"] == "ui"  # type: ignore[index]
    lodash = next(v for v in doc["vulnerabilities"] if v["id"] == "GHSA-test-0001-lodash")  # type: ignore[attr-defined]
    assert "EXPIRED" in lodash["analysis"]["detail"]
    assert {p["name"]: p["value"] for p in lodash["properties"]}["gonogo:exception:state"] == (
        "expired"
    )


def test_sbom_of_the_running_environment(deps_project: Project) -> None:
    import sys

    result = deps_project.run("deps", "sbom", "--python", sys.executable)
    assert result.code == 0
    doc = _valid(result.out)
    assert any(c["purl"].startswith("pkg:pypi/pydantic@") for c in doc["components"])  # type: ignore[attr-defined, index]


@pytest.fixture
def project_without_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    root = tmp_path / "bare"
    root.mkdir()
    (root / "requirements.txt").write_text("flask==3.0.3\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)
