"""`gonogo deps audit` end to end: exit codes, the five formats, policy rules, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import Project
from tests.report.pages import Page
from tests.security.conftest import exception, policy_text
from tests.security.osvdata import SNAPSHOT


def test_audit_fails_on_high_findings_and_suggests_fixes(deps_project: Project) -> None:
    result = deps_project.run("deps", "audit")
    assert result.code == 1
    assert result.out.startswith("FAIL: 3 vulnerabilities in 4 packages, 2 at or above high")
    assert "idna 3.6 (requirements.txt:4)" in result.out
    assert "PYSEC-2024-60 (CVE-2024-3651): high 7.5, fixed in 3.7, BLOCKING" in result.out
    assert "urllib3 2.0.5 -> 2.0.7" in result.out
    assert result.err == ""


def test_json_output_is_the_documented_document(deps_project: Project) -> None:
    result = deps_project.run("deps", "audit", "--format", "json")
    assert result.code == 1
    doc = result.json()
    assert doc["schema"] == "gonogo.deps-audit/v1"
    assert doc["verdict"] == "fail"
    assert doc["summary"]["blocking"] == 2
    for entry in doc["vulnerabilities"]:
        assert {"package", "version", "id", "aliases", "severity", "fixed_in"} <= set(entry)
    idna = next(v for v in doc["vulnerabilities"] if v["package"] == "idna")
    assert (idna["version"], idna["id"], idna["fixed_in"]) == ("3.6", "PYSEC-2024-60", "3.7")
    assert idna["aliases"] == ["CVE-2024-3651"]
    assert (idna["severity"], idna["score"]) == ("high", 7.5)


def test_threshold_flag_overrides_the_policy(deps_project: Project) -> None:
    assert deps_project.run("deps", "audit", "--threshold", "critical").code == 0
    medium = deps_project.run("deps", "audit", "--threshold", "MEDIUM", "-f", "json").json()
    assert medium["summary"]["blocking"] == 3


def test_policy_exceptions_with_aliases_and_expiry(deps_project: Project) -> None:
    deps_project.policy(
        policy_text(
            exceptions=exception("CVE-2024-3651", "2030-01-01")
            + exception("GHSA-v845-jxx5-vc9f", "2020-01-01")
        )
    )
    result = deps_project.run("deps", "audit", "-f", "json")
    assert result.code == 1  # the urllib3 exception has expired
    by_id = {v["id"]: v for v in result.json()["vulnerabilities"]}
    assert by_id["PYSEC-2024-60"]["excepted"] is True
    assert by_id["PYSEC-2023-192"]["exception"]["state"] == "expired"
    assert by_id["PYSEC-2023-192"]["blocking"] is True
    deps_project.policy(
        policy_text(
            exceptions=exception("CVE-2024-3651", "2030-01-01")
            + exception("GHSA-v845-jxx5-vc9f", "2030-01-01")
        )
    )
    assert deps_project.run("deps", "audit").code == 0


def test_an_exception_approver_must_be_an_owner_role(deps_project: Project) -> None:
    deps_project.policy(policy_text(exceptions=exception("CVE-2024-3651", "2030-01-01", "legal")))
    result = deps_project.run("deps", "audit")
    assert result.code == 2
    line = result.assert_one_error_line()
    assert "deps.exceptions[0].approver" in line
    assert "'legal' is not an owner role" in line


def test_unscored_advisories_fail_unless_the_policy_allows_them(deps_project: Project) -> None:
    (deps_project.root / "requirements.txt").write_text("flask==2.2.4\n", encoding="utf-8")
    strict = deps_project.run("deps", "audit")
    assert strict.code == 1
    assert "PYSEC-2023-62 (CVE-2023-30861, GHSA-m2qf-hxjv-5gpq): unknown" in strict.out
    deps_project.policy(policy_text(fail_unscored=False))
    lenient = deps_project.run("deps", "audit")
    assert lenient.code == 0
    assert "1 unscored (allowed)" in lenient.out


def test_markdown_and_sarif(deps_project: Project) -> None:
    markdown = deps_project.run("deps", "audit", "--format", "markdown").out
    assert markdown.startswith("# Dependency audit")
    assert "| idna | 3.6 | PYSEC-2024-60 | CVE-2024-3651 | high 7.5 | 3.7 | BLOCKING |" in markdown
    sarif = deps_project.run("deps", "audit", "--format", "sarif").json()
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["PYSEC-2024-60"]["properties"]["security-severity"] == "7.5"
    result = next(r for r in run["results"] if r["ruleId"] == "PYSEC-2024-60")
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "requirements.txt"}, "region": {"startLine": 4}}


def test_html_page_shows_what_the_markdown_shows(deps_project: Project) -> None:
    result = deps_project.run("deps", "audit", "--format", "html", "--output", "audit.html")

    assert result.code == 1
    assert result.out == ""
    page = Page.parse((deps_project.root / "audit.html").read_text(encoding="utf-8"))
    assert (page.title, page.badge) == ("Dependency audit", ("FAIL", "bad"))
    assert page.summary == (
        "3 vulnerabilities in 4 packages, 2 at or above high without a valid exception"
    )
    assert page.facts["threshold"] == "high"
    assert page.facts["unscored advisories"] == "fail"
    idna = next(r for r in page.section("Vulnerabilities") if r["package"] == "idna")
    assert idna == {
        "package": "idna",
        "version": "3.6",
        "advisory": "PYSEC-2024-60",
        "aliases": "CVE-2024-3651",
        "severity": "high 7.5",
        "fixed in": "3.7",
        "status": "BLOCKING",
    }
    upgrades = {r["package"]: r["upgrade to"] for r in page.section("Upgrades")}
    assert upgrades == {"urllib3": "2.0.7", "idna": "3.7"}


def test_html_page_lists_exceptions_and_passes_when_they_cover_everything(
    deps_project: Project,
) -> None:
    deps_project.policy(
        policy_text(
            exceptions=exception("CVE-2024-3651", "2030-01-01")
            + exception("GHSA-v845-jxx5-vc9f", "2020-01-01")
        )
    )
    expired = Page.parse(deps_project.run("deps", "audit", "-f", "html").out)
    assert expired.badge == ("FAIL", "bad")
    states = {r["exception"]: r["state"] for r in expired.section("Exceptions")}
    assert states == {
        "CVE-2024-3651": "in force until 2030-01-01",
        "GHSA-v845-jxx5-vc9f": "EXPIRED on 2020-01-01",
    }

    passing = deps_project.run("deps", "audit", "--threshold", "critical", "-f", "html")
    assert passing.code == 0
    assert Page.parse(passing.out).badge == ("PASS", "good")


def test_output_file(deps_project: Project) -> None:
    result = deps_project.run("deps", "audit", "-f", "json", "--output", "reports/audit.json")
    assert result.code == 1
    assert result.out == ""
    assert (
        json.loads((deps_project.root / "reports" / "audit.json").read_text())["verdict"] == "fail"
    )


def test_explicit_paths_and_the_full_snapshot(deps_project: Project, tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text('[[package]]\nname = "py"\nversion = "1.11.0"\n', encoding="utf-8")
    result = deps_project.run("deps", "audit", str(lock), "--db", str(SNAPSHOT), "-f", "json")
    assert result.code == 1  # PYSEC-2022-42969 (last_affected 1.11.0) has no score
    (finding,) = result.json()["vulnerabilities"]
    assert (finding["id"], finding["fixed_in"], finding["source"]) == (
        "PYSEC-2022-42969",
        None,
        f"{lock}:2",  # the `name = ` line of its [[package]] table
    )


def test_installed_environment(deps_project: Project) -> None:
    result = deps_project.run("deps", "audit", "--python", sys.executable, "-f", "json")
    assert result.code in (0, 1)
    doc = result.json()
    assert doc["summary"]["packages"] >= 10


@pytest.mark.parametrize(
    ("args", "content", "expected"),
    [
        (["--threshold", "severe"], None, "unknown severity threshold 'severe'; use one of: low"),
        (["--threshold", ""], None, "unknown severity threshold ''; use one of: low"),
        (["--db", "missing"], None, "advisory database missing does not exist"),
        ([], "flask==2.2.4\nflask !! 2\n", "requirements.txt:2: not a valid requirement"),
        (["nothere.txt"], None, "nothere.txt: no such file or folder"),
        (["--format", "xml"], None, "Invalid value for '--format'"),
    ],
)
def test_bad_input_is_one_line(
    deps_project: Project, args: list[str], content: str | None, expected: str
) -> None:
    if content is not None:
        (deps_project.root / "requirements.txt").write_text(content, encoding="utf-8")
    result = deps_project.run("deps", "audit", *args)
    assert result.code == 2
    assert expected in result.assert_one_error_line()


def test_an_empty_database_is_an_error_not_a_pass(deps_project: Project, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = deps_project.run("deps", "audit", "--db", str(empty))
    assert result.code == 2
    assert "holds no advisories" in result.assert_one_error_line()


def test_malformed_advisories_are_skipped_with_a_warning(
    deps_project: Project, tmp_path: Path
) -> None:
    db = tmp_path / "db"
    (db / "idna").mkdir(parents=True)
    source = SNAPSHOT / "vulns" / "idna" / "PYSEC-2024-60.yaml"
    (db / "idna" / "PYSEC-2024-60.yaml").write_text(source.read_text(), encoding="utf-8")
    (db / "idna" / "broken.yaml").write_text("id: [unclosed\n  idna", encoding="utf-8")
    result = deps_project.run("deps", "audit", "--db", str(db), "-f", "json")
    assert result.code == 1
    (line,) = result.err_lines
    broken = db / "idna" / "broken.yaml"
    assert line.startswith(
        f"gonogo: warning: 1 advisory files skipped as malformed (first: {broken}"
    )
    assert len(result.json()["database"]["warnings"]) == 1


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_pages_list_unused_exceptions_and_database_warnings_like_the_text(
    deps_project: Project, tmp_path: Path, fmt: str
) -> None:
    deps_project.policy(policy_text(exceptions=exception("CVE-2099-0001", "2030-01-01")))
    db = tmp_path / "db"
    (db / "idna").mkdir(parents=True)
    source = SNAPSHOT / "vulns" / "idna" / "PYSEC-2024-60.yaml"
    (db / "idna" / "PYSEC-2024-60.yaml").write_text(source.read_text(), encoding="utf-8")
    (db / "idna" / "broken.yaml").write_text("id: [unclosed\n  idna", encoding="utf-8")
    text = deps_project.run("deps", "audit", "--db", str(db)).out
    assert "  CVE-2099-0001 (expires 2030-01-01)" in text
    (warning,) = [
        line.removeprefix("  warning: ") for line in text.splitlines() if "warning:" in line
    ]

    result = deps_project.run("deps", "audit", "--db", str(db), "-f", fmt)

    assert result.code == 1
    if fmt == "html":
        page = Page.parse(result.out)
        unused = page.section("Exceptions that match nothing (remove them)")
        assert unused == [{"exception": "CVE-2099-0001", "expires": "2030-01-01"}]
        assert page.section("Advisory database warnings") == [{"warning": warning}]
    else:
        heading = "## Exceptions that match nothing (remove them)"
        assert f"{heading}\n\n- `CVE-2099-0001` (expires 2030-01-01)\n" in result.out
        section = result.out.split("## Advisory database warnings\n\n", 1)[1]
        assert section.startswith(f"- {warning[:40]}")
        assert str(db / "idna" / "broken.yaml") in section


def test_help_lists_the_commands(deps_project: Project) -> None:
    result = deps_project.run("deps", "--help")
    assert result.code == 0
    for name in ("audit", "sbom", "sync"):
        assert name in result.out
