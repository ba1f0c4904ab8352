"""Fixtures of the security tests: a project folder with pinned requirements and a small
OSV database copied from the shared PYSEC snapshot (CC-BY 4.0, see osvdata.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project
from tests.security.osvdata import small_db

REQUIREMENTS = """\
# pinned by pip-compile
urllib3==2.0.5 \\
    --hash=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
idna==3.6
werkzeug==3.0.1
jinja2==3.1.4
"""

POLICY = """\
version = 1

[project]
name = "shop"

[owners]
engineering = ["alice@example.com"]
security = ["sam@example.com"]

[[gates]]
id = "security"
title = "Security"
phase = 5
owners = ["security"]

[[gates.criteria]]
id = "vulns"
check = "vulns"
params = {{ paths = ["requirements.txt"] }}

[deps]
db = "osv"
threshold = "{threshold}"
fail_unscored = {fail_unscored}
{exceptions}
"""


def policy_text(
    *, threshold: str = "high", fail_unscored: bool = True, exceptions: str = ""
) -> str:
    """The security policy, with its ``[deps]`` settings."""
    return POLICY.format(
        threshold=threshold, fail_unscored=str(fail_unscored).lower(), exceptions=exceptions
    )


def exception(ident: str, expires: str, approver: str = "security") -> str:
    """One ``[[deps.exceptions]]`` table."""
    return (
        f'\n[[deps.exceptions]]\nid = "{ident}"\nreason = "accepted for the test"\n'
        f'approver = "{approver}"\nexpires = {expires}\n'
    )


@pytest.fixture(scope="session")
def osv_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small OSV folder copied once from the shared snapshot."""
    return small_db(tmp_path_factory.mktemp("osv") / "osv")


@pytest.fixture
def deps_project(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    osv_copy: Path,
) -> Project:
    """A project with pinned requirements, the policy above and its database at ``osv/``."""
    root = tmp_path / "shop"
    root.mkdir()
    (root / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    (root / "osv").symlink_to(osv_copy, target_is_directory=True)
    project = Project(root=root, capsys=capsys, monkeypatch=monkeypatch)
    project.policy(policy_text())
    monkeypatch.chdir(root)
    return project
