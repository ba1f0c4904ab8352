"""Views of scan results that read well in assertions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
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


def html_page(page: str) -> ET.Element:
    """An HTML report parsed as XML (the page is well-formed)."""
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def html_text(element: ET.Element | None) -> str:
    """All the text inside ``element``."""
    assert element is not None
    return "".join(element.itertext())


def html_table_rows(page: str) -> list[list[str]]:
    """Every table row of an HTML report with data (not the headers), as the cells' texts."""
    return [
        [html_text(cell) for cell in row if cell.tag in ("th", "td")]
        for row in html_page(page).iter("tr")
        if row.find("td") is not None
    ]


def html_rows(page: str) -> dict[str, list[str]]:
    """Every table row of an HTML report with data, keyed by its first cell."""
    return {row[0]: row for row in html_table_rows(page)}
