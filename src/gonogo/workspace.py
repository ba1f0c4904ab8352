"""One project's working set: policy, store, clock, actor, audit checkpoint.

Core functions take a Workspace instead of reading the environment; the CLI
builds it from flags, environment and defaults (see ``gonogo.cli.settings``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from gonogo.audit import chain, checkpoint
from gonogo.clock import Clock, SystemClock
from gonogo.gates.results import AuditHead
from gonogo.policy.load import LoadedPolicy
from gonogo.store.db import Store


@dataclass
class Transaction:
    """A write transaction that also records audit events."""

    conn: Connection
    actor: str
    clock: Clock
    last: chain.Event | None = None

    def record(self, type: str, payload: Mapping[str, Any]) -> chain.Event:
        """Append an audit event in this transaction."""
        self.last = chain.append(
            self.conn, actor=self.actor, type=type, payload=payload, clock=self.clock
        )
        return self.last


@dataclass
class Workspace:
    """Everything a command needs about one project."""

    root: Path
    store: Store
    actor: str
    policy: LoadedPolicy | None = None
    clock: Clock = field(default_factory=SystemClock)

    @property
    def state_dir(self) -> Path:
        """``<root>/.gonogo``: the default store and the audit checkpoint live here."""
        return self.root / ".gonogo"

    @property
    def checkpoint_path(self) -> Path:
        """Where the audit head is kept outside the database."""
        return self.state_dir / checkpoint.FILENAME

    def require_policy(self) -> LoadedPolicy:
        """The loaded policy (commands that need one load it first)."""
        if self.policy is None:  # pragma: no cover - the CLI always loads it for these commands
            raise RuntimeError("this command needs a policy")
        return self.policy

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction; on commit the audit checkpoint moves forward."""
        with self.store.write() as conn:
            chain.serialise(conn)
            tx = Transaction(conn=conn, actor=self.actor, clock=self.clock)
            yield tx
        if tx.last is not None:
            checkpoint.advance(
                self.checkpoint_path,
                self.store.checkpoint_key,
                AuditHead(seq=tx.last.seq, hash=tx.last.hash),
            )

    def audit_head(self) -> AuditHead:
        """The store's audit head."""
        with self.store.read() as conn:
            return chain.head(conn)

    def read_checkpoint(self) -> AuditHead | None:
        """The checkpoint recorded for this store, if any."""
        return checkpoint.read(self.checkpoint_path, self.store.checkpoint_key)
