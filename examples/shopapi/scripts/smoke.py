#!/usr/bin/env python3
"""Smoke test: start the real shopapi, exercise it over HTTP, stop it.

Steps: start ``python -m shopapi`` on a free loopback port, wait for
``/healthz``, create an order with ``POST /orders`` and read it back from its
``Location``, check that a bad order gets a 400 and an unknown id a 404,
then stop the server with SIGTERM and check that it exited cleanly and
logged the request id it was given. Prints one line per step.

Exit codes: 0 all steps passed, 1 a step failed. Run from anywhere::

    python scripts/smoke.py
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 15.0


class SmokeError(Exception):
    """A smoke step did not see what it expected."""


# What a failed step can raise: ours, a refused or broken connection, a non-JSON body.
FAILURES = (SmokeError, OSError, ValueError, KeyError, http.client.HTTPException)


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(
    port: int, method: str, path: str, body: object = None, request_id: str | None = None
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request; returns status, headers and the decoded JSON body."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def expect(condition: bool, step: str, detail: object) -> None:
    """Pass the step or raise :class:`SmokeError` with what was seen."""
    if not condition:
        raise SmokeError(f"{step}: got {detail!r}")
    print(f"smoke: ok   {step}")


def wait_until_healthy(server: subprocess.Popen[bytes], port: int) -> dict[str, Any]:
    """Poll /healthz until it answers 200, the process dies or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise SmokeError(f"server exited with {server.returncode} during start-up")
        try:
            status, _, body = call(port, "GET", "/healthz")
        except OSError:
            if time.monotonic() > deadline:
                raise SmokeError(f"no answer on port {port} in {START_TIMEOUT}s") from None
            time.sleep(0.1)
            continue
        expect(status == 200 and body.get("status") == "ok", "GET /healthz", (status, body))
        return dict(body)


def exercise(server: subprocess.Popen[bytes], port: int, request_id: str) -> None:
    """The HTTP steps of the smoke test."""
    health = wait_until_healthy(server, port)
    print(f"smoke: info version {health.get('version')}")
    order = {"sku": "SMOKE-1", "quantity": 2}
    status, headers, created = call(port, "POST", "/orders", order, request_id)
    expect(status == 201 and created.get("sku") == "SMOKE-1", "POST /orders", (status, created))
    expect(headers.get("X-Request-Id") == request_id, "request id echoed", headers)
    location = headers.get("Location", "")
    status, _, fetched = call(port, "GET", location)
    expect(status == 200 and fetched == created, f"GET {location}", (status, fetched))
    status, _, error = call(port, "POST", "/orders", {"sku": "SMOKE-1", "quantity": 0})
    expect(status == 400 and error["error"]["field"] == "quantity", "bad order is 400", error)
    status, _, error = call(port, "GET", "/orders/999999")
    expect(status == 404, "unknown order is 404", (status, error))


def stop(server: subprocess.Popen[bytes], log: IO[str], request_id: str) -> None:
    """SIGTERM the server; it must exit 0 and have logged the request id."""
    server.terminate()
    try:
        code = server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise SmokeError("server did not stop within 10s of SIGTERM") from None
    expect(code == 0, "clean stop on SIGTERM", code)
    log.seek(0)
    events = [json.loads(line) for line in log if line.startswith("{")]
    logged = any(e.get("request_id") == request_id and e.get("status") == 201 for e in events)
    expect(logged, "structured access log has the request id", f"no 201 line for {request_id}")


def main() -> int:
    """Run every step; print the server's log when one fails."""
    port = free_port()
    request_id = f"smoke-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "SHOPAPI_PORT": str(port), "SHOPAPI_LOG_LEVEL": "INFO"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    print(f"smoke: info starting shopapi on 127.0.0.1:{port}")
    failure: Exception | None = None
    with (
        tempfile.TemporaryFile("w+") as log,
        subprocess.Popen(
            [sys.executable, "-m", "shopapi"], cwd=ROOT, env=env, stdout=log, stderr=log
        ) as server,
    ):
        try:
            exercise(server, port, request_id)
        except FAILURES as exc:
            failure = exc
        try:
            if server.poll() is not None:
                raise SmokeError(f"server exited early with {server.returncode}")
            stop(server, log, request_id)
        except FAILURES as exc:
            failure = failure or exc
        finally:
            if server.poll() is None:
                server.kill()
        if failure is not None:
            print(f"smoke: FAIL {failure}")
            log.seek(0)
            sys.stdout.write("".join(f"smoke: log  {line}" for line in log))
            return 1
    print("smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
