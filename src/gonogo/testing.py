"""Fakes for tests of gonogo and of the tools built on it: a fixed clock, an in-memory store.

>>> from gonogo.testing import FixedClock, memory_workspace
>>> clock = FixedClock.at("2026-11-27T10:00:00Z")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gonogo.policy.load import load_policy
from gonogo.store.db import Store, open_store
from gonogo.workspace import Workspace


@dataclass
class FixedClock:
    """A clock that only moves when told to."""

    moment: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    @classmethod
    def at(cls, iso_time: str) -> FixedClock:
        """A clock stopped at an ISO 8601 time (``Z`` accepted)."""
        moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(moment)

    def now(self) -> datetime:
        """The stopped time."""
        return self.moment

    def advance(self, **delta: float) -> None:
        """Move forward, e.g. ``advance(days=1)``."""
        self.moment += timedelta(**delta)


def memory_store() -> Store:
    """A migrated SQLite store that lives in memory (gone when closed)."""
    return open_store("sqlite://")


def memory_workspace(
    root: Path, *, actor: str = "tester@example.com", clock: FixedClock | None = None
) -> Workspace:
    """A workspace for the project at ``root`` (its gonogo.toml is loaded) on an in-memory store."""
    policy_file = root / "gonogo.toml"
    loaded = load_policy(policy_file) if policy_file.exists() else None
    return Workspace(
        root=root, store=memory_store(), actor=actor, policy=loaded, clock=clock or FixedClock()
    )
