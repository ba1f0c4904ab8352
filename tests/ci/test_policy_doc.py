"""``gonogo ci policy-doc``: the Phase-4 CI gate policy document, and gonogo's own policy."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gonogo.cli.main import main
from tests.ci.fixtures import write_policy
from tests.helpers import Project

ROOT = Path(__file__).resolve().parents[2]

CRITERIA = """
[[gates.criteria]]
id = "tests"
check = "tests"
title = "Suite passes"
params = { path = "reports/junit.xml", min_tests = 10 }

[[gates.criteria]]
id = "types"
check = "typecheck"
params = { targets = ["src"], modules = { "src/calc/ledger.py" = 0 } }
timeout = 600

[[gates.criteria]]
id = "debt"
check = "no-regression"
blocking = false
params = { of = "types" }
threshold = { relative_to = "last_pass", tolerance = 2 }

[[gates]]
id = "security"
title = "Security"
phase = 5

[[gates.criteria]]
id = "policy"
check = "file"
params = { path = "SECURITY.md" }

[[waivers]]
criterion = "ci.debt"
reason = "typing the importer is planned for 2.0"
approver = "engineering"
expires = 2099-01-01
"""


def test_lists_every_phase_4_gate_with_checks_bars_owners_and_local_commands(
    project: Project,
) -> None:
    write_policy(project.root, CRITERIA, owners='"engineering"')

    result = project.run("ci", "policy-doc")

    doc = result.out
    assert result.code == 0
    assert doc.startswith("# Phase-4 CI gate policy — calc")
    assert "## Gate `ci` — CI gates" in doc
    assert "**Owners:** engineering (alice@example.com)" in doc
    assert (
        "| `tests` Suite passes | `tests` | tests run | "
        '`min_tests = 10`<br>`path = "reports/junit.xml"` | yes | 300 s |'
    ) in doc
    assert '`modules = { "src/calc/ledger.py" = 0 }`' in doc
    assert "| 600 s |" in doc
    assert "no worse than the last passing release (tolerance 2)" in doc
    assert "| advisory |" in doc
    assert "`ci.debt` until 2099-01-01, approved by engineering" in doc
    assert "gonogo check --gate ci" in doc
    assert "gonogo ci --junit reports/gonogo-ci.xml" in doc
    assert "Gate `security`" not in doc


def test_writes_the_document_with_output(project: Project) -> None:
    write_policy(project.root, CRITERIA)
    target = project.root / "docs" / "ci-gates.md"

    result = project.run("ci", "policy-doc", "--output", str(target))

    assert result.code == 0
    assert target.read_text(encoding="utf-8").startswith("# Phase-4 CI gate policy")
    assert not (project.root / ".gonogo").exists()  # documenting opens no store


def test_an_invalid_policy_is_one_error_line(project: Project) -> None:
    write_policy(
        project.root, '[[gates.criteria]]\nid = "x"\ncheck = "lint"\nparams = { nope = 1 }\n'
    )

    result = project.run("ci", "policy-doc")

    assert result.code == 2
    result.assert_one_error_line()


def test_gonogos_own_policy_has_the_dogfooding_ci_gate(capsys: pytest.CaptureFixture[str]) -> None:
    policy = tomllib.loads((ROOT / "gonogo.toml").read_text(encoding="utf-8"))

    code = main(["--project", str(ROOT), "policy", "validate"])

    [gate] = [g for g in policy["gates"] if g["phase"] == 4]
    checks = {c["id"]: c["check"] for c in gate["criteria"]}
    assert gate["id"] == "ci"
    assert gate["owners"] == ["engineering"]
    assert policy["owners"]["engineering"] == ["maintainers@gonogo.invalid"]
    assert checks == {
        "tests": "tests",
        "lint": "lint",
        "format": "command",
        "typecheck": "typecheck",
        "coverage-critical": "coverage-critical",
        "suppressions": "lint",
    }
    spine = {"src/gonogo/audit", "src/gonogo/gates", "src/gonogo/store", "src/gonogo/policy"}
    critical = next(c for c in gate["criteria"] if c["check"] == "coverage-critical")
    assert set(critical["params"]["modules"]) == spine
    assert code == 0, capsys.readouterr().err
