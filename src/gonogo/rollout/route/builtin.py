"""The ``builtin`` router: an embedded weighted reverse proxy that measures every request.

:class:`BuiltinRouter` runs an asyncio event loop in a background daemon thread. It
accepts HTTP/1.1 on ``listen`` (parsed with h11, keep-alive included), picks the baseline
or the canary for each request, forwards the request (method, path and query, headers
without hop-by-hop ones, body) over pooled keep-alive connections
(:mod:`~gonogo.rollout.route.upstream`) and sends the answer back. Every request is
counted for the variant it went to: one request, an error when the answer is a 5xx or
the upstream could not be reached (the client then gets 502, or 504 after
``upstream_timeout_s``), and its latency in the analysis bucket layout.

The split is deterministic (stride scheduling): each request adds the canary's share to a
credit and goes to the canary whenever the credit passes a whole request, so 1% sends
exactly one request in every hundred consecutive ones, and 0.5% one in every two hundred.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Self
from urllib.parse import urlsplit

import h11
from pydantic import Field, field_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.rollout.analysis.histogram import LatencyHistogram, bucket_of
from gonogo.rollout.analysis.interface import VariantSample
from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route.upstream import Origin, UpstreamError, UpstreamPool
from gonogo.strict import StrictModel

__all__ = ["BuiltinRouter", "BuiltinRouterConfig", "parse_listen"]

_log = logging.getLogger(__name__)

#: the split's resolution: the canary's share in millionths (0.0001 percentage points)
SCALE = 1_000_000
#: largest request body the proxy buffers; larger ones get 413
MAX_BODY_BYTES = 64 * 1024 * 1024
#: a client connection with no bytes for this long is closed (keep-alive idle timeout)
IDLE_TIMEOUT_S = 75.0
#: loop turns given to connections accepted just before a shutdown
_SETTLE_TURNS = 5
#: how long start and close may take before the router reports a failure
_CONTROL_TIMEOUT_S = 30.0
_READ_CHUNK = 65536
# a proxy listening on every interface is reached through loopback from this machine
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - not binding, mapping

# RFC 9110 section 7.6.1, plus framing headers the proxy recomputes itself
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"expect",
    }
)


def parse_listen(text: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` for IPv6) into its parts; ValueError when bad."""
    host, sep, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"listen address {text!r} is not host:port (e.g. 127.0.0.1:8080)")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"listen port {port} is above 65535")
    return host, port


class BuiltinRouterConfig(StrictModel):
    """``[rollout.router]`` with ``type = "builtin"``."""

    type: Literal["builtin"] = "builtin"
    listen: str = "127.0.0.1:0"
    """host:port clients send traffic to; port 0 picks a free port"""
    upstream_timeout_s: float = Field(default=30.0, gt=0, le=MAX_WAIT_S)
    """how long one upstream request may take before the client gets 504"""

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        parse_listen(value)
        return value


@dataclass(frozen=True)
class _Table:
    """What the proxy routes to now; replaced whole, never changed in place."""

    baseline: Backend
    canary: Backend | None
    share: int
    """the canary's share in millionths of the traffic"""
    origins: dict[str, Origin] = field(default_factory=dict, compare=False)
    """where each backend's URL points, parsed once"""


@dataclass
class _Meter:
    """Cumulative counts of one (variant, version); guarded by the router's lock."""

    requests: int = 0
    errors: int = 0
    latency: dict[int, int] = field(default_factory=dict)

    def sample(self) -> VariantSample:
        return VariantSample(self.requests, self.errors, LatencyHistogram(dict(self.latency)))


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    reason: bytes = b""


class BuiltinRouter:
    """Weighted reverse proxy in a background thread; see the module docstring."""

    name: ClassVar[str] = "builtin"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, upstream_timeout_s: float = 30.0
    ) -> None:
        if not upstream_timeout_s > 0 or math.isinf(upstream_timeout_s):
            raise RouterError(
                f"upstream timeout {upstream_timeout_s} is not a positive number of seconds"
            )
        self.host = host
        self.port = port
        self.upstream_timeout_s = upstream_timeout_s
        self._table: _Table | None = None
        self._credit = SCALE // 2  # only touched on the loop thread
        self._meters: dict[tuple[Variant, str], _Meter] = {}
        self._lock = threading.Lock()
        self._control = threading.Lock()  # serialises start, configure and close
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._upstream: UpstreamPool | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()  # every accepted client connection
        self._bound_port: int | None = None

    @classmethod
    def from_config(cls, config: BuiltinRouterConfig) -> Self:
        """A router from its validated ``[rollout.router]`` table (not started yet)."""
        host, port = parse_listen(config.listen)
        return cls(host, port, upstream_timeout_s=config.upstream_timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- Router --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The front address (``http://host:port``); the port is known once started."""
        port = self._bound_port if self._bound_port is not None else self.port
        if port == 0:
            raise RouterError(
                "the builtin router has no port yet: port 0 is picked when it starts",
                hint="call configure() (or start()) first",
            )
        host = _WILDCARDS.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        """Whether the proxy is serving now."""
        return self._server is not None

    def configure(self, baseline: Backend, canary: Backend | None, canary_percent: float) -> None:
        """Route to these backends with this split, starting the proxy when needed."""
        share = _share(canary_percent)
        origins = {b.url: _origin(b) for b in (baseline, canary) if b is not None}
        if canary is None and share:
            raise RouterError(
                f"cannot send {canary_percent:g}% of traffic to the canary: none is configured",
                hint="configure a canary backend or a 0% share",
            )
        self.start()
        table = _Table(baseline, canary, share, origins)
        self._apply(table, reset_credit=self._backends_changed(table))

    def set_weight(self, canary_percent: float) -> None:
        """Change the canary's share of traffic (0 to 100) live, on the same backends."""
        share = _share(canary_percent)
        table = self._table
        if table is None or not self.running:
            raise RouterError(
                "the builtin router has no backends to split traffic between",
                hint="call configure() first",
            )
        if table.canary is None and share:
            raise RouterError(
                f"cannot send {canary_percent:g}% of traffic to the canary: none is configured",
                hint="configure a canary backend first",
            )
        new = _Table(table.baseline, table.canary, share, table.origins)
        self._apply(new, reset_credit=False)

    def weight(self) -> float | None:
        """The canary's share (percent) the proxy applies now; None when it routes nothing."""
        table = self._table
        if table is None or not self.running:
            return None
        return table.share * 100 / SCALE

    def close(self) -> None:
        """Stop serving, close client and upstream connections, free the port (idempotent)."""
        with self._control:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_CONTROL_TIMEOUT_S)
            except FutureTimeout:
                _log.warning("the builtin router did not shut down cleanly in time")
            finally:
                _stop_loop(loop, thread)
                self._loop = self._thread = None
                self._server = None
                self._table = None
                self._bound_port = None

    # -- measurements --------------------------------------------------------------------

    def totals(self) -> dict[tuple[Variant, str], VariantSample]:
        """Cumulative counts of every (variant, version) the proxy has routed to."""
        with self._lock:
            return {key: meter.sample() for key, meter in self._meters.items()}

    def read(self, keys: Iterable[tuple[Variant, str]]) -> dict[tuple[Variant, str], VariantSample]:
        """Cumulative counts of these (variant, version) pairs, read at one instant."""
        with self._lock:
            return {
                key: meter.sample() if (meter := self._meters.get(key)) else VariantSample()
                for key in keys
            }

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start serving (unconfigured, the proxy answers 503); no-op when running."""
        with self._control:
            if self._loop is not None:
                return
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="gonogo-builtin-router", daemon=True
            )
            thread.start()
            try:
                asyncio.run_coroutine_threadsafe(self._serve(), loop).result(_CONTROL_TIMEOUT_S)
            except OSError as exc:
                _stop_loop(loop, thread)
                # asyncio wraps bind errors in a long message; the errno says it plainly
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                raise RouterError(
                    f"the builtin router cannot listen on {self.host}:{self.port}: {reason}",
                    hint="pick a free port in [rollout.router] listen, or 0 for any",
                ) from None
            except FutureTimeout:
                _stop_loop(loop, thread)
                raise RouterError("the builtin router did not start in time") from None
            self._loop, self._thread = loop, thread

    def _apply(self, table: _Table, *, reset_credit: bool) -> None:
        """Swap the table on the loop thread, so no request sees half of a change."""
        loop = self._loop
        if loop is None:  # pragma: no cover - configure starts the loop first
            raise RouterError("the builtin router is not running", hint="call configure()")

        def swap() -> None:
            self._table = table
            if reset_credit:
                self._credit = SCALE // 2

        done = asyncio.run_coroutine_threadsafe(_call(swap), loop)
        try:
            done.result(_CONTROL_TIMEOUT_S)
        except FutureTimeout:
            raise RouterError("the builtin router did not apply the split in time") from None

    def _backends_changed(self, table: _Table) -> bool:
        old = self._table
        return old is None or (old.baseline, old.canary) != (table.baseline, table.canary)

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, backlog=1024)
        self._upstream = UpstreamPool()
        self._bound_port = int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        server, self._server = self._server, None  # from now on _accept hangs up at once
        if server is not None:
            # Stop accepting first and let the connections already accepted finish their
            # set-up (asyncio wraps each in a transport a few loop turns later, and on
            # Python 3.11 a server closed meanwhile leaks their sockets); only then close
            # the listening socket, whose backlog the kernel resets.
            loop = asyncio.get_running_loop()
            for sock in server.sockets:
                loop.remove_reader(sock.fileno())
            for _ in range(_SETTLE_TURNS):
                await asyncio.sleep(0)
            server.close()
        await self._hang_up()
        if server is not None:
            await server.wait_closed()
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None
        await asyncio.sleep(0)  # let the transports run their close callbacks before the stop

    async def _hang_up(self) -> None:
        """Cancel every open client connection, wait until each has ended, close them all.

        A handler cancelled before it ever ran never reaches its own ``finally``, so the
        connections are closed here too.
        """
        while self._connections:
            tasks = list(self._connections)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._connections.difference_update(tasks)
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    # -- one client connection -----------------------------------------------------------

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Each accepted connection is known, with its handler, from the moment it is."""
        if self._server is None:  # accepted while shutting down: hang up at once
            writer.close()
            return
        self._writers.add(writer)
        task = asyncio.get_running_loop().create_task(self._connection(reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        peer = writer.get_extra_info("peername")
        client_ip = str(peer[0]) if isinstance(peer, tuple) else ""
        try:
            await self._converse(conn, reader, writer, client_ip)
        except h11.RemoteProtocolError as exc:
            await _refuse(conn, writer, exc.error_status_hint, "bad request")
        except _TooLarge:
            await _refuse(conn, writer, 413, "request body too large")
        except (TimeoutError, ConnectionError, h11.LocalProtocolError):
            pass  # an idle, vanished or misbehaving client: just hang up
        except asyncio.CancelledError:
            # close() cancels open connections; ending quietly keeps Python 3.11's stream
            # callback from logging the cancellation as an unhandled error
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    async def _converse(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client_ip: str,
    ) -> None:
        while True:
            received = await _read_request(conn, reader, writer)
            if received is None:
                return
            request, body = received
            answer = await self._answer(request, body, client_ip)
            writer.write(_encode(conn, request, answer))
            await writer.drain()
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _answer(self, request: h11.Request, body: bytes, client_ip: str) -> _Answer:
        table = self._table
        if table is None:
            return _plain(503, "no backend configured")
        variant, backend = self._choose(table)
        started = time.perf_counter()
        answer = await self._forward(table, backend, request, body, client_ip)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self._record(variant, backend.version, answer.status >= 500, elapsed_ms)
        return answer

    def _choose(self, table: _Table) -> tuple[Variant, Backend]:
        self._credit += table.share
        if table.canary is not None and self._credit >= SCALE:
            self._credit -= SCALE
            return Variant.CANARY, table.canary
        return Variant.BASELINE, table.baseline

    def _record(self, variant: Variant, version: str, error: bool, elapsed_ms: float) -> None:
        bucket = bucket_of(elapsed_ms)
        with self._lock:
            meter = self._meters.get((variant, version))
            if meter is None:
                meter = self._meters[variant, version] = _Meter()
            meter.requests += 1
            meter.errors += error
            meter.latency[bucket] = meter.latency.get(bucket, 0) + 1

    async def _forward(
        self, table: _Table, backend: Backend, request: h11.Request, body: bytes, client_ip: str
    ) -> _Answer:
        upstream = self._upstream
        if upstream is None:  # pragma: no cover - only between shutdown and loop stop
            return _plain(503, "router stopping")
        try:
            async with asyncio.timeout(self.upstream_timeout_s):
                response = await upstream.request(
                    table.origins[backend.url],
                    request.method,
                    _path(request.target),
                    _forward_headers(request, client_ip),
                    body,
                )
        except TimeoutError:
            return _plain(504, "upstream timed out")
        except (UpstreamError, OSError, h11.ProtocolError) as exc:
            _log.debug("upstream %s %s failed: %s", backend.variant, backend.url, exc)
            return _plain(502, "upstream unreachable")
        headers = _strip(response.headers)
        raw = response.body
        if _bodyless(request.method, response.status):
            headers.extend((n, v) for n, v in response.headers if n.lower() == b"content-length")
            raw = b""
        else:
            headers.append((b"content-length", str(len(raw)).encode("ascii")))
        return _Answer(response.status, headers, raw, response.reason)


class _TooLarge(Exception):
    """The client's request body is larger than the proxy buffers."""


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[h11.Request, bytes] | None:
    """The next whole request on the connection, or None once the client is gone."""
    request: h11.Request | None = None
    body: list[bytes] = []
    size = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            if conn.they_are_waiting_for_100_continue:
                writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            async with asyncio.timeout(IDLE_TIMEOUT_S):
                conn.receive_data(await reader.read(_READ_CHUNK))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            size += len(event.data)
            if size > MAX_BODY_BYTES:
                raise _TooLarge
            body.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            if request is None:  # pragma: no cover - h11 always sends the Request first
                return None
            return request, b"".join(body)
        else:  # ConnectionClosed, or PAUSED after a protocol switch we never accept
            return None


def _encode(conn: h11.Connection, request: h11.Request, answer: _Answer) -> bytes:
    head = h11.Response(status_code=answer.status, headers=answer.headers, reason=answer.reason)
    out = conn.send(head)
    if answer.body and not _bodyless(request.method, answer.status):
        out += conn.send(h11.Data(data=answer.body))
    return out + conn.send(h11.EndOfMessage())


async def _refuse(
    conn: h11.Connection, writer: asyncio.StreamWriter, status: int, text: str
) -> None:
    """Answer a request the proxy will not forward, then close (when a response may go out)."""
    if conn.our_state not in {h11.IDLE, h11.SEND_RESPONSE}:
        return
    answer = _plain(status, text)
    headers = [*answer.headers, (b"connection", b"close")]
    try:
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
        writer.write(conn.send(h11.Data(data=answer.body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
    except (ConnectionError, h11.LocalProtocolError):
        pass


def _plain(status: int, text: str) -> _Answer:
    body = f"{text}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    return _Answer(status, headers, body)


def _bodyless(method: bytes, status: int) -> bool:
    return method == b"HEAD" or status in {204, 304} or status < 200


def _path(target: bytes) -> bytes:
    """Path and query of a request target (origin form, or the path of an absolute URL)."""
    if target.startswith(b"/"):
        return target
    if target == b"*":
        return b"*"
    parts = urlsplit(target.decode("latin-1"))
    path = parts.path or "/"
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")


def _strip(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers without hop-by-hop ones (and without those the Connection header names)."""
    items = list(headers)
    named = {
        token.strip().lower()
        for name, value in items
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [(n, v) for n, v in items if n.lower() not in _HOP_BY_HOP and n.lower() not in named]


def _forward_headers(request: h11.Request, client_ip: str) -> list[tuple[bytes, bytes]]:
    """The client's headers for the backend: no hop-by-hop ones, X-Forwarded-* added."""
    headers = _strip(request.headers)  # framing too: the upstream pool sets Content-Length
    forwarded = [value for name, value in headers if name == b"x-forwarded-for"]
    headers = [(n, v) for n, v in headers if n != b"x-forwarded-for"]
    if client_ip:
        chain = b", ".join([*forwarded, client_ip.encode("ascii")])
        headers.append((b"x-forwarded-for", chain))
    if not any(name == b"x-forwarded-proto" for name, _ in headers):
        headers.append((b"x-forwarded-proto", b"http"))
    return headers


def _share(percent: float) -> int:
    """A percentage as millionths of the traffic; RouterError when outside 0 to 100."""
    if not isinstance(percent, int | float) or math.isnan(percent) or not 0 <= percent <= 100:
        raise RouterError(
            f"canary share {percent!r} is not a percentage between 0 and 100",
            hint="give the canary's share of traffic in percent, e.g. 5 or 0.5",
        )
    return round(percent * SCALE / 100)


def _origin(backend: Backend) -> Origin:
    try:
        return Origin.parse(backend.url)
    except ValueError:
        raise RouterError(
            f"{backend.variant} {backend.version}: backend address {backend.url!r} "
            "is not an http:// or https:// URL",
            hint="backends are given as http://host:port",
        ) from None


async def _call(function: Callable[[], None]) -> None:
    function()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Stop the loop's thread, end whatever task is still pending (as ``asyncio.run``
    does), then close the loop: no coroutine is left to be collected on a closed loop."""
    loop.call_soon_threadsafe(loop.stop)
    thread.join(_CONTROL_TIMEOUT_S)
    if thread.is_alive():
        return
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    # one more turn for the callbacks that closing transports scheduled
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
