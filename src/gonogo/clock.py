"""Time, behind a small protocol so tests can fix it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

#: the longest timeout or wait a setting may ask for, a day (select and socket timeouts
#: overflow somewhere past three weeks; no single command or request should wait that long)
MAX_WAIT_S = 86_400


class Clock(Protocol):
    """Something that tells the time (timezone-aware UTC)."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix and microseconds, e.g. ``2026-11-27T10:00:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
