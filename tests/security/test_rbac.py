"""Least privilege in Kubernetes RBAC manifests: ``gonogo security privileges`` and the check."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.helpers import Project, criterion
from tests.report.pages import Page
from tests.security import live
from tests.security.live import FIXTURES

project = live.project  # the fixture

K8S = FIXTURES / "k8s"

#: every finding in the over-privileged twin: (file, line, severity, rule)
OVER_FINDINGS = {
    ("k8s/over/deployment.yaml", 15, "medium", "rbac-automount-token"),
    ("k8s/over/deployment.yaml", 29, "medium", "rbac-automount-token"),
    ("k8s/over/rbac.yaml", 3, "medium", "rbac-automount-token"),
    ("k8s/over/rbac.yaml", 15, "critical", "rbac-wildcard-all"),
    ("k8s/over/rbac.yaml", 24, "high", "rbac-read-secrets"),
    ("k8s/over/rbac.yaml", 29, "high", "rbac-pods-exec"),
    ("k8s/over/rbac.yaml", 30, "high", "rbac-pods-attach"),
    ("k8s/over/rbac.yaml", 34, "high", "rbac-wildcard-verbs"),
    ("k8s/over/rbac.yaml", 42, "high", "rbac-nodes-proxy"),
    ("k8s/over/rbac.yaml", 46, "high", "rbac-escalate"),
    ("k8s/over/rbac.yaml", 46, "high", "rbac-bind"),
    ("k8s/over/rbac.yaml", 49, "high", "rbac-impersonate"),
    ("k8s/over/rbac.yaml", 62, "critical", "rbac-cluster-admin"),
}


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the fixtures folder, so reports name files as ``k8s/over/rbac.yaml``."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def _json(project: Project, *args: str) -> tuple[int, dict[str, object]]:
    result = project.run("security", "privileges", *args, "--format", "json")
    return result.code, json.loads(result.out)


def _findings(report: dict[str, object]) -> set[tuple[object, ...]]:
    found = report["findings"]
    assert isinstance(found, list)
    return {(f["file"], f["line"], f["severity"], f["rule"]) for f in found}


def test_every_over_privileged_grant_is_found_at_its_line(
    project: Project, in_fixtures: Path
) -> None:
    code, report = _json(project, "k8s/over")

    assert code == 1
    assert report["schema"] == "gonogo.least-privilege/v1"
    assert _findings(report) == OVER_FINDINGS
    assert report["scanned"] == ["k8s/over/deployment.yaml", "k8s/over/rbac.yaml"]


def test_each_finding_says_why_and_how_to_fix(project: Project, in_fixtures: Path) -> None:
    _, report = _json(project, "k8s/over")
    by_rule = {f["rule"]: f for f in report["findings"]}  # type: ignore[union-attr]

    admin = by_rule["rbac-cluster-admin"]
    assert admin["subject"] == "ClusterRoleBinding/shop-operator-admin"
    assert "binds cluster-admin to ServiceAccount shop-api" in admin["reason"]
    assert "full control of the whole cluster" in admin["reason"]
    assert "Role with only the permissions" in admin["fix"]
    secrets = by_rule["rbac-read-secrets"]
    assert (
        secrets["reason"]
        == "rules[0] lets the holder get, list, watch every Secret in its namespace"
    )
    assert "resourceNames" in secrets["fix"]
    assert (
        "every verb on every resource of every API group" in by_rule["rbac-wildcard-all"]["reason"]
    )


def test_the_least_privilege_twin_passes(project: Project, in_fixtures: Path) -> None:
    code, report = _json(project, "k8s/least")

    assert code == 0
    assert report["findings"] == []
    assert report["verdict"] == "pass"


def test_text_report_shows_file_line_reason_and_fix(project: Project, in_fixtures: Path) -> None:
    result = project.run("security", "privileges", "k8s/over/rbac.yaml")

    assert result.code == 1
    assert "CRITICAL  k8s/over/rbac.yaml:62  rbac-cluster-admin" in result.out
    assert "fix: bind a Role with only the permissions the subject uses" in result.out
    assert result.out.rstrip().splitlines()[-1] == (
        "FAIL: 11 finding(s) (2 critical, 8 high, 1 medium); 11 at or above medium"
    )


def test_fail_on_sets_the_severity_that_fails(project: Project, in_fixtures: Path) -> None:
    only_medium = "k8s/over/deployment.yaml"

    assert project.run("security", "privileges", only_medium).code == 1
    result = project.run("security", "privileges", only_medium, "--fail-on", "high")
    assert result.code == 0
    assert "(below fail-on)" in result.out


def test_sarif_points_at_file_and_line(project: Project, in_fixtures: Path) -> None:
    result = project.run("security", "privileges", "k8s/over", "--format", "sarif")
    sarif = json.loads(result.out)

    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    admin = next(r for r in run["results"] if r["ruleId"] == "rbac-cluster-admin")
    location = admin["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "k8s/over/rbac.yaml"},
        "region": {"startLine": 62},
    }
    assert admin["level"] == "error"
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "rbac-cluster-admin")
    assert rule["properties"]["security-severity"] == "9.5"


def test_markdown_report_to_a_file(project: Project, in_fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "least-privilege.md"

    result = project.run(
        "security", "privileges", "k8s/over", "--format", "markdown", "--output", str(out)
    )

    assert result.code == 1
    assert result.out == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith("## least-privilege: k8s/over")
    assert "| critical | `k8s/over/rbac.yaml:62` | `rbac-cluster-admin` |" in text


def test_html_report_shows_each_finding_with_severity_place_and_fix(
    project: Project, in_fixtures: Path
) -> None:
    result = project.run("security", "privileges", "k8s/over", "--format", "html")

    assert result.code == 1
    page = Page.parse(result.out)
    assert (page.title, page.badge) == ("least-privilege: k8s/over", ("FAIL", "bad"))
    assert page.summary == "13 finding(s) (2 critical, 8 high, 3 medium); 13 at or above medium."
    rows = page.section("Findings")
    assert len(rows) == len(OVER_FINDINGS)
    admin = next(r for r in rows if r["rule"] == "rbac-cluster-admin")
    assert (admin["severity"], admin["where"]) == ("critical", "k8s/over/rbac.yaml:62")
    assert "binds cluster-admin to ServiceAccount shop-api" in admin["reason"]
    assert admin["fix"] == "bind a Role with only the permissions the subject uses"


def test_html_report_below_fail_on_passes(project: Project, in_fixtures: Path) -> None:
    only_medium = "k8s/over/deployment.yaml"

    result = project.run("security", "privileges", only_medium, "-f", "html", "--fail-on", "high")

    assert result.code == 0
    page = Page.parse(result.out)
    assert page.badge == ("PASS", "good")
    assert page.summary == "2 finding(s) (2 medium); none at or above high."
    assert {r["severity"] for r in page.section("Findings")} == {"medium (below fail-on)"}


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_pages_show_each_findings_subject_and_the_below_fail_on_mark_like_the_text(
    project: Project, in_fixtures: Path, fmt: str
) -> None:
    args = ("security", "privileges", "k8s/over", "--fail-on", "critical")
    text = project.run(*args).out
    admin_line = next(line for line in text.splitlines() if "rbac-cluster-admin" in line)
    below_line = next(line for line in text.splitlines() if "(below fail-on)" in line)

    result = project.run(*args, "-f", fmt)

    assert result.code == 1
    if fmt == "html":
        rows = Page.parse(result.out).section("Findings")
    else:
        table = [line for line in result.out.splitlines() if line.startswith("| ")]
        header = [c.strip() for c in table[0].strip("|").split(" | ")]
        rows = [
            dict(
                zip(
                    header,
                    (c.strip().strip("`") for c in line.strip("|").split(" | ")),
                    strict=True,
                )
            )
            for line in table[2:]
        ]
    admin = next(r for r in rows if r["rule"] == "rbac-cluster-admin")
    assert admin["severity"] == "critical"
    assert admin["subject"] and admin["subject"] in admin_line
    below = [r for r in rows if r["severity"].endswith(" (below fail-on)")]
    assert len(below) == text.count("(below fail-on)") > 0
    assert any(r["subject"] in below_line and r["rule"] in below_line for r in below)


def _manifest(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_bindings_to_anonymous_users_lists_and_json_manifests(
    project: Project, tmp_path: Path
) -> None:
    _manifest(
        tmp_path,
        "list.yaml",
        """
        apiVersion: v1
        kind: List
        items:
          - apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: public-view}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects:
              - kind: Group
                name: system:unauthenticated
          - apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: ns-admin, namespace: shop}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
            subjects: [{kind: User, name: bob}]
        """,
    )
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "tokens", "namespace": "shop"},
        "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}],
    }
    (tmp_path / "role.json").write_text(json.dumps(role, indent=2), encoding="utf-8")

    code, report = _json(project, str(tmp_path))

    assert code == 1
    found = {(Path(str(f[0])).name, f[1], f[2], f[3]) for f in _findings(report)}
    assert found == {
        ("list.yaml", 9, "critical", "rbac-public-binding"),
        ("list.yaml", 14, "high", "rbac-cluster-admin"),
        ("role.json", 17, "high", "rbac-wildcard-all"),
    }


def test_yaml_anchors_and_merge_keys_are_followed(project: Project, tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        "anchors.yaml",
        """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: reader}
        rules:
          - &read
            apiGroups: [""]
            resources: ["secrets"]
            verbs: ["list"]
          - <<: *read
            verbs: ["impersonate"]
            resources: ["users"]
        """,
    )

    _, report = _json(project, str(tmp_path))

    assert {(f[1], f[3]) for f in _findings(report)} == {
        (7, "rbac-read-secrets"),
        (10, "rbac-impersonate"),
    }


def test_invalid_yaml_is_one_line_naming_the_file(project: Project, tmp_path: Path) -> None:
    shutil.copy(K8S / "least" / "rbac.yaml", tmp_path / "good.yaml")
    _manifest(tmp_path, "broken.yaml", "kind: Role\nrules:\n  - verbs: [get\n")

    result = project.run("security", "privileges", str(tmp_path))

    line = result.assert_one_error_line()
    assert result.code == 2
    assert "broken.yaml:4: invalid YAML" in line
    assert result.out == ""


def test_a_missing_path_is_one_line(project: Project, tmp_path: Path) -> None:
    result = project.run("security", "privileges", str(tmp_path / "nope"))

    assert result.code == 2
    assert "no such file or folder" in result.assert_one_error_line()


def test_a_folder_without_manifests_is_one_line(project: Project, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")

    result = project.run("security", "privileges", str(tmp_path))

    assert result.code == 2
    assert "no YAML or JSON file" in result.assert_one_error_line()


POLICY = """
version = 1

[project]
name = "shop"

[owners]
security = ["sam@example.com"]

[[gates]]
id = "security"
title = "Security"
phase = 5
owners = []

[[gates.criteria]]
id = "rbac"
check = "least-privilege"
params = {{ paths = [{paths}], fail_on = "{fail_on}" }}
"""


def _project_with(project: Project, folder: str, *, fail_on: str = "medium") -> None:
    shutil.copytree(K8S / folder, project.root / "deploy")
    project.policy(POLICY.format(paths='"deploy/*.yaml"', fail_on=fail_on))


def test_check_fails_on_the_over_privileged_manifests(project: Project) -> None:
    _project_with(project, "over")

    code, report = project.check_json()

    result = criterion(report, "security.rbac")
    assert code == 1
    assert result["status"] == "fail"
    assert result["measured"] == 13
    assert result["reason"].startswith("13 finding(s) at or above medium: deploy/")
    assert {e["uri"] for e in result["evidence"]} == {"deploy/rbac.yaml", "deploy/deployment.yaml"}


def test_check_passes_on_the_least_privilege_twin(project: Project) -> None:
    _project_with(project, "least")

    code, report = project.check_json()

    assert code == 0
    result = criterion(report, "security.rbac")
    assert result["status"] == "pass"
    assert result["reason"] == "no least-privilege findings in 2 file(s)"


def test_check_warns_on_findings_below_fail_on(project: Project) -> None:
    project.root.joinpath("deploy").mkdir()
    shutil.copy(K8S / "over" / "deployment.yaml", project.root / "deploy")
    project.policy(POLICY.format(paths='"deploy"', fail_on="high"))

    code, report = project.check_json()

    assert code == 0
    assert criterion(report, "security.rbac")["status"] == "warn"


def test_check_errors_on_invalid_yaml_and_waits_for_missing_files(project: Project) -> None:
    project.policy(POLICY.format(paths='"deploy/*.yaml"', fail_on="medium"))

    _, report = project.check_json()
    assert criterion(report, "security.rbac")["status"] == "not_reported"

    project.root.joinpath("deploy").mkdir()
    project.root.joinpath("deploy", "bad.yaml").write_text("a: [\n", encoding="utf-8")
    _, report = project.check_json()
    result = criterion(report, "security.rbac")
    assert result["status"] == "error"
    assert "deploy/bad.yaml" in result["reason"]


def test_privileges_without_paths_reads_the_policy(project: Project) -> None:
    _project_with(project, "over")
    project.monkeypatch.chdir(project.root)

    result = project.run("security", "privileges")

    assert result.code == 1
    assert "deploy/rbac.yaml:62" in result.out


def test_privileges_without_paths_or_policy_criterion_is_one_line(project: Project) -> None:
    project.monkeypatch.chdir(project.root)

    result = project.run("security", "privileges")

    assert result.code == 2
    assert "no PATH given" in result.assert_one_error_line()


def test_rules_that_are_no_rules_are_findings_not_a_pass(project: Project, tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: app, namespace: shop}
            rules: 7
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: ops}
            rules:
              - 5
              - apiGroups: [""]
                resources: ["pods"]
                verbs: ["get"]
            """
        ),
        encoding="utf-8",
    )

    result = project.run("security", "privileges", str(tmp_path), "--format", "json")

    assert result.code == 1
    found = [
        (f["line"], f["severity"], f["subject"], f["reason"])
        for f in json.loads(result.out)["findings"]
    ]
    assert found == [
        (
            4,
            "high",
            "Role/app (namespace shop)",
            "rules is not a list: what this Role grants cannot be checked",
        ),
        (
            10,
            "high",
            "ClusterRole/ops",
            "rules[0] is not a rule: what this ClusterRole grants cannot be checked",
        ),
    ]
