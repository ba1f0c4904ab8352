"""Drive ``gonogo secrets scan`` through ``main(argv)`` and build real git repositories."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from gonogo.cli.main import main
from tests.helpers import Run
from tests.secrets.tokens import Case, cases


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """``gonogo secrets scan ARGS…``: exit code, stdout and stderr."""
    capsys.readouterr()
    code = main(["secrets", "scan", *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its output."""
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def init_repo(root: Path) -> Path:
    """A fresh git repository at ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    return root


def commit_all(root: Path, message: str) -> str:
    """Stage everything, commit, and return the commit id."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def fresh(seed: int = 7) -> dict[str, Case]:
    """A new set of per-rule fake secrets."""
    return cases(random.Random(seed))  # noqa: S311 - repeatable fakes, not real secrets
