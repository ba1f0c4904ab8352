"""Tiny real Python projects for the Phase-4 checks: sources, tests, git history, reports.

``make_project`` writes a package ``calc`` under ``src/`` with a critical module
``calc/ledger.py``, its pytest suite, and a ``gonogo.toml``. Switches plant one
problem each: a failing test, a lint error, a type error, an untested branch of the
critical module. The tools that run on it are the real ones (pytest, coverage, ruff,
mypy, git), started as subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

PYTHON = sys.executable

LEDGER = '''\
"""The critical module: money in and out."""


def balance(entries: list[int]) -> int:
    """Sum of the entries."""
    total = 0
    for entry in entries:
        total += entry
    return total


def overdrawn(entries: list[int]) -> bool:
    """Whether the balance is negative."""
    return balance(entries) < 0
'''

UNTESTED = '''

def refund(entries: list[int], amount: int) -> list[int]:
    """Append a refund unless it would overdraw."""
    if amount <= 0:
        raise ValueError("a refund is positive")
    if balance(entries) < amount:
        raise ValueError("not enough funds")
    result = list(entries)
    result.append(-amount)
    return result
'''

CORE = '''\
"""Arithmetic."""


def add(a: int, b: int) -> int:
    """The sum."""
    return a + b
'''

TESTS = """\
from calc.core import add
from calc.ledger import balance, overdrawn


def test_add() -> None:
    assert add(2, 3) == 5


def test_balance() -> None:
    assert balance([5, -2]) == 3


def test_overdrawn() -> None:
    assert overdrawn([-1])
    assert not overdrawn([1])
"""

FAILING_TEST = """

def test_add_is_wrong() -> None:
    assert add(2, 2) == 5
"""

#: pytest without the plugins installed here (hypothesis, xdist, …): starts in a fraction
QUIET_PYTEST = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
#: the same, as the TOML value of a ``tests`` criterion's ``env``
PYTEST_ENV = '{ PYTEST_DISABLE_PLUGIN_AUTOLOAD = "1" }'

#: the pytest command the ``tests`` check runs on a fixture project
PYTEST = [
    PYTHON,
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "--junitxml=reports/junit.xml",
    "tests",
]


def make_project(
    root: Path,
    *,
    failing_test: bool = False,
    lint_error: bool = False,
    type_error: bool = False,
    untested_critical: bool = False,
) -> Path:
    """Write the fixture project at ``root`` (without a policy)."""
    package = root / "src" / "calc"
    package.mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (package / "__init__.py").write_text('"""Calc."""\n', encoding="utf-8")
    core = CORE
    if lint_error:
        core = core.replace('"""Arithmetic."""\n', '"""Arithmetic."""\n\nimport os\n')
    if type_error:
        core += '\n\ndef name() -> str:\n    """Oops."""\n    return 42\n'
    (package / "core.py").write_text(core, encoding="utf-8")
    ledger = LEDGER + (UNTESTED if untested_critical else "")
    (package / "ledger.py").write_text(ledger, encoding="utf-8")
    tests = TESTS + (FAILING_TEST if failing_test else "")
    (root / "tests" / "test_calc.py").write_text(tests, encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\npythonpath = src\n", encoding="utf-8")
    return root


def policy(criteria: str, *, owners: str = "") -> str:
    """A policy with one Phase-4 gate ``ci`` holding ``criteria`` (TOML)."""
    return textwrap.dedent(
        f"""
            version = 1

            [project]
            name = "calc"

            [owners]
            engineering = ["alice@example.com"]

            [[gates]]
            id = "ci"
            title = "CI gates"
            phase = 4
            owners = [{owners}]
            """
    ).lstrip() + textwrap.dedent(criteria)


def write_policy(root: Path, criteria: str, *, owners: str = "") -> Path:
    """Write ``gonogo.toml`` with one Phase-4 gate."""
    path = root / "gonogo.toml"
    path.write_text(policy(criteria, owners=owners), encoding="utf-8")
    return path


def toml_list(argv: list[str]) -> str:
    """An argument list as a TOML array."""
    return json.dumps(argv)


def run(argv: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd``; fail the test with its output when it fails."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def run_coverage(root: Path) -> Path:
    """Run the suite under coverage.py and write ``reports/coverage.json``; return its path."""
    (root / "reports").mkdir(exist_ok=True)
    subprocess.run(
        [
            PYTHON,
            "-m",
            "coverage",
            "run",
            "--branch",
            "--source=src",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
        ],
        cwd=root,
        capture_output=True,
        check=False,
        env={**os.environ, **QUIET_PYTEST},
    )
    run([PYTHON, "-m", "coverage", "json", "-o", "reports/coverage.json"], root)
    return root / "reports" / "coverage.json"


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; return its stdout."""
    return run(["git", *args], root).stdout.strip()


def init_repo(root: Path) -> None:
    """Make ``root`` a git repository with everything committed, ignoring reports."""
    (root / ".gitignore").write_text(
        "reports/\n.coverage\n.gonogo/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n",
        encoding="utf-8",
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
