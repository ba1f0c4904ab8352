"""A small HTTP service with a configurable error rate and latency, for demos and tests.

``python -m gonogo.rollout.sample --port 8001 --version v2 --error-rate 0.05`` serves:

* ``GET /`` and any other path: a JSON body after a lognormal delay (``--latency-ms`` is
  the median, ``--sigma`` the spread); a share ``--error-rate`` of answers are 500s.
* ``GET /healthz``: 200 ``ok`` (the deployer's health check).
* ``GET /metrics``: Prometheus exposition of ``sample_requests_total{version,code}`` and
  the histogram ``sample_request_duration_seconds{version}`` (prometheus_client).

``--regress-after-s`` applies ``--regressed-error-rate``/``--regressed-latency-ms`` once
the service has run that long: a canary that starts healthy and then degrades.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

#: histogram buckets in seconds, fine enough for quantiles around typical web latencies
BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08,
    0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0,
)  # fmt: skip


@dataclass(frozen=True)
class Behaviour:
    """How the service answers: error share and latency law."""

    error_rate: float = 0.0
    latency_ms: float = 5.0
    sigma: float = 0.3

    def delay_s(self, rng: random.Random) -> float:
        """One request's delay in seconds (lognormal around the median)."""
        return self.latency_ms * math.exp(self.sigma * rng.gauss(0.0, 1.0)) / 1000.0


class SampleService:
    """The service; :meth:`serve` blocks, :meth:`shutdown` stops it from another thread."""

    def __init__(
        self,
        version: str,
        behaviour: Behaviour,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        regressed: Behaviour | None = None,
        regress_after_s: float | None = None,
        seed: int | None = None,
    ) -> None:
        self.version = version
        self.behaviour = behaviour
        self.regressed = regressed
        self.regress_after_s = regress_after_s
        self.started = time.monotonic()
        self._rng = random.Random(seed)  # noqa: S311 - simulated failures, not security
        self._lock = threading.Lock()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sample_requests",
            "Requests answered, by version and status code.",
            ("version", "code"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "sample_request_duration_seconds",
            "Time to answer a request, by version.",
            ("version",),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server.server_address[1])

    def current(self) -> Behaviour:
        """The behaviour now (the regressed one once its time has come)."""
        if (
            self.regressed is not None
            and self.regress_after_s is not None
            and time.monotonic() - self.started >= self.regress_after_s
        ):
            return self.regressed
        return self.behaviour

    def draw(self) -> tuple[bool, float]:
        """Whether the next answer fails, and its delay in seconds."""
        behaviour = self.current()
        with self._lock:
            failed = self._rng.random() < behaviour.error_rate
            delay = behaviour.delay_s(self._rng)
        return failed, delay

    def serve(self) -> None:
        """Serve until shut down."""
        self.server.serve_forever(poll_interval=0.1)

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


def _handler(service: SampleService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out as two writes; without TCP_NODELAY the second one waits
        # for the client's delayed ACK (~40 ms) on a kept-alive connection
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the router measures requests."""

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(200, b"ok\n", "text/plain")
                return
            if self.path == "/metrics":
                self._send(200, generate_latest(service.registry), CONTENT_TYPE_LATEST)
                return
            started = time.perf_counter()
            failed, delay = service.draw()
            time.sleep(delay)
            code = 500 if failed else 200
            body = json.dumps({"version": service.version, "ok": not failed}).encode()
            self._send(code, body + b"\n", "application/json")
            service.requests.labels(service.version, str(code)).inc()
            service.duration.labels(service.version).observe(time.perf_counter() - started)

    return Handler


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m gonogo.rollout.sample", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--version", required=True, help="version label, e.g. v1")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=5.0, help="median latency")
    parser.add_argument("--sigma", type=float, default=0.3, help="lognormal spread")
    parser.add_argument("--regress-after-s", type=float, default=None)
    parser.add_argument("--regressed-error-rate", type=float, default=None)
    parser.add_argument("--regressed-latency-ms", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if not 0.0 <= args.error_rate <= 1.0:
        parser.error("--error-rate must be between 0 and 1")
    if args.latency_ms < 0 or args.sigma < 0:
        parser.error("--latency-ms and --sigma must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service until SIGTERM or SIGINT; print ``listening PORT`` once bound."""
    args = parse_args(argv)
    behaviour = Behaviour(args.error_rate, args.latency_ms, args.sigma)
    regressed = None
    if args.regress_after_s is not None:
        regressed = Behaviour(
            args.regressed_error_rate if args.regressed_error_rate is not None else args.error_rate,
            args.regressed_latency_ms if args.regressed_latency_ms is not None else args.latency_ms,
            args.sigma,
        )
    service = SampleService(
        args.version,
        behaviour,
        host=args.host,
        port=args.port,
        regressed=regressed,
        regress_after_s=args.regress_after_s,
        seed=args.seed,
    )

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=service.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening {service.port}", flush=True)
    service.serve()
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through python -m
    sys.exit(main())
