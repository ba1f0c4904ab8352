"""`gonogo policy validate` and `policy explain` warn about expired [deps] exceptions.

The `vulns` check already fails on them; the warnings let the team see it coming from
the policy alone, without a database or an audit run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project

POLICY = """\
version = 1

[project]
name = "shop"

[owners]
security = ["sam@example.com"]

[[gates]]
id = "security"
title = "Security"
phase = 5
owners = ["security"]

[[gates.criteria]]
id = "policy"
check = "file"
params = { path = "SECURITY.md" }

[[deps.exceptions]]
id = "GHSA-m2qf-hxjv-5gpq"
reason = "no response caching in front of the app"
approver = "security"
expires = 2020-01-31

[[deps.exceptions]]
id = "CVE-2024-3651"
reason = "idna is only fed our own host names"
approver = "security"
expires = 2999-12-31
"""


@pytest.fixture
def shop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project whose policy has one expired and one current dependency exception."""
    project = Project(root=tmp_path / "shop", capsys=capsys, monkeypatch=monkeypatch)
    project.policy(POLICY)
    return project


def test_validate_warns_about_an_expired_exception_but_passes(shop: Project) -> None:
    result = shop.run("policy", "validate")

    assert result.code == 0
    assert ": valid: 1 gates" in result.out
    assert result.err_lines == [
        "gonogo: warning: [deps] exception for GHSA-m2qf-hxjv-5gpq expired on 2020-01-31: "
        "the vulnerability fails the audit again"
    ]


def test_explain_marks_expired_exceptions_and_warns(shop: Project) -> None:
    result = shop.run("policy", "explain")

    assert result.code == 0
    assert "## Dependency exceptions" in result.out
    assert (
        "- `GHSA-m2qf-hxjv-5gpq` EXPIRED on 2020-01-31 (covers nothing: the vulnerability "
        "fails again), approved by security: no response caching in front of the app"
    ) in result.out
    assert "- `CVE-2024-3651` until 2999-12-31, approved by security" in result.out
    assert len(result.err_lines) == 1
    assert "GHSA-m2qf-hxjv-5gpq expired on 2020-01-31" in result.err


def test_no_warning_when_every_exception_is_in_force(shop: Project) -> None:
    shop.policy(POLICY.replace("2020-01-31", "2999-01-31"))

    assert shop.run("policy", "validate").err == ""
    explained = shop.run("policy", "explain")
    assert explained.err == ""
    assert "EXPIRED" not in explained.out
