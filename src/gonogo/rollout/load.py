"""A load generator for demos: open-loop Poisson arrivals against one URL.

:class:`LoadGenerator` sends ``GET url`` at random (exponential) intervals averaging
``rps`` requests per second, from an asyncio loop in a background daemon thread, until
:meth:`LoadGenerator.stop`. Arrivals do not wait for answers (open loop: a slow target
does not slow the offered load), but at most ``concurrency`` requests are in flight; an
arrival beyond that is counted as *dropped* instead of queued. A target that is down
only adds to the transport-error count: the generator keeps going.

:meth:`LoadGenerator.stats` reads the client-side counts at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Self

import httpx

from gonogo.rollout.errors import RolloutError

__all__ = ["LoadError", "LoadGenerator", "LoadStats"]

#: connections per client (see :class:`_Shard`)
_SHARD = 8
#: longest single sleep of the arrival loop, so stop() is noticed quickly at low rates
_TICK_S = 0.05


class LoadError(RolloutError):
    """The load generator was given settings it cannot use."""


@dataclass(frozen=True)
class LoadStats:
    """Client-side counts since start (every arrival ends up in exactly one bucket)."""

    arrivals: int = 0
    """requests the Poisson schedule asked for so far"""
    sent: int = 0
    dropped: int = 0
    """arrivals not sent because ``concurrency`` requests were already in flight"""
    by_class: dict[str, int] = field(default_factory=dict)
    """answers by status class: ``2xx``, ``3xx``, ``4xx``, ``5xx``"""
    transport_errors: int = 0
    """requests that got no answer: refused, reset, timed out"""
    cancelled: int = 0
    """requests still in flight when the generator stopped"""
    elapsed_s: float = 0.0
    """seconds from the first scheduled arrival to now (or to the stop)"""

    @property
    def answered(self) -> int:
        """Requests that got an HTTP answer, whatever its status."""
        return sum(self.by_class.values())

    @property
    def in_flight(self) -> int:
        """Requests sent and not finished yet."""
        return self.sent - self.answered - self.transport_errors - self.cancelled

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "arrivals": self.arrivals,
            "sent": self.sent,
            "dropped": self.dropped,
            "answered": self.answered,
            "by_class": dict(sorted(self.by_class.items())),
            "transport_errors": self.transport_errors,
            "cancelled": self.cancelled,
            "in_flight": self.in_flight,
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass
class _Tally:
    """The running counts behind :class:`LoadStats`; guarded by the generator's lock."""

    arrivals: int = 0
    sent: int = 0
    dropped: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    transport_errors: int = 0
    cancelled: int = 0
    started_at: float | None = None
    stopped_at: float | None = None


@dataclass
class _Shard:
    """One client and its requests in flight.

    Choice: several clients of ``_SHARD`` connections instead of one big pool. httpcore's
    pool does work proportional to (idle connections x connections) on every request, so
    one client of 64 connections costs milliseconds of CPU per request under load; the
    least busy of eight clients of eight never queues and stays cheap.
    """

    client: httpx.AsyncClient
    in_flight: int = 0


class LoadGenerator:
    """Open-loop Poisson load in a background thread; see the module docstring."""

    def __init__(
        self,
        url: str,
        rps: float,
        *,
        seed: int | None = None,
        concurrency: int = 64,
        timeout_s: float = 10.0,
    ) -> None:
        try:
            parsed = httpx.URL(url)
            valid = parsed.scheme in {"http", "https"} and bool(parsed.host)
        except httpx.InvalidURL:
            valid = False
        if not valid:
            raise LoadError(
                f"load target {url!r} is not an http:// or https:// URL",
                hint="give the full address, e.g. http://127.0.0.1:8080/",
            )
        if not (rps > 0 and math.isfinite(rps)):
            raise LoadError(f"load rate {rps!r} is not a positive number of requests per second")
        if concurrency < 1:
            raise LoadError(f"load concurrency {concurrency} is below 1")
        if not (timeout_s > 0 and math.isfinite(timeout_s)):
            raise LoadError(f"request timeout {timeout_s!r} is not a positive number of seconds")
        self.url = url
        self.rps = float(rps)
        self.seed = seed
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._tally = _Tally()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the generator is sending now."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start sending with fresh counts (no-op when already running); returns the generator."""
        if self._thread is not None:
            return self
        self._stopping.clear()
        with self._lock:
            self._tally = _Tally()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="gonogo-load", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> LoadStats:
        """Stop arrivals, give requests in flight up to the timeout, return the final counts."""
        thread = self._thread
        if thread is not None:
            self._stopping.set()
            thread.join(self.timeout_s + 30)
            self._thread = None
        return self.stats()

    def stats(self) -> LoadStats:
        """The counts now (thread-safe)."""
        with self._lock:
            tally = self._tally
            elapsed = 0.0
            if tally.started_at is not None:
                end = time.monotonic() if tally.stopped_at is None else tally.stopped_at
                elapsed = end - tally.started_at
            return LoadStats(
                tally.arrivals,
                tally.sent,
                tally.dropped,
                dict(tally.by_class),
                tally.transport_errors,
                tally.cancelled,
                elapsed,
            )

    async def _run(self) -> None:
        rng = random.Random(self.seed)  # noqa: S311 - arrival times, not secrets
        loop = asyncio.get_running_loop()
        in_flight: set[asyncio.Task[None]] = set()
        async with contextlib.AsyncExitStack() as stack:
            shards = [_Shard(await stack.enter_async_context(client)) for client in self._clients()]
            next_at = loop.time()
            with self._lock:
                self._tally.started_at = time.monotonic()
            while not self._stopping.is_set():
                next_at += rng.expovariate(self.rps)
                while (wait := next_at - loop.time()) > 0 and not self._stopping.is_set():
                    await asyncio.sleep(min(wait, _TICK_S))
                if self._stopping.is_set():
                    break
                with self._lock:
                    self._tally.arrivals += 1
                    if len(in_flight) >= self.concurrency:
                        self._tally.dropped += 1
                        continue
                    self._tally.sent += 1
                shard = min(shards, key=lambda candidate: candidate.in_flight)
                task = asyncio.create_task(self._one(shard))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            with self._lock:
                self._tally.stopped_at = time.monotonic()
            await self._drain(in_flight)

    async def _drain(self, in_flight: set[asyncio.Task[None]]) -> None:
        if not in_flight:
            return
        _, pending = await asyncio.wait(set(in_flight), timeout=self.timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        with self._lock:
            self._tally.cancelled += len(pending)

    def _clients(self) -> list[httpx.AsyncClient]:
        """Enough small clients for ``concurrency`` connections (see :class:`_Shard`)."""
        tls = ssl.create_default_context()  # one context: loading CA files is slow
        return [
            httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s),
                limits=httpx.Limits(max_connections=_SHARD, max_keepalive_connections=_SHARD),
                verify=tls,
                trust_env=False,  # load goes to the target, never through HTTP_PROXY
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            )
            for _ in range(math.ceil(self.concurrency / _SHARD))
        ]

    async def _one(self, shard: _Shard) -> None:
        shard.in_flight += 1
        try:
            response = await shard.client.get(self.url)
        except httpx.HTTPError:
            with self._lock:
                self._tally.transport_errors += 1
            return
        finally:
            shard.in_flight -= 1
        status_class = f"{response.status_code // 100}xx"
        with self._lock:
            by_class = self._tally.by_class
            by_class[status_class] = by_class.get(status_class, 0) + 1
