"""Fixtures of the Phase-4 tests: a project folder driven through ``gonogo.cli.main.main``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """An empty project folder; ``GITHUB_STEP_SUMMARY`` is never inherited from a real CI."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)
