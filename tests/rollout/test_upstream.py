"""The builtin router's upstream connection pool against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from gonogo.rollout.route.upstream import Origin, UpstreamError, UpstreamPool, UpstreamResponse
from tests.rollout.services import echo_server, free_port


def test_kept_alive_connections_are_reused() -> None:
    async def run(url: str) -> list[UpstreamResponse]:
        pool = UpstreamPool()
        origin = Origin.parse(url)
        try:
            return [await pool.request(origin, b"GET", b"/a", [], b"") for _ in range(3)]
        finally:
            pool.close()

    with echo_server() as echo:
        answers = asyncio.run(run(echo.url))
    assert [a.status for a in answers] == [200, 200, 200]
    assert json.loads(answers[0].body)["path"] == "/a"
    # the Host header names the backend when the caller gave none
    assert dict(json.loads(answers[0].body)["headers"])["host"] == echo.url.removeprefix("http://")


def test_a_connection_the_backend_closed_is_retried_for_idempotent_methods_only() -> None:
    async def run(url: str) -> tuple[list[int], str]:
        pool = UpstreamPool()
        origin = Origin.parse(url)
        try:
            # /hangup closes each connection after its answer, without saying so; the next
            # request takes that connection from the pool before the loop sees it close
            statuses = [
                (await pool.request(origin, b"GET", b"/hangup", [], b"")).status for _ in range(3)
            ]
            try:
                await pool.request(origin, b"POST", b"/hangup", [], b"x")
            except UpstreamError as exc:
                return statuses, str(exc)
            return statuses, "answered"
        finally:
            pool.close()

    with echo_server() as echo:
        statuses, post = asyncio.run(run(echo.url))
    assert statuses == [200, 200, 200]
    assert post == "the backend closed the connection"


def test_a_chunked_answer_is_read_whole() -> None:
    async def run(url: str) -> UpstreamResponse:
        pool = UpstreamPool()
        try:
            return await pool.request(Origin.parse(url), b"GET", b"/chunked", [], b"")
        finally:
            pool.close()

    with echo_server() as echo:
        answer = asyncio.run(run(echo.url))
    assert json.loads(answer.body)["path"] == "/chunked"
    assert (b"Transfer-Encoding", b"chunked") in answer.headers


def test_a_backend_that_is_down_raises_oserror() -> None:
    async def run(url: str) -> None:
        pool = UpstreamPool()
        try:
            await pool.request(Origin.parse(url), b"GET", b"/", [], b"")
        finally:
            pool.close()

    with pytest.raises(OSError):
        asyncio.run(run(f"http://127.0.0.1:{free_port()}"))


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8080", Origin("http", "127.0.0.1", 8080)),
        ("https://example.com", Origin("https", "example.com", 443)),
        ("http://[::1]:81/", Origin("http", "::1", 81)),
    ],
)
def test_origins_are_parsed_from_backend_urls(url: str, origin: Origin) -> None:
    assert Origin.parse(url) == origin


@pytest.mark.parametrize("url", ["ftp://host", "127.0.0.1:80", "http://", "http://h:99999"])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"not an http|out of range|Port"):
        Origin.parse(url)
