"""Find deployer, router, metric-source and judge types through their entry-point groups.

The built-ins register there too (see ``pyproject.toml``), so a type another package
installs is found exactly like ours. :mod:`gonogo.rollout.components` and
:mod:`gonogo.rollout.judges` say what each entry point must name.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from gonogo.rollout.errors import RolloutError

#: the entry-point group of each area, by the plan key that names a type in it
GROUPS = {
    "deployer": "gonogo.deployers",
    "router": "gonogo.routers",
    "source": "gonogo.sources",
    "judge": "gonogo.judges",
}


@cache
def _entry_points(area: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUPS[area])}


def available(area: str) -> tuple[str, ...]:
    """The installed types of ``area`` (``deployer``, ``router``, ``source``, ``judge``)."""
    return tuple(sorted(_entry_points(area)))


def load(area: str, name: str, expected: type[object]) -> object:
    """What the entry point ``name`` of ``area`` names, checked to be an ``expected``.

    RolloutError (one line, keyed ``rollout.AREA``) when no such type is installed, when
    its entry point cannot be imported, or when it names something else.
    """
    entry, found = _load(area, name)
    if not isinstance(found, expected):
        raise RolloutError(
            f"rollout.{area}: type {name!r} ({entry.value}) is not a {expected.__name__}",
            hint=f"its entry point must name a {expected.__module__}.{expected.__name__}",
        )
    return found


def unknown(
    area: str, name: str, *, key: str | None = None, also: tuple[str, ...] = ()
) -> RolloutError:
    """The error for ``name``, no installed type of ``area``: one line naming the known ones.

    ``key`` names where ``name`` was given (default ``rollout.AREA``); ``also`` adds names
    taken there beside the installed types (the simulator's ``oracle``).
    """
    known = sorted({*available(area), *also})
    return RolloutError(
        f"{key or f'rollout.{area}'}: unknown type {name!r}",
        hint=f"known types: {', '.join(known) or 'none'}, or install the plugin that provides it",
    )


@cache
def _load(area: str, name: str) -> tuple[EntryPoint, object]:
    entry = _entry_points(area).get(name)
    if entry is None:
        raise unknown(area, name)
    try:
        return entry, entry.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin is the user's to fix, in one line
        raise RolloutError(
            f"rollout.{area}: type {name!r} ({entry.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}",
            hint="reinstall the package that provides it",
        ) from None


def forget() -> None:
    """Look the entry points up again (after installing a plugin in this process)."""
    _entry_points.cache_clear()
    _load.cache_clear()
