"""Helpers for the store tests: read a store's whole content with a plain engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, text


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (alembic_version included), to prove nothing changed."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            return {
                name: sorted(
                    (tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}"))),  # noqa: S608 - names from the inspector
                    key=repr,
                )
                for name in tables
            }
    finally:
        engine.dispose()


def scalar(url: str, sql: str) -> Any:
    """The single value ``sql`` selects."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def execute(url: str, sql: str) -> None:
    """Run one statement and commit."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()
