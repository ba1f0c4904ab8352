"""Real backends for rollout tests: sample-service processes and a small echo server.

``sample_service("v2", "--error-rate", "1")`` starts ``python -m gonogo.rollout.sample``
on a free loopback port, waits for its ``listening PORT`` line and stops its process
group on exit. :class:`Services` starts several and stops them all, for fixtures::

    @pytest.fixture
    def services() -> Iterator[Services]:
        with Services() as running:
            yield running

``echo_server()`` runs an HTTP server in a thread that answers every request with what
it received (method, path, headers, body) as JSON, for tests of request forwarding. The
header ``X-Echo-Status`` sets the status; path ``/chunked`` answers in chunks, and path
``/hangup`` closes the kept-alive connection right after answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Self

import httpx

from gonogo.checks.command import kill_group
from gonogo.rollout.deploy.interface import Backend, Variant

#: how long a service may take to print its port (a loaded CI machine can be slow)
READY_DEADLINE_S = 60.0


@dataclass
class SampleService:
    """One running sample service."""

    version: str
    port: int
    process: subprocess.Popen[bytes]
    stopped: bool = False

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def backend(self, variant: Variant) -> Backend:
        """This service as a router backend for ``variant``."""
        return Backend(variant, self.version, self.url)

    def stop(self) -> None:
        """Stop the process group (idempotent): the port then refuses connections."""
        if not self.stopped:
            self.stopped = True
            kill_group(self.process)


@contextlib.contextmanager
def sample_service(
    version: str, *args: str, ready_s: float = READY_DEADLINE_S
) -> Iterator[SampleService]:
    """Run ``python -m gonogo.rollout.sample --version VERSION --port 0 ARGS``."""
    argv = [sys.executable, "-m", "gonogo.rollout.sample", "--version", version, "--port", "0"]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [*argv, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        service = SampleService(version, 0, process)
        try:
            service.port = _wait_for_port(process, stderr, ready_s)
            yield service
        finally:
            service.stop()


def _wait_for_port(process: subprocess.Popen[bytes], stderr: IO[bytes], ready_s: float) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + ready_s
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise AssertionError(f"sample service printed no port within {ready_s} s")
            chunk = process.stdout.read1(4096)  # type: ignore[attr-defined]
            if not chunk:
                stderr.seek(0)
                raise AssertionError(
                    f"sample service exited ({process.wait()}): {stderr.read().decode()}"
                )
            line += chunk
    words = line.split()
    assert words[:1] == [b"listening"], line
    return int(words[1])


class Services(contextlib.ExitStack):
    """Starts sample services and stops them all on exit."""

    def __enter__(self) -> Self:
        super().__enter__()
        return self

    def start(self, version: str, *args: str) -> SampleService:
        """A running sample service; stopped when the ``with`` block ends."""
        return self.enter_context(sample_service(version, *args))


@dataclass
class EchoServer:
    """An in-thread HTTP server answering with what it received."""

    server: ThreadingHTTPServer

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def backend(self, variant: Variant, version: str = "echo") -> Backend:
        """This server as a router backend."""
        return Backend(variant, version, self.url)


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        answer = {
            "method": self.command,
            "path": self.path,
            "headers": [[name.lower(), value] for name, value in self.headers.items()],
            "body": body.decode("latin-1"),
        }
        data = json.dumps(answer).encode()
        status = int(self.headers.get("X-Echo-Status", "200"))
        if self.path == "/chunked":  # the same answer in three chunks
            self._chunked(status, data)
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", "yes")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        if self.path == "/hangup":  # close the kept-alive connection without saying so
            self.close_connection = True

    def _chunked(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        third = len(data) // 3 + 1
        for start in range(0, len(data), third):
            piece = data[start : start + third]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    # http.server dispatches to do_<METHOD>; every method echoes
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _echo  # noqa: N815


@contextlib.contextmanager
def echo_server() -> Iterator[EchoServer]:
    """Run an echo server on a free loopback port for the ``with`` block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield EchoServer(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def free_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a new socket can bind this loopback port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def fetch(url: str, n: int, *, concurrency: int = 10, method: str = "GET") -> list[httpx.Response]:
    """``n`` requests to ``url`` over one keep-alive client, ``concurrency`` at a time."""

    async def run() -> list[httpx.Response]:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(trust_env=False, timeout=60) as client:

            async def one() -> httpx.Response:
                async with gate:
                    return await client.request(method, url)

            return list(await asyncio.gather(*(one() for _ in range(n))))

    return asyncio.run(run())


def versions(responses: list[httpx.Response]) -> Counter[str]:
    """How many answers came from each sample-service version (by the JSON body)."""
    return Counter(str(r.json()["version"]) for r in responses)
