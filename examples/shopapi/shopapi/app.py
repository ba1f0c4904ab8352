"""The WSGI application: routing, JSON bodies, request ids and structured logs.

Routes::

    GET  /healthz       {"status": "ok", "version": ...}
    GET  /orders        {"orders": [...]}
    POST /orders        201 with the order and a Location header; 400 on bad input
    GET  /orders/<id>   the order; 404 when there is none

Every response is JSON and carries ``X-Request-Id``: the caller's own when it
sent a well-formed one, a fresh one otherwise. Every request is logged as
one JSON line with that id.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any

from shopapi import __version__
from shopapi.orders import OrderStore, ValidationError, parse_new_order, parse_order_id

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

MAX_BODY_BYTES = 64 * 1024
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HANDLER_NAME = "shopapi-json"

log = logging.getLogger("shopapi.access")

Headers = list[tuple[str, str]]


class HTTPError(Exception):
    """An error response: status, a machine-readable code and a message."""

    def __init__(
        self,
        status: HTTPStatus,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or []
        self.body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if field is not None:
            self.body["error"]["field"] = field


class ShopApp:
    """The orders API as a WSGI callable."""

    def __init__(self, store: OrderStore | None = None) -> None:
        self.store = store if store is not None else OrderStore()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = request_id_of(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        try:
            status, payload, headers = self.dispatch(method, path, environ)
        except HTTPError as exc:
            status, payload, headers = exc.status, exc.body, exc.headers
        except Exception:
            log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            error = HTTPError(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "internal server error")
            status, payload, headers = error.status, error.body, error.headers
        body = json.dumps(payload, separators=(",", ":")).encode()
        start_response(
            f"{status.value} {status.phrase}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("X-Request-Id", request_id),
                *headers,
            ],
        )
        fields = {
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status.value,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        log.info("request", extra={"fields": fields})
        return [body]

    def dispatch(
        self, method: str, path: str, environ: WSGIEnvironment
    ) -> tuple[HTTPStatus, dict[str, Any], Headers]:
        """Route one request; raises :class:`HTTPError` for error responses."""
        if path == "/healthz":
            allow(method, "GET")
            return HTTPStatus.OK, {"status": "ok", "version": __version__}, []
        if path == "/orders":
            allow(method, "GET", "POST")
            if method == "POST":
                try:
                    order = self.store.create(parse_new_order(read_json(environ)))
                except ValidationError as exc:
                    raise HTTPError(
                        HTTPStatus.BAD_REQUEST, "invalid_order", exc.message, field=exc.field
                    ) from exc
                return HTTPStatus.CREATED, order.to_dict(), [("Location", f"/orders/{order.id}")]
            return HTTPStatus.OK, {"orders": [o.to_dict() for o in self.store.all()]}, []
        if path.startswith("/orders/"):
            allow(method, "GET")
            order_id = parse_order_id(path.removeprefix("/orders/"))
            found = None if order_id is None else self.store.get(order_id)
            if found is None:
                raise HTTPError(HTTPStatus.NOT_FOUND, "not_found", "no such order")
            return HTTPStatus.OK, found.to_dict(), []
        raise HTTPError(HTTPStatus.NOT_FOUND, "not_found", f"no route for {path}")


def allow(method: str, *methods: str) -> None:
    """Raise 405 with an ``Allow`` header unless ``method`` is one of ``methods``."""
    if method not in methods:
        raise HTTPError(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            f"{method} is not allowed here",
            headers=[("Allow", ", ".join(methods))],
        )


def read_json(environ: WSGIEnvironment) -> object:
    """Read and decode the JSON request body, or raise a 4xx :class:`HTTPError`."""
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type must be application/json",
        )
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HTTPError(
            HTTPStatus.BAD_REQUEST, "bad_request", "Content-Length must be an integer"
        ) from None
    if length > MAX_BODY_BYTES:
        raise HTTPError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            f"the body must be at most {MAX_BODY_BYTES} bytes",
        )
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise HTTPError(
            HTTPStatus.BAD_REQUEST, "invalid_json", "the body is not valid JSON"
        ) from None


def request_id_of(environ: WSGIEnvironment) -> str:
    """The caller's ``X-Request-Id`` when well-formed, else a new random id."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, plus the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, stream: IO[str] | None = None) -> logging.Handler:
    """Send the ``shopapi`` loggers to ``stream`` (stderr) as JSON lines at ``level``."""
    logger = logging.getLogger("shopapi")
    for old in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
