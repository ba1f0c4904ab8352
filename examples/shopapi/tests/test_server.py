"""The one end-to-end test: start the real server and call it over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_python_m_shopapi_serves_healthz(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SHOPAPI_PORT": str(port), "SHOPAPI_LOG_LEVEL": "info"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log_path = tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}/healthz"
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            [sys.executable, "-m", "shopapi"], cwd=ROOT, env=env, stdout=log, stderr=log
        ) as server,
    ):
        try:
            deadline = time.monotonic() + 15
            while True:
                assert server.poll() is None, log_path.read_text()
                request = urllib.request.Request(url, headers={"X-Request-Id": "e2e-1"})
                try:
                    with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                        status, headers, body = response.status, response.headers, response.read()
                    break
                except (ConnectionError, urllib.error.URLError):
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert status == 200
    assert headers["X-Request-Id"] == "e2e-1"
    assert json.loads(body)["status"] == "ok"
    assert server.returncode == 0
    events = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [e["event"] for e in events] == ["listening", "request", "stopped"]
    assert events[1]["request_id"] == "e2e-1"
