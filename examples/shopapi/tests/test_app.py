"""The API through its WSGI callable, plus logging and start-up paths."""

from __future__ import annotations

import io
import json
import logging
import socket
import sys

import pytest
from shopapi import __version__
from shopapi.__main__ import main
from shopapi.app import MAX_BODY_BYTES, JsonFormatter, ShopApp, configure_logging
from shopapi.orders import Order, OrderStore

from conftest import Client


def test_healthz_reports_status_and_version(client: Client) -> None:
    reply = client.request("GET", "/healthz")
    assert reply.status == 200
    assert reply.body == {"status": "ok", "version": __version__}
    assert reply.headers["Content-Type"] == "application/json"


def test_post_then_get_round_trip(client: Client) -> None:
    created = client.request("POST", "/orders", json_body={"sku": "MUG-BLUE", "quantity": 3})
    assert created.status == 201
    assert created.body == {
        "id": 1,
        "sku": "MUG-BLUE",
        "quantity": 3,
        "created_at": "2026-01-02T03:04:05+00:00",
    }
    assert created.headers["Location"] == "/orders/1"
    fetched = client.request("GET", created.headers["Location"])
    assert (fetched.status, fetched.body) == (200, created.body)
    listed = client.request("GET", "/orders")
    assert (listed.status, listed.body) == (200, {"orders": [created.body]})


def test_empty_order_list(client: Client) -> None:
    assert client.request("GET", "/orders").body == {"orders": []}


def test_content_type_with_charset_is_accepted(client: Client) -> None:
    reply = client.request(
        "POST",
        "/orders",
        json_body={"sku": "ABC", "quantity": 1},
        content_type="application/json; charset=utf-8",
    )
    assert reply.status == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "ABC", "quantity": 0}, "quantity"),
        ({"sku": "ABC", "quantity": 101}, "quantity"),
        ({"sku": "", "quantity": 1}, "sku"),
        ({"quantity": 1}, "sku"),
        ([1, 2], "body"),
    ],
)
def test_invalid_order_is_400_with_json_error(
    client: Client, store: OrderStore, body: object, field: str
) -> None:
    reply = client.request("POST", "/orders", json_body=body)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "invalid_order"
    assert reply.body["error"]["field"] == field
    assert reply.body["error"]["message"]
    assert len(store) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000])
def test_malformed_json_is_400(client: Client, raw: bytes) -> None:
    reply = client.request("POST", "/orders", raw=raw)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "invalid_json"


def test_missing_body_is_400(client: Client) -> None:
    reply = client.request("POST", "/orders", environ={"CONTENT_TYPE": "application/json"})
    assert reply.status == 400
    assert reply.body["error"]["code"] == "invalid_json"


def test_wrong_content_type_is_415(client: Client) -> None:
    reply = client.request("POST", "/orders", raw=b"sku=ABC", content_type="text/plain")
    assert reply.status == 415
    assert reply.body["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_413(client: Client) -> None:
    reply = client.request("POST", "/orders", raw=b" " * (MAX_BODY_BYTES + 1))
    assert reply.status == 413
    assert reply.body["error"]["code"] == "too_large"


def test_bad_content_length_is_400(app: ShopApp) -> None:
    # wsgiref.validate itself rejects such an environ, so call the app directly.
    reply = Client(app, validate=False).request(
        "POST", "/orders", raw=b"{}", environ={"CONTENT_LENGTH": "ten"}
    )
    assert reply.status == 400
    assert reply.body["error"]["code"] == "bad_request"


@pytest.mark.parametrize("path", ["/orders/1", "/orders/999", "/orders/abc", "/orders/", "/nope"])
def test_absent_things_are_404(client: Client, path: str) -> None:
    reply = client.request("GET", path)
    assert reply.status == 404
    assert reply.body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/healthz", "GET"),
        ("DELETE", "/orders", "GET, POST"),
        ("PUT", "/orders/1", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: Client, method: str, path: str, allowed: str
) -> None:
    reply = client.request(method, path)
    assert reply.status == 405
    assert reply.headers["Allow"] == allowed
    assert reply.body["error"]["code"] == "method_not_allowed"


def test_incoming_request_id_is_echoed(client: Client) -> None:
    reply = client.request("GET", "/healthz", headers={"X-Request-Id": "abc-123.x:y_z"})
    assert reply.headers["X-Request-Id"] == "abc-123.x:y_z"


@pytest.mark.parametrize("incoming", [None, "", "has space", "x" * 129, "<script>"])
def test_missing_or_malformed_request_id_is_replaced(client: Client, incoming: str | None) -> None:
    headers = {} if incoming is None else {"X-Request-Id": incoming}
    reply = client.request("GET", "/healthz", headers=headers)
    generated = reply.headers["X-Request-Id"]
    assert generated != incoming
    assert len(generated) == 32
    assert int(generated, 16) >= 0


def test_each_request_is_logged_with_its_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shopapi")
    client.request(
        "POST",
        "/orders",
        json_body={"sku": "ABC", "quantity": 1},
        headers={"X-Request-Id": "req-1"},
    )
    [record] = [r for r in caplog.records if r.name == "shopapi.access"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["request_id"] == "req-1"
    assert (fields["method"], fields["path"], fields["status"]) == ("POST", "/orders", 201)
    assert fields["duration_ms"] >= 0


class BrokenStore(OrderStore):
    """A store that fails, to exercise the 500 path."""

    def all(self) -> list[Order]:
        raise RuntimeError("disk on fire")


def test_unexpected_error_is_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="shopapi")
    reply = Client(ShopApp(BrokenStore())).request(
        "GET", "/orders", headers={"X-Request-Id": "boom"}
    )
    assert reply.status == 500
    assert reply.body == {"error": {"code": "internal", "message": "internal server error"}}
    assert "disk on fire" not in json.dumps(reply.body)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[0].exc_info is not None
    assert errors[0].fields == {"request_id": "boom"}  # type: ignore[attr-defined]


def test_default_store_is_created() -> None:
    assert len(ShopApp().store) == 0


def test_json_formatter_writes_one_object_per_line() -> None:
    record = logging.LogRecord("shopapi.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"request_id": "r1", "status": 200}
    entry = json.loads(JsonFormatter().format(record))
    assert entry["event"] == "request"
    assert entry["level"] == "info"
    assert entry["logger"] == "shopapi.access"
    assert entry["request_id"] == "r1"
    assert entry["ts"].endswith("+00:00")
    assert "exc" not in entry


def test_json_formatter_includes_exceptions() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "oops", (), sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad" in entry["exc"]


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_is_idempotent_and_filters_by_level() -> None:
    stream = io.StringIO()
    configure_logging("INFO", io.StringIO())
    configure_logging("WARNING", stream)
    logger = logging.getLogger("shopapi")
    assert len([h for h in logger.handlers if h.get_name() == "shopapi-json"]) == 1
    logging.getLogger("shopapi.access").info("hidden")
    logging.getLogger("shopapi.access").warning("shown", extra={"fields": {"n": 1}})
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["shown"]
    assert json.loads(lines[0])["n"] == 1


def test_main_rejects_bad_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main({"SHOPAPI_PORT": "eighty"}) == 2
    assert "configuration error: SHOPAPI_PORT" in capsys.readouterr().err


@pytest.mark.usefixtures("restore_logging")
def test_main_fails_cleanly_when_port_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main({"SHOPAPI_PORT": str(port)}) == 1
    entry = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert (entry["event"], entry["port"]) == ("cannot listen", port)
