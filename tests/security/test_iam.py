"""Least privilege in AWS IAM policy documents (bare, CloudFormation, Terraform JSON)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.security.located import parse_json
from tests.helpers import Project, criterion
from tests.security import live
from tests.security.live import FIXTURES

project = live.project  # the fixture

#: every finding in the over-privileged IAM twin: (file, line, severity, rule)
OVER_FINDINGS = {
    ("iam/over/admin.json", 7, "critical", "iam-wildcard-action"),
    ("iam/over/ci-deployer.json", 7, "medium", "iam-service-wildcard"),
    ("iam/over/ci-deployer.json", 17, "critical", "iam-privesc-ec2"),
    ("iam/over/ci-deployer.json", 17, "critical", "iam-privesc-lambda"),
    ("iam/over/ci-deployer.json", 17, "high", "iam-passrole-wildcard"),
    ("iam/over/ci-deployer.json", 19, "medium", "iam-wildcard-resource"),
    ("iam/over/ci-deployer.json", 24, "critical", "iam-privesc-policy-version"),
    ("iam/over/ci-deployer.json", 24, "high", "iam-privesc-default-version"),
    ("iam/over/ci-deployer.json", 30, "high", "iam-privesc-access-key"),
    ("iam/over/ci-deployer.json", 36, "critical", "iam-not-action"),
    ("iam/over/main.tf.json", 6, "critical", "iam-privesc-attach-user-policy"),
    ("iam/over/main.tf.json", 6, "medium", "iam-wildcard-resource"),
    ("iam/over/stack.json", 12, "critical", "iam-public-trust"),
    ("iam/over/stack.json", 25, "critical", "iam-privesc-trust-policy"),
    ("iam/over/stack.json", 31, "high", "iam-not-resource"),
}


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the fixtures folder, so reports name files as ``iam/over/admin.json``."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def _report(project: Project, *paths: str) -> tuple[int, dict[str, Any]]:
    result = project.run("security", "privileges", *paths, "--format", "json")
    return result.code, json.loads(result.out)


def _findings(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {(f["file"], f["line"], f["severity"], f["rule"]) for f in report["findings"]}


def test_every_over_broad_statement_is_found_at_its_line(
    project: Project, in_fixtures: Path
) -> None:
    code, report = _report(project, "iam/over")

    assert code == 1
    assert _findings(report) == OVER_FINDINGS


def test_the_least_privilege_twin_passes(project: Project, in_fixtures: Path) -> None:
    code, report = _report(project, "iam/least")

    assert code == 0
    assert report["findings"] == []
    assert report["scanned"] == ["iam/least/ci-deployer.json", "iam/least/stack.json"]


def test_escalation_findings_name_the_statements_and_the_path(
    project: Project, in_fixtures: Path
) -> None:
    _, report = _report(project, "iam/over")
    by_rule = {f["rule"]: f for f in report["findings"]}

    ec2 = by_rule["iam-privesc-ec2"]
    assert ec2["reason"] == (
        "Statement[1] (Deploy) allows iam:PassRole, ec2:RunInstances: the holder can launch "
        "an instance with any role it may pass and read its credentials"
    )
    assert ec2["subject"] == "ci-deployer"
    trust = by_rule["iam-privesc-trust-policy"]
    assert trust["subject"] == "ops-trust-admin"  # the CloudFormation PolicyName
    assert (
        "Statement[0] allows iam:UpdateAssumeRolePolicy and Statement[1] allows"
        in (trust["reason"])
    )
    not_action = by_rule["iam-not-action"]
    assert "allows every action except aws-portal:*, budgets:*" in not_action["reason"]
    assert "escalation" in not_action["reason"]
    assert by_rule["iam-passrole-wildcard"]["fix"].startswith("list the role ARNs")


def _policy(tmp_path: Path, name: str, statements: list[dict[str, Any]]) -> Path:
    path = tmp_path / name
    doc = {"Version": "2012-10-17", "Statement": statements}
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_deny_statements_and_own_access_keys_are_not_findings(
    project: Project, tmp_path: Path
) -> None:
    _policy(
        tmp_path,
        "guard.json",
        [
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"x": "y"}}},
            {"Effect": "Deny", "NotAction": ["s3:GetObject"], "NotResource": "arn:aws:s3:::a/*"},
            {
                "Effect": "Allow",
                "Action": "iam:CreateAccessKey",
                "Resource": "arn:aws:iam::1:user/${aws:username}",
            },
        ],
    )

    code, report = _report(project, str(tmp_path))

    assert code == 0
    assert report["findings"] == []


def test_a_condition_lowers_the_severity_by_one_step(project: Project, tmp_path: Path) -> None:
    _policy(
        tmp_path,
        "pass.json",
        [
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            }
        ],
    )

    _, report = _report(project, str(tmp_path))

    passrole = next(f for f in report["findings"] if f["rule"] == "iam-passrole-wildcard")
    assert passrole["severity"] == "medium"
    assert passrole["reason"].endswith("(a Condition applies)")


@pytest.mark.parametrize(
    ("statement", "line", "reason"),
    [
        (5, 3, "Statement is neither a statement object nor a list of them"),
        ([5, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], 4, "Statement[0]"),
    ],
    ids=["a-number", "a-number-in-the-list"],
)
def test_a_statement_that_is_no_statement_is_a_finding_not_a_pass(
    project: Project, tmp_path: Path, statement: object, line: int, reason: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": statement}, indent=2))

    code, report = _report(project, str(tmp_path))

    assert code == 1
    odd = next(f for f in report["findings"] if f["rule"] == "iam-unreadable")
    assert (odd["severity"], odd["line"]) == ("high", line)
    assert odd["reason"].startswith(reason)
    assert odd["reason"].endswith("what this policy allows cannot be checked")


def test_a_deny_removes_an_escalation(project: Project, tmp_path: Path) -> None:
    statements = [
        {"Effect": "Allow", "Action": ["iam:Put*"], "Resource": "arn:aws:iam::1:role/app-*"},
    ]
    _policy(tmp_path, "allow.json", statements)
    _, before = _report(project, str(tmp_path))
    statements.append({"Effect": "Deny", "Action": "iam:PutRolePolicy", "Resource": "*"})
    _policy(tmp_path, "allow.json", statements)
    _, after = _report(project, str(tmp_path))

    rules_before = {f["rule"] for f in before["findings"]}
    rules_after = {f["rule"] for f in after["findings"]}
    assert "iam-privesc-put-role-policy" in rules_before
    assert "iam-privesc-put-role-policy" not in rules_after
    assert "iam-privesc-put-user-policy" in rules_after


def test_cloudformation_yaml_with_short_tags_is_read(project: Project, tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        textwrap.dedent(
            """
            AWSTemplateFormatVersion: "2010-09-09"
            Resources:
              BuildRole:
                Type: AWS::IAM::Role
                Properties:
                  RoleName: !Sub "${AWS::StackName}-build"
                  Policies:
                    - PolicyName: build
                      PolicyDocument:
                        Statement:
                          - Effect: Allow
                            Action: ["cloudformation:CreateStack", "iam:PassRole"]
                            Resource: !GetAtt DeployRole.Arn
            """
        ).lstrip(),
        encoding="utf-8",
    )

    code, report = _report(project, str(tmp_path))

    assert code == 1
    assert {(f["line"], f["severity"], f["rule"], f["subject"]) for f in report["findings"]} == {
        (12, "critical", "iam-privesc-cloudformation", "build")
    }


def test_terraform_policy_document_data_sources(project: Project, tmp_path: Path) -> None:
    doc = {
        "data": {
            "aws_iam_policy_document": {
                "ci": {
                    "statement": [
                        {"actions": ["glue:CreateDevEndpoint", "iam:PassRole"], "resources": ["*"]}
                    ]
                }
            }
        }
    }
    (tmp_path / "iam.tf.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")

    _, report = _report(project, str(tmp_path))

    assert {(f["line"], f["rule"]) for f in report["findings"]} == {
        (9, "iam-privesc-glue"),
        (9, "iam-passrole-wildcard"),
        (12, "iam-wildcard-resource"),
    }


def test_malformed_json_is_one_line_naming_file_and_line(project: Project, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{\n  "Statement": [\n    {"Effect": "Allow",}\n  ]\n}\n')

    result = project.run("security", "privileges", str(tmp_path))

    assert result.code == 2
    assert "broken.json:3: invalid JSON" in result.assert_one_error_line()


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
id = "iam"
check = "least-privilege"
params = { paths = ["iam/"], fail_on = "critical" }
"""


def test_check_counts_the_findings_at_or_above_fail_on(project: Project) -> None:
    (project.root / "iam").mkdir()
    for name in ("admin.json", "stack.json"):
        (project.root / "iam" / name).write_text(
            (FIXTURES / "iam" / "over" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    project.policy(POLICY)

    code, report = project.check_json()

    result = criterion(report, "security.iam")
    assert code == 1
    assert result["status"] == "fail"
    assert result["measured"] == 3  # admin *, public trust, trust-policy escalation
    assert "iam/admin.json:7 iam-wildcard-action (critical)" in result["reason"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from([None, 1, 2]))
def test_the_located_json_parser_reads_what_json_writes(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)

    doc = parse_json(text, "x.json")

    assert doc.value == value
    assert all(1 <= line <= text.count("\n") + 1 for line in doc.lines.values())
