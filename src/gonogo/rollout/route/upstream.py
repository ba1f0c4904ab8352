"""The builtin router's upstream side: HTTP/1.1 requests over pooled keep-alive connections.

h11 frames the requests and parses the answers; asyncio streams carry them. Each backend
origin keeps a stack of idle connections (most recently used first, so a quiet period
lets the oldest expire). Taking or returning a connection costs O(1) whatever the pool
size, which keeps the proxy's per-request cost flat under load.

Choice: not httpx. The router first forwarded through a pooled ``httpx.AsyncClient``;
measured on the demo's two cores, httpx/httpcore/anyio cost about 2 ms of CPU per
proxied request (3.4 times this module), and httpcore's pool scans every connection on
each request, so a loaded proxy slowed itself down further and its latency numbers
showed its own queueing instead of the backends'.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

__all__ = ["Origin", "UpstreamError", "UpstreamPool", "UpstreamResponse"]

#: methods safe to send again when a reused keep-alive connection turns out to be closed
_IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})
#: methods whose requests carry no body unless they have one (others get Content-Length: 0)
_BODILESS = frozenset({b"GET", b"HEAD", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT"})
_FRAMING = frozenset({b"content-length", b"transfer-encoding"})
_READ_CHUNK = 65536


class UpstreamError(Exception):
    """The backend could not be reached or answered with something that is not HTTP/1.1."""


@dataclass(frozen=True)
class Origin:
    """Where a backend listens: scheme, host and port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Origin:
        """The origin of ``http(s)://host[:port]``; ValueError when it is not one."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        port = parts.port  # raises ValueError for a bad port
        default = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, port or default)

    @property
    def authority(self) -> bytes:
        """``host:port`` as a Host header value."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}".encode("idna")


@dataclass(frozen=True)
class UpstreamResponse:
    """A backend's whole answer."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    http: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    idle_since: float = 0.0

    def usable(self, now: float, expiry_s: float) -> bool:
        """Still open (the backend has not hung up) and not idle for too long."""
        return (
            now - self.idle_since < expiry_s
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class UpstreamPool:
    """Keep-alive connections per backend origin; call :meth:`request` on the loop."""

    def __init__(self, *, max_idle: int = 64, idle_expiry_s: float = 30.0) -> None:
        self.max_idle = max_idle
        self.idle_expiry_s = idle_expiry_s
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def request(
        self,
        origin: Origin,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> UpstreamResponse:
        """Send one request and read the whole answer; UpstreamError or OSError on failure.

        ``headers`` go out as given, except framing: the pool sets Content-Length from
        ``body`` (and Host from the origin when there is none).
        """
        headers = [(n, v) for n, v in headers if n.lower() not in _FRAMING]
        if body or method not in _BODILESS:
            headers.append((b"content-length", str(len(body)).encode("ascii")))
        if not any(name.lower() == b"host" for name, _ in headers):
            headers.insert(0, (b"host", origin.authority))
        connection, reused = self._take(origin), True
        if connection is None:
            connection, reused = await self._open(origin), False
        try:
            return await self._exchange(origin, connection, method, target, headers, body)
        except _Stale:
            if not reused or method not in _IDEMPOTENT:
                raise UpstreamError("the backend closed the connection") from None
        fresh = await self._open(origin)
        try:
            return await self._exchange(origin, fresh, method, target, headers, body)
        except _Stale:
            raise UpstreamError("the backend closed the connection") from None

    def close(self) -> None:
        """Close every idle connection (requests in flight close theirs when cancelled)."""
        for stack in self._idle.values():
            while stack:
                stack.pop().close()
        self._idle.clear()

    def _take(self, origin: Origin) -> _Connection | None:
        stack = self._idle.get(origin)
        now = time.monotonic()
        while stack:
            connection = stack.pop()
            if connection.usable(now, self.idle_expiry_s):
                return connection
            connection.close()
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        stack = self._idle.setdefault(origin, deque())
        now = time.monotonic()
        connection.idle_since = now
        stack.append(connection)
        # the oldest sit at the left: drop the expired ones and any beyond the cap
        while stack and (
            len(stack) > self.max_idle or not stack[0].usable(now, self.idle_expiry_s)
        ):
            stack.popleft().close()

    async def _open(self, origin: Origin) -> _Connection:
        tls = None
        if origin.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        reader, writer = await asyncio.open_connection(
            origin.host, origin.port, ssl=tls, limit=_READ_CHUNK * 4
        )
        return _Connection(reader, writer)

    async def _exchange(
        self,
        origin: Origin,
        connection: _Connection,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> UpstreamResponse:
        http = connection.http
        try:
            out = http.send(h11.Request(method=method, target=target, headers=headers))
            if body:
                out += http.send(h11.Data(data=body))
            connection.writer.write(out + http.send(h11.EndOfMessage()))
            response = await _read_response(connection)
        except BaseException:
            connection.close()  # half a request or answer: never reuse the connection
            raise
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
            self._give_back(origin, connection)
        else:
            connection.close()
        return response


class _Stale(Exception):
    """A connection ended before any byte of the answer: safe to retry if reused."""


async def _read_response(connection: _Connection) -> UpstreamResponse:
    http = connection.http
    head: h11.Response | None = None
    chunks: list[bytes] = []
    received = False
    while True:
        try:
            event = http.next_event()
            if event is h11.NEED_DATA:
                data = await connection.reader.read(_READ_CHUNK)
                received = received or bool(data)
                http.receive_data(data)
                continue
        except (h11.RemoteProtocolError, ConnectionError) as exc:
            if not received:
                raise _Stale from None
            raise UpstreamError(f"bad answer from the backend: {exc}") from None
        if isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            headers = [(bytes(name), bytes(value)) for name, value in head.headers.raw_items()]
            return UpstreamResponse(head.status_code, bytes(head.reason), headers, b"".join(chunks))
        elif isinstance(event, h11.ConnectionClosed) and not received:
            raise _Stale
        elif not isinstance(event, h11.InformationalResponse):  # 1xx: wait for the answer
            # PAUSED (a protocol switch the proxy never asks for) or an early close
            raise UpstreamError(f"the backend answered with {event!r}, not an HTTP answer")
