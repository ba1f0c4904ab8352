"""Rollout projects for controller tests: a policy with a [rollout] plan over real processes.

``RolloutProject`` writes a gonogo project whose rollout runs the bundled sample service
with the ``local`` deployer behind the ``builtin`` router on a fixed loopback port, and
reads the rollout's state back from the project's real SQLite store. Every process the
rollout starts carries a marker in its environment, so the fixture kills what is left
even when a test fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gonogo.audit import chain
from gonogo.rollout import state
from gonogo.rollout.controller import CRASH_AT_ENV
from gonogo.rollout.load import LoadGenerator
from gonogo.rollout.state import RolloutRecord
from gonogo.store.db import default_url, open_store
from tests.rollout.processes import MARK, kill_marked, wait_until
from tests.rollout.services import free_port

USER = "olga@example.com"

#: healthy comparisons that pass quickly on a few hundred requests
LENIENT_METRICS = """
[[rollout.metrics]]
name = "errors"
kind = "errors"
tolerance = 0.5
tolerance_abs = 0.05

[[rollout.metrics]]
name = "latency_p50"
kind = "latency"
quantile = 0.5
tolerance = 0.5
"""


#: only the error comparison: for tests about the controller's mechanics, not latency (a
#: restarted proxy's fresh connections make the first requests of each side slower, and
#: the latency tests would rightly see any systematic difference)
ERRORS_ONLY = """
[[rollout.metrics]]
name = "errors"
kind = "errors"
tolerance = 0.5
tolerance_abs = 0.05
"""


def steps_toml(
    weights: tuple[float, ...], *, min_dwell: float, max_dwell: float, warmup: float = 0.0
) -> str:
    """``[[rollout.steps]]`` tables."""
    return "".join(
        f"\n[[rollout.steps]]\nweight = {w:g}\nwarmup_s = {warmup:g}\n"
        f"min_dwell_s = {min_dwell:g}\nmax_dwell_s = {max_dwell:g}\n"
        for w in weights
    )


@dataclass
class RolloutProject:
    """A project folder with a rollout plan, its store, and the processes it started."""

    root: Path
    port: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    loads: list[LoadGenerator] = field(default_factory=list)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    database_url: str | None = None
    """the store (GONOGO_DATABASE_URL of every spawned gonogo); None: the project's SQLite"""

    def _store_url(self) -> str | None:
        """The store's URL; None while the default SQLite store does not exist yet."""
        if self.database_url is not None:
            return self.database_url
        if not (self.root / ".gonogo" / "state.db").exists():
            return None
        return default_url(self.root / ".gonogo")

    @property
    def url(self) -> str:
        """The router's front address."""
        return f"http://127.0.0.1:{self.port}"

    def write(
        self,
        *,
        weights: tuple[float, ...] = (20, 50),
        min_dwell: float = 1.0,
        max_dwell: float = 30.0,
        warmup: float = 0.0,
        interval: float = 0.3,
        canary: dict[str, list[str]] | None = None,
        metrics: str = LENIENT_METRICS,
        extra: str = "",
        staging_exit: int = 0,
        source: str = 'type = "builtin"',
        max_inconclusive: int = 1,
        max_source_errors: int = 3,
        router: str | None = None,
        staging_run: list[str] | None = None,
    ) -> None:
        """The policy: a staging gate, the plan, the sample service as both variants.

        ``router`` is the body of ``[rollout.router]`` (default: the builtin router on
        :attr:`port`); ``staging_run`` the staging gate's command (default: one exiting
        with ``staging_exit``).

        ``warmup`` (seconds of each step the comparisons ignore) is for tests that compare
        latency and expect no rollback: the proxy's pool of connections to a canary that
        just got its share is cold, so its first requests are slower, more so on a loaded
        machine, and the tests would rightly see that as a regression.
        """
        versions = "".join(
            f"\n[rollout.deployer.versions.{v}]\nargs = {json.dumps(args)}\n"
            for v, args in (canary or {}).items()
        )
        probe = f"import sys; sys.exit({staging_exit})"
        run = staging_run or [sys.executable, "-c", probe]
        router = router or f'type = "builtin"\nlisten = "127.0.0.1:{self.port}"'
        text = f"""
version = 1

[project]
name = "rollout-test"

[owners]
operations = ["{USER}"]

[[gates]]
id = "staging"
title = "Staging"
phase = 7

[[gates.criteria]]
id = "smoke"
check = "command"
params = {{ run = {json.dumps(run)} }}

[rollout]
judge = "sequential"
interval_s = {interval:g}
max_inconclusive = {max_inconclusive}
max_source_errors = {max_source_errors}

[rollout.staging]
gates = ["staging"]
smoke_requests = 3
smoke_path = "/healthz"
{steps_toml(weights, min_dwell=min_dwell, max_dwell=max_dwell, warmup=warmup)}
{metrics}
{extra}

[rollout.deployer]
type = "local"
command = [{json.dumps(sys.executable)}, "-m", "gonogo.rollout.sample", "--version", "{{version}}",
  "--port", "{{port}}", "--latency-ms", "2", "--sigma", "0.2"]
env = {{ {MARK} = "{self.token}" }}
health_timeout_s = 60
{versions}

[rollout.router]
{router}

[rollout.source]
{source}
"""
        (self.root / "gonogo.toml").write_text(text, encoding="utf-8")

    def load(self, rps: float = 150.0) -> LoadGenerator:
        """Offer traffic to the router's address (failures while it is down are counted)."""
        generator = LoadGenerator(self.url + "/", rps, seed=len(self.loads) + 1).start()
        self.loads.append(generator)
        return generator

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """``gonogo --project ROOT ARGS`` as a real process (a controller one can kill)."""
        store = {"GONOGO_DATABASE_URL": self.database_url} if self.database_url else {}
        environment = {**os.environ, "GONOGO_USER": USER, MARK: self.token, **store, **(env or {})}
        process = subprocess.Popen(
            [sys.executable, "-m", "gonogo", "--project", str(self.root), *args],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.children.append(process)
        return process

    def start_and_crash(self, point: str) -> RolloutRecord:
        """``rollout start --version v2 --baseline v1`` as a process that dies (exit 137, as
        if SIGKILLed) at the controller's crash point ``point``; the record it left."""
        crashed = self.spawn(
            "rollout", "start", "--version", "v2", "--baseline", "v1",
            env={CRASH_AT_ENV: point},
        )  # fmt: skip
        crashed.wait(timeout=120)
        assert crashed.returncode == 137, crashed.stderr.read() if crashed.stderr else ""
        record = self.record()
        assert record is not None
        return record

    def record(self) -> RolloutRecord | None:
        """The latest rollout, read from the store (None before the first)."""
        url = self._store_url()
        if url is None:
            return None
        store = open_store(url)
        try:
            with store.read() as conn:
                found = state.history(conn, 1)
        finally:
            store.close()
        return found[0] if found else None

    def timeline(self) -> list[dict[str, Any]]:
        """The latest rollout's timeline."""
        record = self.record()
        assert record is not None
        store = open_store(self._store_url() or default_url(self.root / ".gonogo"))
        try:
            with store.read() as conn:
                return state.timeline(conn, record)
        finally:
            store.close()

    def audit_ok(self) -> bool:
        """Whether the audit chain verifies."""
        store = open_store(self._store_url() or default_url(self.root / ".gonogo"))
        try:
            with store.read() as conn:
                return chain.verify(conn).ok
        finally:
            store.close()

    def wait(self, condition: Any, what: str, deadline_s: float = 90.0) -> RolloutRecord:
        """Poll the store until ``condition(record)`` holds."""
        holder: list[RolloutRecord] = []

        def check() -> bool:
            record = self.record()
            if record is not None and condition(record):
                holder.append(record)
                return True
            return False

        wait_until(check, what, deadline_s)
        return holder[-1]

    def close(self) -> None:
        """Stop load, controllers and every marked process."""
        for generator in self.loads:
            generator.stop()
        for process in self.children:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)
        kill_marked(self.token)


def weights(timeline: list[dict[str, Any]]) -> list[float]:
    """The weights the router was set to, in order."""
    return [float(e["to"]) for e in timeline if e["event"] == "rollout.weight"]


@pytest.fixture
def rollout_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RolloutProject]:
    """A rollout project on a free port; everything it started is stopped afterwards."""
    monkeypatch.setenv("GONOGO_USER", USER)
    project = RolloutProject(tmp_path, free_port())
    try:
        yield project
    finally:
        project.close()
