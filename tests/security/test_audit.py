"""The gate: threshold, unscored advisories, exceptions (aliases, expiry), fixes, JSON."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gonogo.evidence.lockfiles import Dependency, Ecosystem
from gonogo.security import AdvisoryDatabaseError
from gonogo.security.audit import (
    JSON_SCHEMA,
    AuditPolicy,
    ExceptionRule,
    ExceptionState,
    UnknownThreshold,
    audit,
    parse_threshold,
)
from gonogo.security.cvss import Severity
from gonogo.security.osv import AdvisoryDatabase, load_database
from tests.security.osvdata import NPM_RECORDS, small_db, write_json

TODAY = date(2026, 6, 1)


def _pypi(name: str, version: str | None, line: int = 1) -> Dependency:
    return Dependency(Ecosystem.PYPI, name, version, "requirements.txt", line)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> AdvisoryDatabase:
    return load_database(small_db(tmp_path_factory.mktemp("osv")))


def _ids(report: object) -> dict[str, str]:
    return {f.advisory.id: str(f.rating.severity) for f in report.findings}  # type: ignore[attr-defined]


def test_real_pins_inside_and_outside_affected_ranges(db: AdvisoryDatabase) -> None:
    report = audit(
        [
            _pypi("urllib3", "2.0.5"),  # PYSEC-2023-192 (8.1) and PYSEC-2023-212 (4.2)
            _pypi("idna", "3.6"),  # PYSEC-2024-60 (7.5)
            _pypi("idna", "3.7"),  # fixed
            _pypi("werkzeug", "3.0.1"),  # fixed
            _pypi("jinja2", "3.1.4"),  # none of the snapshot's jinja2 advisories
        ],
        db,
        AuditPolicy(),
        today=TODAY,
    )
    assert _ids(report) == {
        "PYSEC-2023-192": "high",
        "PYSEC-2023-212": "medium",
        "PYSEC-2024-60": "high",
    }
    blocking = {f.advisory.id for f in report.blocking}
    assert blocking == {"PYSEC-2023-192", "PYSEC-2024-60"}  # medium is below "high"
    assert not report.passed
    fixes = {f.advisory.id: f.fixed_in for f in report.findings}
    assert fixes == {"PYSEC-2023-192": "2.0.6", "PYSEC-2023-212": "2.0.7", "PYSEC-2024-60": "3.7"}
    upgrades = {u.package: u.upgrade_to for u in report.upgrades}
    assert upgrades == {"urllib3": "2.0.7", "idna": "3.7"}


def test_threshold_moves_the_bar(db: AdvisoryDatabase) -> None:
    deps = [_pypi("urllib3", "2.0.5")]
    medium = audit(deps, db, AuditPolicy(threshold=Severity.MEDIUM), today=TODAY)
    critical = audit(deps, db, AuditPolicy(threshold=Severity.CRITICAL), today=TODAY)
    assert len(medium.blocking) == 2
    assert critical.passed


def test_unscored_advisory_fails_by_default_and_passes_when_allowed(db: AdvisoryDatabase) -> None:
    deps = [_pypi("flask", "2.2.4")]  # PYSEC-2023-62 carries no CVSS vector
    strict = audit(deps, db, AuditPolicy(), today=TODAY)
    (finding,) = strict.findings
    assert finding.rating.severity is Severity.UNKNOWN
    assert not strict.passed
    lenient = audit(deps, db, AuditPolicy(fail_unscored=False), today=TODAY)
    assert lenient.passed
    assert len(lenient.findings) == 1  # still reported


@pytest.mark.parametrize("name", ["PYSEC-2023-62", "CVE-2023-30861", "ghsa-m2qf-hxjv-5gpq"])
def test_an_exception_matches_the_id_or_any_alias(db: AdvisoryDatabase, name: str) -> None:
    rule = ExceptionRule(name, "no caching proxy in front of us", "security", date(2026, 12, 31))
    report = audit([_pypi("flask", "2.2.4")], db, AuditPolicy(exceptions=(rule,)), today=TODAY)
    (finding,) = report.findings
    assert finding.excepted
    assert finding.exception_state is ExceptionState.ACTIVE
    assert report.passed


def test_an_expired_exception_fails(db: AdvisoryDatabase) -> None:
    rule = ExceptionRule("CVE-2024-3651", "will upgrade soon", "security", date(2026, 5, 31))
    report = audit([_pypi("idna", "3.6")], db, AuditPolicy(exceptions=(rule,)), today=TODAY)
    (finding,) = report.findings
    assert finding.exception_state is ExceptionState.EXPIRED
    assert finding.blocking
    assert not report.passed
    # the last day is still in force
    on_the_day = audit([_pypi("idna", "3.6")], db, AuditPolicy(exceptions=(rule,)),
                       today=date(2026, 5, 31))  # fmt: skip
    assert on_the_day.passed


def test_exceptions_that_match_nothing_are_reported(db: AdvisoryDatabase) -> None:
    stale = ExceptionRule("CVE-1999-0001", "old", "security", date(2030, 1, 1))
    report = audit([_pypi("idna", "3.7")], db, AuditPolicy(exceptions=(stale,)), today=TODAY)
    assert report.unused_exceptions == (stale,)


def test_unpinned_dependencies_are_listed_not_matched(db: AdvisoryDatabase) -> None:
    report = audit([_pypi("idna", None)], db, AuditPolicy(), today=TODAY)
    assert report.findings == ()
    assert [d.name for d in report.unpinned] == ["idna"]


def test_duplicates_from_several_files_count_once(db: AdvisoryDatabase) -> None:
    report = audit([_pypi("idna", "3.6", 1), _pypi("idna", "3.6", 9)], db, AuditPolicy(),
                   today=TODAY)  # fmt: skip
    assert len(report.findings) == 1
    assert report.findings[0].dependency.line == 1


def test_an_ecosystem_missing_from_the_database_is_an_error(db: AdvisoryDatabase) -> None:
    npm = Dependency(Ecosystem.NPM, "lodash", "4.17.20", "package-lock.json", 5)
    with pytest.raises(AdvisoryDatabaseError, match="no npm advisories"):
        audit([npm], db, AuditPolicy(), today=TODAY)


def test_npm_findings_use_semver_and_cvss_v4(tmp_path: Path) -> None:
    for record in NPM_RECORDS:
        write_json(tmp_path / "npm", record)
    npm_db = load_database(tmp_path)
    deps = [
        Dependency(Ecosystem.NPM, "lodash", "4.17.20", "package-lock.json", 3),
        Dependency(Ecosystem.NPM, "semver", "7.0.0-rc.2", "package-lock.json", 9),
        Dependency(Ecosystem.NPM, "semver", "7.5.2", "package-lock.json", 12),
    ]
    report = audit(deps, npm_db, AuditPolicy(), today=TODAY)
    found = {(f.dependency.version, f.advisory.id): f for f in report.findings}
    assert set(found) == {
        ("4.17.20", "GHSA-test-0001-lodash"),
        ("7.0.0-rc.2", "GHSA-test-0002-semver"),
    }
    v4 = found[("7.0.0-rc.2", "GHSA-test-0002-semver")]
    assert (v4.rating.method, v4.rating.score, v4.fixed_in) == ("CVSS:4.0", 8.7, "7.5.2")


def test_json_document_shape(db: AdvisoryDatabase) -> None:
    rule = ExceptionRule("CVE-2023-43804", "cookies stay same-origin", "security", date(2030, 1, 1))
    report = audit([_pypi("urllib3", "2.0.5", 4)], db, AuditPolicy(exceptions=(rule,)), today=TODAY)
    doc = report.to_json()
    assert doc["schema"] == JSON_SCHEMA
    assert doc["verdict"] == "pass"
    entry = next(v for v in doc["vulnerabilities"] if v["id"] == "PYSEC-2023-192")
    assert entry["package"] == "urllib3"
    assert entry["version"] == "2.0.5"
    assert entry["aliases"] == ["CVE-2023-43804", "GHSA-v845-jxx5-vc9f"]
    assert entry["severity"] == "high"
    assert entry["score"] == 8.1
    assert entry["vector"] == "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"
    assert entry["fixed_in"] == "2.0.6"
    assert entry["source"] == "requirements.txt:4"
    assert entry["excepted"] is True
    assert entry["exception"]["state"] == "active"
    assert entry["exception"]["approver"] == "security"


@pytest.mark.parametrize("word", ["High", "CRITICAL", "moderate", "low"])
def test_threshold_words(word: str) -> None:
    assert parse_threshold(word) in {
        Severity.HIGH,
        Severity.CRITICAL,
        Severity.MEDIUM,
        Severity.LOW,
    }


@pytest.mark.parametrize("word", ["severe", "none", "unknown", ""])
def test_unknown_threshold_words_are_refused(word: str) -> None:
    with pytest.raises(UnknownThreshold, match="unknown severity threshold"):
        parse_threshold(word)
