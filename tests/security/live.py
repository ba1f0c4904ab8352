"""Real local services for the security tests: the shop twins and the hook receiver.

Each runs as its own process on a free 127.0.0.1 port (it prints ``PORT <n>`` once
listening) and is stopped at the end of the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Project

FIXTURES = Path(__file__).parent / "fixtures"
CERT = FIXTURES / "tls" / "cert.pem"
KEY = FIXTURES / "tls" / "key.pem"

#: the shop's account and signing key, handed to the services and to gonogo through env vars
SHOP_USER = "alice"
SHOP_PASSWORD = "correct-horse-battery-staple-9"
SHOP_JWT_SECRET = "shop-jwt-signing-key-4f1c9a2e7b"
SHOP_ENV = {
    "SHOP_USER": SHOP_USER,
    "SHOP_PASSWORD": SHOP_PASSWORD,
    "SHOP_JWT_SECRET": SHOP_JWT_SECRET,
}


@dataclass(frozen=True)
class Service:
    """A running local service."""

    url: str
    process: subprocess.Popen[str]


@contextmanager
def start(script: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Service]:
    """Run ``fixtures/<script>`` with ``args``; yield it once it listens; stop it after."""
    process = subprocess.Popen(
        [sys.executable, str(FIXTURES / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith("PORT "):
            process.kill()
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"{script} did not start: {first!r} {err}")
        scheme = "https" if "--tls" in args else "http"
        yield Service(f"{scheme}://127.0.0.1:{int(first.split()[1])}", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def shop(mode: str, *, audit_log: Path | None = None, tls: bool = False) -> Iterator[Service]:
    """The shop API twin ``mode`` ("flawed" or "fixed")."""
    args = ["--mode", mode]
    if audit_log is not None:
        args += ["--audit-log", str(audit_log)]
    if tls:
        args += ["--tls", str(CERT), str(KEY)]
    with start("shop_service.py", *args, env=SHOP_ENV) as service:
        yield service


@contextmanager
def receiver(record: Path, *, token: str = "") -> Iterator[Service]:
    """The hook receiver, recording every request to ``record`` (JSON lines)."""
    with start("hook_receiver.py", str(record), env={"RECEIVER_TOKEN": token}) as service:
        yield service


def received(record: Path) -> list[dict[str, Any]]:
    """What the receiver got, in order."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """An empty project folder driven through ``gonogo.cli.main.main``."""
    root = tmp_path / "project"
    root.mkdir()
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)
