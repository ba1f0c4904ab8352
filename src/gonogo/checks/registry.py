"""Find check types through the ``gonogo.checks`` entry-point group.

Built-ins register there too (see ``pyproject.toml``), so a third-party check
is found exactly like ours.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from gonogo.checks.interface import Check
from gonogo.errors import PolicyError

GROUP = "gonogo.checks"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available() -> tuple[str, ...]:
    """Names of every installed check type, sorted."""
    return tuple(sorted(_entry_points()))


@cache
def load(name: str) -> Check:
    """An instance of the check type ``name``.

    Raises PolicyError naming the known types when ``name`` is not installed.
    """
    entry = _entry_points().get(name)
    if entry is None:
        known = ", ".join(available()) or "none"
        raise PolicyError(
            f"unknown check type {name!r}",
            hint=f"use one of: {known}, or install the plugin that provides it",
        )
    factory = entry.load()
    check = factory()
    if not isinstance(check, Check):
        raise PolicyError(
            f"check type {name!r} ({entry.value}) does not implement the Check protocol",
            hint="see docs/checks.md for what a check must provide",
        )
    return check
