"""Fixtures of the CLI tests: a project folder driven through ``gonogo.cli.main.main``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import BASIC_POLICY, Project


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """An empty project folder (write its policy with ``project.policy(...)``)."""
    root = tmp_path / "project"
    root.mkdir()
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)


@pytest.fixture
def quality(project: Project) -> Project:
    """A project with the basic policy and passing reports (coverage 90%)."""
    project.policy(BASIC_POLICY)
    project.junit()
    project.coverage(90)
    return project
