"""``typecheck``: real mypy on fixture projects, per-module limits, report formats, bad input."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.ci.fixtures import make_project, write_policy
from tests.helpers import Project, criterion

MYPY = 'targets = ["src"], args = ["--strict", "--cache-dir", "{cache}"]'


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: typeshed is analysed once, not in every test."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture
def mypy(mypy_cache: Path) -> str:
    """Params that run mypy --strict on the fixture project's ``src``."""
    return MYPY.replace("{cache}", str(mypy_cache))


def _typecheck(project: Project, params: str) -> tuple[int, dict[str, object]]:
    write_policy(
        project.root,
        f"""
        [[gates.criteria]]
        id = "types"
        check = "typecheck"
        params = {{ {params} }}
        """,
    )
    result = project.run("ci", "--format", "json")
    return result.code, criterion(result.json(), "ci.types")


def test_typed_code_passes(project: Project, mypy: str) -> None:
    make_project(project.root)

    code, types = _typecheck(project, mypy)

    assert code == 0
    assert types["status"] == "pass"
    assert types["measured"] == 0
    assert types["details"]["command"].startswith("mypy --output json")


def test_a_type_error_fails_with_file_line_and_code(project: Project, mypy: str) -> None:
    make_project(project.root, type_error=True)

    code, types = _typecheck(project, mypy)

    assert code == 1
    assert types["status"] == "fail"
    assert types["measured"] == 1
    assert "src/calc/core.py:" in types["reason"]
    assert "[return-value]" in types["reason"]


def test_a_critical_module_is_held_to_a_stricter_limit(project: Project, mypy: str) -> None:
    make_project(project.root, type_error=True)  # the error is in calc.core
    params = f'{mypy}, max_errors = 5, modules = {{ "src/calc/core.py" = 0, "calc.ledger" = 0 }}'

    code, types = _typecheck(project, params)

    assert code == 1
    assert types["details"]["modules"] == {"src/calc/core.py": 1, "calc.ledger": 0}
    assert "src/calc/core.py has 1 (at most 0)" in types["reason"]
    assert "calc.ledger" not in types["reason"]


def test_errors_outside_the_critical_modules_pass_within_the_overall_limit(
    project: Project, mypy: str
) -> None:
    make_project(project.root, type_error=True)

    code, types = _typecheck(project, f'{mypy}, max_errors = 1, modules = {{ "calc.ledger" = 0 }}')

    assert code == 0
    assert types["status"] == "pass"
    assert types["reason"] == "1 type error"


OLD_MYPY = """#!/bin/sh
# mypy before 1.11: no `--output json`; otherwise the real mypy
for arg in "$@"; do
  if [ "$arg" = "--output" ]; then
    echo "usage: mypy [-h] [-v] [-V] [more options; see below]" >&2
    echo "mypy: error: unrecognized arguments: --output" >&2
    exit 2
  fi
done
exec {python} -m mypy "$@"
"""


def test_an_old_mypy_without_json_output_is_read_in_its_text_format(
    project: Project, mypy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "old-mypy"
    bin_dir.mkdir()
    shim = bin_dir / "mypy"
    shim.write_text(OLD_MYPY.format(python=sys.executable), encoding="utf-8")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    make_project(project.root, type_error=True)

    code, types = _typecheck(project, mypy)

    assert code == 1
    assert types["status"] == "fail"
    assert types["details"]["command"].startswith("mypy --no-pretty --no-color-output")
    assert "[return-value]" in types["reason"]


def test_reads_mypy_text_output(project: Project) -> None:
    text = (
        "src/calc/core.py:9: error: Incompatible return value type  [return-value]\n"
        'src/calc/core.py:9: note: "name" is declared here\n'
        "src/calc/ledger.py:3:5: error: Missing return statement  [return]\n"
        "Found 2 errors in 2 files (checked 3 source files)\n"
    )
    (project.root / "mypy.txt").write_text(text, encoding="utf-8")

    _, types = _typecheck(project, 'path = "mypy.txt", max_errors = 1')

    assert types["status"] == "fail"
    assert types["measured"] == 2
    assert types["details"]["tool"] == "mypy"


def test_reads_pyright_json_output(project: Project, tmp_path: Path) -> None:
    diagnostic = {
        "file": str(project.root / "src" / "calc" / "core.py"),
        "severity": "error",
        "message": 'Type "int" is not assignable to return type "str"',
        "range": {"start": {"line": 8, "character": 11}, "end": {"line": 8, "character": 13}},
        "rule": "reportReturnType",
    }
    warning = {**diagnostic, "severity": "warning", "rule": "reportUnusedVariable"}
    report = {"version": "1.1.390", "generalDiagnostics": [diagnostic, warning], "summary": {}}
    (project.root / "pyright.json").write_text(json.dumps(report), encoding="utf-8")

    _, types = _typecheck(project, 'path = "pyright.json", modules = { "src/calc" = 0 }')

    assert types["status"] == "fail"
    assert types["measured"] == 1
    assert types["details"]["tool"] == "pyright"
    assert types["details"]["warnings"] == 1
    finding = types["details"]["findings"][0]
    assert (finding["path"], finding["line"]) == ("src/calc/core.py", 9)  # 1-based, relative


def test_a_missing_type_checker_is_an_error(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(project.root)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # pyright is not installed here, whatever the machine

    code, types = _typecheck(project, 'tool = "pyright", targets = ["src"]')

    assert code == 1
    assert types["status"] == "error"
    assert types["reason"].startswith("command not found: pyright")


def test_a_type_checker_that_cannot_run_is_an_error(project: Project) -> None:
    make_project(project.root)

    _, types = _typecheck(project, 'targets = ["no/such/dir"]')

    assert types["status"] == "error"
    assert "exited 2" in types["reason"]


def test_a_malformed_report_is_an_error_naming_the_file(project: Project) -> None:
    (project.root / "mypy.json").write_text('{"file": "a.py", "line": 1', encoding="utf-8")

    _, types = _typecheck(project, 'path = "mypy.json"')

    assert types["status"] == "error"
    assert "mypy.json:1: not a mypy JSON line" in types["reason"]


def test_output_that_is_not_mypy_is_an_error(project: Project) -> None:
    (project.root / "mypy.txt").write_text("<html>502 Bad Gateway</html>\n", encoding="utf-8")

    _, types = _typecheck(project, 'path = "mypy.txt"')

    assert types["status"] == "error"
    assert "not mypy output" in types["reason"]
