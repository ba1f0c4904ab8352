"""The `vulns` check type inside `gonogo check`: fail, pass, exceptions from the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.checks import registry
from gonogo.policy.model import Deps
from gonogo.security.audit_inputs import default_db_dir, resolve_db
from tests.helpers import Project, criterion
from tests.security.conftest import exception, policy_text


def test_vulns_is_a_registered_check_type() -> None:
    assert registry.load("vulns").name == "vulns"


def test_check_fails_on_blocking_vulnerabilities(deps_project: Project) -> None:
    code, report = deps_project.check_json()
    assert code == 1
    result = criterion(report, "security.vulns")
    assert result["status"] == "fail"
    assert result["measured"] == 2
    assert "2 blocking (" in result["reason"]
    assert "idna 3.6 PYSEC-2024-60 (high)" in result["reason"]
    evidence = result["evidence"]
    assert [e["uri"] for e in evidence] == ["requirements.txt"]
    assert evidence[0]["sha256"]


def test_check_passes_when_exceptions_cover_the_findings(deps_project: Project) -> None:
    deps_project.policy(
        policy_text(
            exceptions=exception("CVE-2024-3651", "2030-01-01")
            + exception("PYSEC-2023-192", "2030-01-01")
        )
    )
    _, report = deps_project.check_json()
    result = criterion(report, "security.vulns")
    assert result["status"] == "pass"
    assert result["measured"] == 0
    assert "3 vulnerabilities in 4 packages, 2 excepted" in result["reason"]


def test_check_threshold_parameter_and_missing_files(deps_project: Project) -> None:
    text = policy_text().replace(
        'params = { paths = ["requirements.txt"] }',
        'params = { paths = ["requirements.txt"], threshold = "critical" }',
    )
    deps_project.policy(text)
    _, report = deps_project.check_json()
    assert criterion(report, "security.vulns")["status"] == "pass"
    deps_project.policy(text.replace('"requirements.txt"]', '"nope.txt"]'))
    _, report = deps_project.check_json("--no-cache")
    assert criterion(report, "security.vulns")["status"] == "not_reported"


def test_check_reports_a_missing_database_as_error(deps_project: Project) -> None:
    deps_project.policy(policy_text().replace('db = "osv"', 'db = "no-such-db"'))
    _, report = deps_project.check_json()
    result = criterion(report, "security.vulns")
    assert result["status"] == "error"
    assert "does not exist" in result["reason"]


def test_the_check_reads_the_database_named_by_gonogo_osv_db(
    deps_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `gonogo deps audit` does: the variable wins over the policy's deps.db."""
    deps_project.policy(policy_text().replace('db = "osv"', 'db = "no-such-db"'))
    monkeypatch.setenv("GONOGO_OSV_DB", str(deps_project.root / "osv"))
    _, report = deps_project.check_json()
    result = criterion(report, "security.vulns")
    assert result["status"] == "fail"
    assert "idna 3.6 PYSEC-2024-60 (high)" in result["reason"]


def test_database_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONOGO_OSV_DB", raising=False)
    assert resolve_db(tmp_path / "flag", Deps(db="x"), tmp_path) == tmp_path / "flag"
    assert resolve_db(None, Deps(db="x"), tmp_path) == tmp_path / "x"
    monkeypatch.setenv("GONOGO_OSV_DB", str(tmp_path / "env"))
    assert resolve_db(None, Deps(db="x"), tmp_path) == tmp_path / "env"
    assert resolve_db(tmp_path / "flag", Deps(db="x"), tmp_path) == tmp_path / "flag"
    monkeypatch.delenv("GONOGO_OSV_DB")
    assert resolve_db(None, Deps(), tmp_path) == default_db_dir()
    assert default_db_dir().parts[-2:] == ("gonogo", "osv")
