"""Shared fixtures: an app with a fresh store and a WSGI test client."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from shopapi.app import ShopApp
from shopapi.orders import OrderStore

FIXED_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class Reply:
    """A response as the tests see it."""

    status: int
    headers: dict[str, str]
    body: Any


class Client:
    """Calls a WSGI app in-process, checked by ``wsgiref.validate``."""

    def __init__(self, app: Callable[..., Any], *, validate: bool = True) -> None:
        self.app = validator(app) if validate else app

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        environ: dict[str, Any] | None = None,
    ) -> Reply:
        """Send one request and decode the JSON response."""
        data = raw if raw is not None else b""
        if json_body is not None:
            data = json.dumps(json_body).encode()
        env: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "wsgi.input": io.BytesIO(data),
        }
        if data:
            env["CONTENT_LENGTH"] = str(len(data))
            env["CONTENT_TYPE"] = content_type
        for name, value in (headers or {}).items():
            env["HTTP_" + name.upper().replace("-", "_")] = value
        env.update(environ or {})
        setup_testing_defaults(env)
        started: dict[str, Any] = {}

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = dict(response_headers)
            return lambda chunk: None

        result = self.app(env, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Reply(started["status"], started["headers"], json.loads(body))


@pytest.fixture
def store() -> OrderStore:
    """An empty store whose clock always reads FIXED_TIME."""
    return OrderStore(clock=lambda: FIXED_TIME)


@pytest.fixture
def app(store: OrderStore) -> ShopApp:
    """The app over the fixture's store."""
    return ShopApp(store)


@pytest.fixture
def client(app: ShopApp) -> Client:
    """A validating test client for the app."""
    return Client(app)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo what configure_logging does to the ``shopapi`` logger."""
    logger = logging.getLogger("shopapi")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]
