"""Orders domain logic: validation of new orders and a thread-safe in-memory store.

This is shopapi's critical module. Every order the API accepts passes through
:func:`parse_new_order`, and every read or write of the store goes through
:class:`OrderStore`, which serialises access with a lock (the server handles
each request on its own thread).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MIN_QUANTITY = 1
MAX_QUANTITY = 100
SKU_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")
ORDER_ID_PATTERN = re.compile(r"[0-9]{1,18}")
FIELDS = ("sku", "quantity")


class ValidationError(ValueError):
    """A new order was rejected; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A validated request to create an order."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Order:
    """An accepted order, as stored."""

    id: int
    sku: str
    quantity: int
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The order as the JSON object the API returns."""
        return {
            "id": self.id,
            "sku": self.sku,
            "quantity": self.quantity,
            "created_at": self.created_at.isoformat(),
        }


def parse_new_order(payload: object) -> NewOrder:
    """Validate a decoded JSON body and return the order it asks for.

    The body must be an object with exactly ``sku`` (3-32 characters of
    ``A-Z``, ``0-9`` and ``-``) and ``quantity`` (an integer from
    ``MIN_QUANTITY`` to ``MAX_QUANTITY``). Raises :class:`ValidationError`
    naming the first offending field.
    """
    if not isinstance(payload, dict):
        raise ValidationError("body", "the body must be a JSON object")
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise ValidationError(unknown[0], f"unknown field {unknown[0]!r}")
    for field in FIELDS:
        if field not in payload:
            raise ValidationError(field, f"{field} is required")
    sku = payload["sku"]
    if not isinstance(sku, str) or SKU_PATTERN.fullmatch(sku) is None:
        raise ValidationError("sku", "sku must be 3-32 characters of A-Z, 0-9 and '-'")
    quantity = payload["quantity"]
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError("quantity", "quantity must be an integer")
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise ValidationError(
            "quantity", f"quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}"
        )
    return NewOrder(sku=sku, quantity=quantity)


def parse_order_id(raw: str) -> int | None:
    """The order id in a path segment, or None when it cannot be one."""
    return int(raw) if ORDER_ID_PATTERN.fullmatch(raw) else None


def utc_now() -> datetime:
    """The current time in UTC (the store's default clock)."""
    return datetime.now(UTC)


class OrderStore:
    """Orders in memory, with ids 1, 2, 3, ... in creation order.

    Safe to share between request threads. Nothing survives a restart.
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._orders: dict[int, Order] = {}
        self._next_id = 1

    def create(self, new: NewOrder) -> Order:
        """Store a validated order under the next id and return it."""
        with self._lock:
            order = Order(self._next_id, new.sku, new.quantity, self._clock())
            self._orders[order.id] = order
            self._next_id += 1
        return order

    def get(self, order_id: int) -> Order | None:
        """The order with this id, or None."""
        with self._lock:
            return self._orders.get(order_id)

    def all(self) -> list[Order]:
        """Every order, oldest first."""
        with self._lock:
            return list(self._orders.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._orders)
