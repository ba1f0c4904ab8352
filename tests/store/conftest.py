"""Store tests: a project folder with a minimal policy, and CLI runs that clean up after
themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gonogo.cli import context
from gonogo.store.db import Store, open_store

POLICY = """\
version = 1

[project]
name = "stored"

[owners]
engineering = ["alice@example.com"]

[[gates]]
id = "docs"
title = "Docs"
phase = 1
owners = ["engineering"]

[[gates.criteria]]
id = "readme"
check = "file"
params = { path = "README.md" }
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with a minimal valid ``gonogo.toml`` and the README it asks for."""
    root = (tmp_path / "project").resolve()
    root.mkdir()
    (root / "gonogo.toml").write_text(POLICY, encoding="utf-8")
    (root / "README.md").write_text("# stored\n", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def close_cli_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Store]]:
    """Close the stores ``main`` opens: the CLI leaves that to process exit, and an open
    PostgreSQL connection collected later raises a ResourceWarning (an error here)."""
    opened: list[Store] = []

    def tracking_open_store(url: str, **kwargs: Any) -> Store:
        store = open_store(url, **kwargs)
        opened.append(store)
        return store

    monkeypatch.setattr(context, "open_store", tracking_open_store)
    yield opened
    for store in opened:
        store.close()
