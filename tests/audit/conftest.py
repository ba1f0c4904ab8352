"""Audit tests run on a real store: SQLite in a temp folder and a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gonogo.cli import context
from gonogo.store.db import Store, default_url, open_store
from gonogo.workspace import Workspace

ACTOR = "alice@example.com"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder; the checkpoint lives in its ``.gonogo``."""
    root = tmp_path / "project"
    root.mkdir()
    return root.resolve()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, project: Path) -> str:
    """The store's URL: the project's default SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return default_url(project / ".gonogo")


@pytest.fixture
def ws(project: Path, store_url: str) -> Iterator[Workspace]:
    """A workspace on a migrated store, acting as Alice."""
    store = open_store(store_url)
    try:
        yield Workspace(root=project, store=store, actor=ACTOR)
    finally:
        store.close()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, store_url: str, project: Path) -> list[str]:
    """Global CLI options (and environment) that make ``main`` use the same store."""
    if not store_url.startswith("sqlite"):
        monkeypatch.setenv("GONOGO_DATABASE_URL", store_url)
    monkeypatch.setenv("GONOGO_USER", ACTOR)
    return ["--project", str(project)]


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
