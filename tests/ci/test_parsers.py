"""The parsers behind the Phase-4 checks: lint findings, type errors, diffs, CI scripts."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonogo.checks.coverage_critical import parse_diff
from gonogo.checks.typecheck import in_module
from gonogo.ci.shell import ignores_exit, runs_gonogo_ci
from gonogo.ci.verify import branch_matches
from gonogo.errors import EvidenceError
from gonogo.evidence.sarif import LintReport, parse_lint
from gonogo.evidence.typecheck import parse_typecheck


def _lint(document: object) -> LintReport:
    return parse_lint(json.dumps(document).encode(), source="r.json")


def test_ruff_json_findings_keep_rule_path_and_line() -> None:
    report = _lint(
        [
            {"code": "F401", "message": "unused", "filename": "/p/a.py", "location": {"row": 2}},
            {"code": None, "message": "SyntaxError: bad", "filename": "b.py", "location": None},
        ]
    )

    assert [(f.rule, f.path, f.line) for f in report.findings] == [
        ("F401", "/p/a.py", 2),
        ("syntax-error", "b.py", None),
    ]


def test_sarif_level_defaults_to_warning_and_suppressions_are_counted_apart() -> None:
    result = {"ruleId": "R", "message": {"text": "m"}}
    located = {
        **result,
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "src/x.py"},
                    "region": {"startLine": 7},
                }
            }
        ],
    }
    report = parse_lint(
        json.dumps(
            {
                "runs": [
                    {
                        "tool": {"driver": {"name": "semgrep"}},
                        "results": [
                            located,
                            {**result, "level": "note"},
                            {**result, "suppressions": [{}]},
                        ],
                    }
                ]
            }
        ).encode(),
        source="s.sarif",
    )

    assert report.tools == ("semgrep",)
    assert [(f.level, f.path, f.line) for f in report.findings] == [
        ("warning", "src/x.py", 7),
        ("note", None, None),
    ]
    assert report.suppressed == 1
    assert len(report.at_least("warning")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"{nope", "not valid JSON"),
        (b'{"a": 1}', "neither ruff JSON nor SARIF"),
        (b'{"runs": 3}', 'SARIF has no "runs" list'),
        (b'{"runs": [{"results": [{"level": "fatal", "message": {"text": "x"}}]}]}', "level"),
        (b'{"runs": [{"results": [{"ruleId": "R"}]}]}', "no message text"),
        (b'[{"code": "E1"}]', "finding #1 has no message"),
    ],
)
def test_malformed_lint_reports_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(EvidenceError, match=message):
        parse_lint(data, source="r.json")


def test_mypy_text_counts_errors_not_notes_or_summaries() -> None:
    text = (
        "src/a.py:3: error: Incompatible return value type  [return-value]\n"
        "src/a.py:3: note: See https://mypy.rtfd.io\n"
        "src/b.py:4:7:4:9: error: Name 'x' is not defined  [name-defined]\n"
        "    x = 1\n"
        "        ^\n"
        "src/c.py:1: warning: unused 'type: ignore' comment\n"
        "Found 2 errors in 2 files (checked 5 source files)\n"
    )

    report = parse_typecheck(text.encode(), source="mypy.txt")

    assert [(d.path, d.line, d.code) for d in report.errors] == [
        ("src/a.py", 3, "return-value"),
        ("src/b.py", 4, "name-defined"),
    ]
    assert len(report.warnings) == 1


def test_mypy_json_lines_and_pyright_json_are_told_apart() -> None:
    mypy = json.dumps(
        {"file": "a.py", "line": 2, "message": "m", "code": "misc", "severity": "error"}
    )
    pyright = json.dumps(
        {
            "generalDiagnostics": [
                {
                    "file": "/x/a.py",
                    "severity": "information",
                    "message": "i",
                    "range": {"start": {"line": 0, "character": 0}},
                },
                {
                    "file": "/x/a.py",
                    "severity": "error",
                    "message": "e",
                    "rule": "reportX",
                    "range": {"start": {"line": 4, "character": 0}},
                },
            ]
        }
    )

    from_mypy = parse_typecheck(f"{mypy}\n{mypy}\n".encode(), source="m")
    from_pyright = parse_typecheck(pyright.encode(), source="p")

    assert (from_mypy.tool, len(from_mypy.errors)) == ("mypy", 2)
    assert from_pyright.tool == "pyright"
    assert [(d.line, d.code) for d in from_pyright.errors] == [(5, "reportX")]
    assert [d.severity for d in from_pyright.diagnostics] == ["note", "error"]


def test_clean_type_checker_output_is_zero_errors() -> None:
    assert parse_typecheck(b"", source="m").errors == ()
    assert parse_typecheck(b"Success: no issues found in 3 source files\n", source="m").errors == ()


@given(st.binary(max_size=300))
def test_lint_parser_never_crashes_on_garbage(data: bytes) -> None:
    with contextlib.suppress(EvidenceError):
        parse_lint(data, source="fuzz")


@given(st.text(max_size=300))
def test_type_checker_parser_never_crashes_on_garbage(text: str) -> None:
    for fmt in ("auto", "mypy-json", "pyright"):  # "auto" may pick mypy's text format
        with contextlib.suppress(EvidenceError):
            parse_typecheck(text.encode(), source="fuzz", fmt=fmt)


def test_parse_diff_collects_added_lines_per_file() -> None:
    diff = (
        "diff --git a/src/a.py b/src/a.py\n"
        "--- a/src/a.py\n+++ b/src/a.py\n"
        "@@ -3 +3,2 @@\n-old\n+new\n+new2\n"
        "@@ -10,2 +11,0 @@\n-gone\n-gone\n"
        "@@ -20 +20 @@\n-x\n+y\n"
        "diff --git a/new.py b/new.py\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,3 @@\n+1\n+2\n+3\n"
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\n"
        "--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-1\n"
        '--- a/"sp ace.py"\n+++ "b/sp ace.py"\n@@ -1 +1 @@\n-a\n+b\n'
    )

    assert parse_diff(diff) == {
        "src/a.py": {3, 4, 20},
        "new.py": {1, 2, 3},
        "sp ace.py": {1},
    }


@pytest.mark.parametrize(
    ("path", "pattern", "inside"),
    [
        ("src/gonogo/audit/chain.py", "src/gonogo/audit", True),
        ("src/gonogo/audit/chain.py", "gonogo/audit", True),
        ("src/gonogo/audit/chain.py", "gonogo.audit", True),
        ("src/gonogo/audit/chain.py", "gonogo.audit.chain", True),
        ("src/gonogo/audit/chain.py", "src/gonogo/audit/*.py", True),
        ("src/gonogo/auditing/x.py", "gonogo.audit", False),
        ("src/gonogo/gates/engine.py", "src/gonogo/audit/", False),
        ("src/other/gonogo/audit.py", "gonogo.audit", True),
    ],
)
def test_in_module(path: str, pattern: str, inside: bool) -> None:
    assert in_module(path, pattern) is inside


@pytest.mark.parametrize(
    ("script", "runs"),
    [
        ("gonogo ci", True),
        ("gonogo ci --junit r.xml --sarif r.sarif", True),
        ("python -m gonogo --project sub ci", True),
        ("GONOGO_JOBS=2 gonogo -C . ci -j 2", True),
        ("uv run gonogo ci", True),
        ("set -e\nmkdir -p reports && gonogo ci\n", True),
        ("gonogo ci init github", False),
        ("gonogo ci --format json verify", False),
        ("gonogo check --phase 4", False),
        ("echo gonogo ci", False),
        ("# gonogo ci", False),
    ],
)
def test_runs_gonogo_ci(script: str, runs: bool) -> None:
    assert runs_gonogo_ci(script) is runs


@pytest.mark.parametrize(
    ("script", "ignored"),
    [
        ("gonogo ci", False),
        ("gonogo ci || exit 1", False),
        ("gonogo ci || true", True),
        ("gonogo ci || :", True),
        ("gonogo ci || echo 'gates are red'", True),
        ("set +e\ngonogo ci", True),
    ],
)
def test_ignores_exit(script: str, ignored: bool) -> None:
    assert ignores_exit(script) is ignored


@pytest.mark.parametrize(
    ("patterns", "matches"),
    [
        (["release/**"], True),
        (["release/*"], True),
        (["release/*/x"], False),
        (["main"], False),
        (["**", "!release/**"], False),
        (["!release/**", "**"], True),
        (["releases/**"], False),
        (["release/[0-9]*"], True),
    ],
)
def test_branch_filters_follow_github_rules(patterns: list[str], matches: bool) -> None:
    assert branch_matches(patterns, "release/1.0.0") is matches
