"""Build a Workspace for a command from global options and settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gonogo.cli import settings
from gonogo.policy.load import find_policy, load_policy
from gonogo.store.db import Store, open_store
from gonogo.workspace import Workspace


@dataclass
class Globals:
    """Options given before the command name."""

    project: Path | None = None
    database_url: str | None = None


_opened: list[Store] = []


def close_workspaces() -> None:
    """Release the stores commands opened (the CLI's error boundary calls this)."""
    while _opened:
        _opened.pop().close()


def workspace(options: Globals, *, policy: bool = True, signer: bool = False) -> Workspace:
    """Open the project's workspace: policy loaded first (cheap to fail), then the store."""
    root = settings.project_root(options.project)
    loaded = load_policy(find_policy(root)) if policy else None
    who = settings.require_identity(root) if signer else settings.actor(root)
    store = open_store(
        settings.database_url(options.database_url, root), lock_timeout=settings.lock_timeout()
    )
    _opened.append(store)
    return Workspace(root=root, store=store, actor=who, policy=loaded)
