"""Several real ``gonogo`` processes writing to one store at the same time lose nothing:
every release exists, the audit trail holds exactly their events and verifies, and the
checkpoint ends at the head."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gonogo
from gonogo.audit import chain, checkpoint
from gonogo.cli.main import main
from gonogo.store.db import default_url, open_store

WORKERS = 6
# The processes run the gonogo these tests import, wherever it is installed from.
SOURCE_ROOT = str(Path(gonogo.__file__).resolve().parents[1])


def _worker_env(user: str, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["GONOGO_USER"] = user
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SOURCE_ROOT, env.get("PYTHONPATH")]))
    if database_url is not None:
        env["GONOGO_DATABASE_URL"] = database_url
    return env


def _run_at_once(project: Path, database_url: str | None) -> dict[str, str]:
    """Start every worker before waiting for any; returns version -> the user who made it."""
    expected = {f"1.{n}.0": f"user{n}@example.com" for n in range(WORKERS)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gonogo", "--project", str(project), "release", "create", v],
            env=_worker_env(user, database_url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v, user in expected.items()
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    for process, (_out, err), version in zip(processes, outputs, expected, strict=True):
        assert process.returncode == 0, err
        assert err.strip() == f"created release {version}"
    return expected


def _check_nothing_lost(
    project: Path, url: str, expected: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--project", str(project)]
    assert main([*options, "release", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["releases"]
    assert {r["version"]: r["created_by"] for r in listed} == expected

    assert main([*options, "audit", "verify", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["checked"] == WORKERS
    assert report["checkpoint"] == report["head"]

    store = open_store(url)
    try:
        with store.read() as conn:
            events = list(chain.events(conn))
            head = chain.head(conn)
    finally:
        store.close()
    assert [e.seq for e in events] == list(range(1, WORKERS + 1))
    assert {e.payload["release"]: e.actor for e in events} == expected
    assert {e.type for e in events} == {"release.created"}
    saved = checkpoint.read(project / ".gonogo" / checkpoint.FILENAME, store.display_url)
    assert saved == head
    assert head.seq == WORKERS


@pytest.mark.slow
def test_concurrent_processes_lose_nothing_on_sqlite(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a fresh project: the processes also race to create the store
    expected = _run_at_once(project, None)

    _check_nothing_lost(project, default_url(project / ".gonogo"), expected, capsys)


@pytest.mark.slow
def test_concurrent_processes_lose_nothing_on_postgres(
    postgres_url: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a fresh database: the processes also race to create the schema
    expected = _run_at_once(project, postgres_url)

    monkeypatch.setenv("GONOGO_DATABASE_URL", postgres_url)
    _check_nothing_lost(project, postgres_url, expected, capsys)
