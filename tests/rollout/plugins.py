"""A plugin distribution installed for one test, as ``pip install`` would leave it.

A module and a ``.dist-info`` folder with ``entry_points.txt`` on ``sys.path`` (and on
``PYTHONPATH``, for the gonogo processes a test starts), found by ``importlib.metadata``
exactly as an installed package's entry points are.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from gonogo.rollout import registry


def install_plugin(
    folder: Path, module: str, source: str, entry_points: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Install distribution ``module`` (one module of ``source``) into ``folder``."""
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir(parents=True)
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    name = module.replace("_", "-")
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    paths = [str(folder), os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    registry.forget()


def uninstall_plugin(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo :func:`install_plugin` (and forget the module and the entry points)."""
    monkeypatch.undo()
    sys.modules.pop(module, None)
    registry.forget()
