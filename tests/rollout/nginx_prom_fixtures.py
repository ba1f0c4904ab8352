"""Real processes for the nginx, Prometheus and Gateway API router tests, on loopback.

* :func:`sample` starts ``python -m gonogo.rollout.sample`` and waits for its
  ``listening PORT`` line; :class:`Processes` stops everything it started.
* :class:`ExternalNginx`: an nginx the test runs itself (standing in for the team's own),
  whose http block includes ``conf.d/*.conf``.
* :class:`PrometheusServer`: a real Prometheus in a temp dir with a generated config,
  validated with ``promtool check config`` first.
* :func:`wait_until` polls with a generous deadline; tests never assert durations.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

LOOPBACK = "127.0.0.1"
DEADLINE_S = 60.0


def wait_until(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after the deadline."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {deadline_s:g}s: {what}")
        time.sleep(0.1)


def free_port() -> int:
    """A port nothing listens on now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class Sample:
    """A running sample service."""

    version: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{LOOPBACK}:{self.port}"

    def counted(self) -> dict[str, int]:
        """What the service itself counted: requests per status code, from its /metrics."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        counts: dict[str, int] = {}
        for line in text.splitlines():
            if line.startswith("sample_requests_total{"):
                labels, value = line.rsplit(" ", 1)
                code = labels.split('code="', 1)[1].split('"', 1)[0]
                counts[code] = counts.get(code, 0) + int(float(value))
        return counts


@dataclass
class Processes:
    """Starts processes in their own groups and stops them all on exit."""

    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()

    def sample(
        self,
        version: str,
        *,
        error_rate: float = 0.0,
        latency_ms: float = 1.0,
        sigma: float = 0.0,
        seed: int = 1,
    ) -> Sample:
        """Start a sample service and wait for its ``listening PORT`` line."""
        argv = [
            sys.executable,
            "-m",
            "gonogo.rollout.sample",
            "--version",
            version,
            "--port",
            "0",
            "--error-rate",
            str(error_rate),
            "--latency-ms",
            str(latency_ms),
            "--sigma",
            str(sigma),
            "--seed",
            str(seed),
        ]
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self.started.append(process)
        assert process.stdout is not None
        line = _read_line(process.stdout, DEADLINE_S)
        assert line.startswith("listening "), f"sample service said {line!r}"
        return Sample(version, int(line.split()[1]), process)

    def start(self, argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
        """Start a long-running command with its output in ``log``."""
        with log.open("wb") as output:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process


def _read_line(stream: object, deadline_s: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
    try:
        if not selector.select(timeout=deadline_s):
            raise AssertionError(f"no output within {deadline_s:g}s")
        return stream.readline().decode().strip()  # type: ignore[attr-defined, no-any-return]
    finally:
        selector.close()


def versions(url: str, count: int, path: str = "/") -> list[str]:
    """Send ``count`` requests through new clients; the ``version`` of each answer.

    New clients open new connections, so they reach the workers nginx runs now. Eight
    clients send in parallel: the sample service answers a reused connection only after
    a delayed ACK (its headers and body go out as two small writes).
    """

    def batch(size: int) -> list[str]:
        found = []
        with httpx.Client(timeout=30) as client:
            for _ in range(size):
                response = client.get(f"{url}{path}")
                assert response.status_code == 200, response.text
                found.append(str(response.json()["version"]))
        return found

    sizes = [count // 8 + (1 if i < count % 8 else 0) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return [version for part in pool.map(batch, sizes) for version in part]


def established_to(port: int) -> int:
    """Established TCP connections whose local port is ``port`` (a server's open requests)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text(encoding="ascii").splitlines()[1:]:
                fields = row.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":
                    count += 1
    return count


@dataclass
class ExternalNginx:
    """An nginx the test runs as the team's own: ``conf.d/*.conf`` is included in http."""

    root: Path
    processes: Processes

    @property
    def conf(self) -> Path:
        """The main configuration file."""
        return self.root / "nginx.conf"

    @property
    def include_dir(self) -> Path:
        """Where the team's included files go."""
        return self.root / "conf.d"

    def argv(self, *args: str) -> list[str]:
        """An nginx command line for this instance."""
        prefix = ["nginx", "-p", f"{self.root}/", "-c", str(self.conf)]
        return [*prefix, "-e", str(self.error_log), *args]

    @property
    def error_log(self) -> Path:
        """nginx's error log."""
        return self.root / "error.log"

    def pid(self) -> int | None:
        """The master's pid, when it wrote one."""
        with contextlib.suppress(OSError, ValueError):
            return int((self.root / "nginx.pid").read_text(encoding="ascii"))
        return None

    def start(self) -> None:
        """Write the main config and run nginx in the foreground of its own process group."""
        self.include_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "temp").mkdir(exist_ok=True)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            f"{user}worker_processes 1;\n"
            f'pid "{self.root}/nginx.pid";\n'
            f'error_log "{self.error_log}" notice;\n'
            "daemon off;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f'    client_body_temp_path "{self.root}/temp/body";\n'
            f'    proxy_temp_path "{self.root}/temp/proxy";\n'
            f'    fastcgi_temp_path "{self.root}/temp/fastcgi";\n'
            f'    uwsgi_temp_path "{self.root}/temp/uwsgi";\n'
            f'    scgi_temp_path "{self.root}/temp/scgi";\n'
            "    access_log off;\n"
            f'    include "{self.include_dir}/*.conf";\n'
            "}\n",
            encoding="utf-8",
        )
        self.processes.start(self.argv(), self.root / "nginx.out")
        wait_until(lambda: self.pid() is not None, "the external nginx to write its pid")


@dataclass
class PrometheusServer:
    """A real Prometheus scraping ``targets`` every second."""

    root: Path
    processes: Processes
    port: int = 0

    @property
    def url(self) -> str:
        """Its HTTP API address."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, targets: Sequence[str], *, file_sd: Path | None = None) -> None:
        """Write and validate the config (promtool), start, wait until ready.

        ``file_sd``: a JSON file of targets that Prometheus also scrapes, re-read whenever
        it changes (file-based service discovery, for services whose ports come later).
        """
        config = self.root / "prometheus.yml"
        listed = ", ".join(f"'{target}'" for target in targets)
        discovered = (
            f"    file_sd_configs:\n      - files: ['{file_sd}']\n        refresh_interval: 1s\n"
            if file_sd is not None
            else ""
        )
        config.write_text(
            "global:\n"
            "  scrape_interval: 1s\n"
            "  evaluation_interval: 1s\n"
            "scrape_configs:\n"
            "  - job_name: sample\n"
            "    scrape_interval: 1s\n"
            "    scrape_timeout: 1s\n"
            f"    static_configs:\n      - targets: [{listed}]\n" + discovered,
            encoding="utf-8",
        )
        check = subprocess.run(
            ["promtool", "check", "config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        for _ in range(3):  # a free port can be taken between picking and binding it
            self.port = free_port()
            process = self.processes.start(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.root / 'data'}",
                    f"--web.listen-address={LOOPBACK}:{self.port}",
                ],
                self.root / "prometheus.log",
            )
            if self._ready(process):
                return
        raise AssertionError((self.root / "prometheus.log").read_text(encoding="utf-8"))

    def _ready(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/-/ready", timeout=5).status_code == 200:
                    return True
            time.sleep(0.2)
        return False


@contextlib.contextmanager
def processes() -> Iterator[Processes]:
    """A :class:`Processes` that stops what it started."""
    with Processes() as running:
        yield running
