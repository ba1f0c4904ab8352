"""Views of scan results that read well in assertions."""

from __future__ import annotations

from typing import Any

from gonogo.config.inventory import Inventory
from gonogo.config.scan import ScanResult


def reads_in(result: ScanResult, path: str) -> list[tuple[Any, ...]]:
    """``(name, line, required, default, type)`` of every read in one file, in line order."""
    return sorted(
        (r.name, r.line, r.required, r.default, r.type.value if r.type else None)
        for r in result.reads
        if r.path == path
    )


def definitions_in(result: ScanResult, path: str) -> list[tuple[Any, ...]]:
    """``(name, line, environment, kind)`` of every definition in one file, in line order."""
    return sorted(
        (d.name, d.line, d.environment, d.kind.value) for d in result.definitions if d.path == path
    )


def entry(inventory: Inventory, name: str) -> dict[str, Any]:
    """The inventory entry ``name`` as the fields a test compares."""
    var = inventory.get(name)
    assert var is not None, f"{name} is not in the inventory"
    return {
        "locations": list(var.locations),
        "required": var.required,
        "default": var.default,
        "secret": var.secret,
        "type": var.type.value,
    }
