"""Fixtures of the config tests: the fixture project, scanned once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.config.build import build_inventory
from gonogo.config.inventory import Inventory
from gonogo.config.scan import ScanResult, scan_tree

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "project"


@pytest.fixture(scope="module")
def scanned() -> ScanResult:
    """The fixture project (every kind of env read), scanned."""
    return scan_tree(FIXTURE)


@pytest.fixture(scope="module")
def inventory(scanned: ScanResult) -> Inventory:
    """The inventory built from the fixture project."""
    return build_inventory(scanned)
