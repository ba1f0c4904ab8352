"""Unit tests for the critical module: order validation and the store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from shopapi.orders import (
    MAX_QUANTITY,
    MIN_QUANTITY,
    NewOrder,
    Order,
    OrderStore,
    ValidationError,
    parse_new_order,
    parse_order_id,
    utc_now,
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"sku": "ABC", "quantity": MIN_QUANTITY}, NewOrder("ABC", 1)),
        ({"sku": "TSHIRT-RED-L", "quantity": 7}, NewOrder("TSHIRT-RED-L", 7)),
        ({"quantity": MAX_QUANTITY, "sku": "A" * 32}, NewOrder("A" * 32, 100)),
    ],
)
def test_valid_orders_are_accepted(payload: dict[str, object], expected: NewOrder) -> None:
    assert parse_new_order(payload) == expected


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ([{"sku": "ABC", "quantity": 1}], "body", "JSON object"),
        ("ABC", "body", "JSON object"),
        (None, "body", "JSON object"),
        ({"sku": "ABC", "quantity": 1, "price": 5}, "price", "unknown field 'price'"),
        ({"quantity": 1}, "sku", "sku is required"),
        ({"sku": "ABC"}, "quantity", "quantity is required"),
        ({"sku": 123, "quantity": 1}, "sku", "3-32 characters"),
        ({"sku": "ab", "quantity": 1}, "sku", "3-32 characters"),
        ({"sku": "abc", "quantity": 1}, "sku", "3-32 characters"),
        ({"sku": "-ABC", "quantity": 1}, "sku", "3-32 characters"),
        ({"sku": "A" * 33, "quantity": 1}, "sku", "3-32 characters"),
        ({"sku": "ABC\n", "quantity": 1}, "sku", "3-32 characters"),
        ({"sku": "ABC", "quantity": "2"}, "quantity", "integer"),
        ({"sku": "ABC", "quantity": 2.0}, "quantity", "integer"),
        ({"sku": "ABC", "quantity": True}, "quantity", "integer"),
        ({"sku": "ABC", "quantity": None}, "quantity", "integer"),
        ({"sku": "ABC", "quantity": MIN_QUANTITY - 1}, "quantity", "between 1 and 100"),
        ({"sku": "ABC", "quantity": MAX_QUANTITY + 1}, "quantity", "between 1 and 100"),
        ({"sku": "ABC", "quantity": -5}, "quantity", "between 1 and 100"),
    ],
)
def test_invalid_orders_name_the_field(payload: object, field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_new_order(payload)
    assert caught.value.field == field
    assert fragment in caught.value.message
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("42", 42), ("007", 7), ("", None), ("x1", None), ("-1", None), ("1.0", None)],
)
def test_parse_order_id(raw: str, expected: int | None) -> None:
    assert parse_order_id(raw) == expected


def test_parse_order_id_rejects_absurd_lengths() -> None:
    assert parse_order_id("9" * 19) is None


def test_store_assigns_increasing_ids_and_keeps_orders(store: OrderStore) -> None:
    first = store.create(NewOrder("ABC", 1))
    second = store.create(NewOrder("XYZ-9", 3))
    assert (first.id, second.id) == (1, 2)
    assert store.get(1) == first
    assert store.get(2) == second
    assert store.get(3) is None
    assert store.all() == [first, second]
    assert len(store) == 2


def test_empty_store(store: OrderStore) -> None:
    assert store.all() == []
    assert len(store) == 0
    assert store.get(1) is None


def test_order_to_dict_uses_iso_timestamps() -> None:
    order = Order(5, "ABC", 2, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert order.to_dict() == {
        "id": 5,
        "sku": "ABC",
        "quantity": 2,
        "created_at": "2026-01-02T03:04:05+00:00",
    }


def test_default_clock_is_utc_now() -> None:
    before = datetime.now(UTC)
    order = OrderStore().create(NewOrder("ABC", 1))
    assert before <= order.created_at <= utc_now()
    assert order.created_at.tzinfo is UTC


def test_concurrent_creates_get_unique_ids(store: OrderStore) -> None:
    threads_count, per_thread = 8, 200
    barrier = threading.Barrier(threads_count)

    def worker() -> None:
        barrier.wait()
        for _ in range(per_thread):
            store.create(NewOrder("ABC", 1))

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [order.id for order in store.all()]
    assert ids == list(range(1, threads_count * per_thread + 1))
