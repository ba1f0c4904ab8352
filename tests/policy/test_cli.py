"""``gonogo policy validate|explain|schema|approve`` as a user runs them, through ``main``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from gonogo.cli import policy_cmd
from gonogo.cli.main import main
from gonogo.policy import load_policy
from tests.policy.policies import EXAMPLE, MINIMAL, edit, line_of, write_policy

Run = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# -- validate ----------------------------------------------------------------------------------


def test_validate_accepts_the_example_policy_with_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "--project", str(EXAMPLE.parent), "policy", "validate")
    assert (code, err) == (0, "")
    assert out == (f"{EXAMPLE}: valid: 4 gates, 12 criteria, 4 owner roles, 0 waivers\n")


def test_validate_lists_every_problem_one_line_each_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(MINIMAL, "phase = 4", 'phase = "four"\ncolour = "red"')
    file = write_policy(tmp_path, text)
    code, out, err = run(capsys, "--project", str(tmp_path), "policy", "validate")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"gonogo: error: {file}:{line_of(text, 'phase =')}: gates[0].phase: Input should be a "
        "valid integer, unable to parse string as an integer (found 'four')",
        f"gonogo: error: {file}:{line_of(text, 'colour =')}: gates[0].colour: Extra inputs "
        "are not permitted (found 'red')",
    ]


def test_validate_reports_semantic_problems_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(MINIMAL, 'check = "file"', 'check = "sonarqube"')
    text = edit(text, '{ path = "reports/junit.xml" }', '{ path = "x.xml", min_tests = -1 }')
    file = write_policy(tmp_path, text)
    code, out, err = run(capsys, "--project", str(tmp_path), "policy", "validate")
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        f"gonogo: error: {file}:{line_of(text, 'min_tests')}: "
        "gates[0].criteria[0].params.min_tests: "
    )
    assert lines[1].startswith(
        f"gonogo: error: {file}:{line_of(text, 'sonarqube')}: gates[1].criteria[0].check: "
        "unknown check type 'sonarqube'; use one of: "
    )
    for name in ("command", "coverage", "file", "gate", "junit", "signoff"):
        assert name in lines[1]


def test_validate_on_invalid_toml_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policy(tmp_path, MINIMAL + "\n[[gates]\n")
    code, out, err = run(capsys, "--project", str(tmp_path), "policy", "validate")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert "not valid TOML" in err
    assert f"line {MINIMAL.count(chr(10)) + 2}" in err


def test_validate_without_a_policy_says_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--project", str(tmp_path), "policy", "validate")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert "gonogo init" in err
    assert "--project" in err


def test_validate_warns_about_an_expired_waiver_but_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = (
        '\n[[waivers]]\ncriterion = "quality.tests"\napprover = "qa"\n'
        'reason = "flaky runner"\nexpires = 2001-02-03\n'
        '\n[[waivers]]\ncriterion = "operations.runbook"\napprover = "engineering"\n'
        'reason = "runbook being rewritten"\nexpires = 2999-12-31\n'
    )
    file = write_policy(tmp_path, MINIMAL + waivers)
    code, out, err = run(capsys, "--project", str(tmp_path), "policy", "validate")
    assert code == 0
    assert err == "gonogo: warning: waiver for quality.tests expired on 2001-02-03\n"
    assert out == f"{file}: valid: 2 gates, 2 criteria, 2 owner roles, 2 waivers\n"


# -- explain -----------------------------------------------------------------------------------


def test_explain_prints_each_gate_with_phase_owners_criteria_and_thresholds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "--project", str(EXAMPLE.parent), "policy", "explain")
    assert (code, err) == (0, "")
    policy = load_policy(EXAMPLE).policy
    sections = out.split("\n## ")
    for gate in policy.gates:
        [section] = [s for s in sections if f"(`{gate.id}`)" in s.splitlines()[0]]
        assert section.startswith(f"Phase {gate.phase} ")
        assert f"Signed off by: {', '.join(gate.owners)}." in section
        for criterion in gate.criteria:
            assert f"(`{gate.id}.{criterion.id}`): `{criterion.check}`" in section
    coverage = next(line for line in out.splitlines() if "`quality.coverage`" in line)
    assert coverage.endswith("threshold: >= 85")
    assert "modules={'shopapi/orders.py': 95}" in coverage


def test_explain_describes_relative_thresholds_weights_and_waivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(
        MINIMAL,
        'params = { path = "reports/junit.xml" }',
        'params = { path = "reports/junit.xml" }\n'
        'threshold = { relative_to = "last_pass", tolerance = 2 }\nkey = true\n\n'
        '[[gates.criteria]]\nid = "lint"\ncheck = "command"\nparams = { run = "ruff check" }\n'
        "weight = 0.5\nblocking = false\n",
    )
    text = edit(text, "phase = 4\n", 'phase = 4\naggregation = "weighted"\npass_score = 0.9\n')
    text += (
        '\n[[waivers]]\ncriterion = "quality.lint"\napprover = "qa"\n'
        'reason = "new rules land next sprint"\nexpires = 2001-01-01\n'
    )
    write_policy(tmp_path, text)
    code, out, _ = run(capsys, "--project", str(tmp_path), "policy", "explain")
    assert code == 0
    assert "Weighted score: pass at 0.9, warn at 0.6; key criteria veto." in out
    tests = next(line for line in out.splitlines() if "`quality.tests`" in line)
    assert "no worse than the last passing release (tolerance 2)" in tests
    assert "(key)" in tests
    lint = next(line for line in out.splitlines() if "`quality.lint`" in line)
    assert "(advisory; weight 0.5)" in lint
    assert "- `quality.lint` EXPIRED, approved by qa: new rules land next sprint" in out
    assert "Signed off by: none (no sign-off needed)." in out


# -- help ----------------------------------------------------------------------------------------


def _policy_commands() -> dict[str, Any]:
    # Typer builds its commands on its own copy of click: read them by shape, not by class
    group = typer.main.get_command(policy_cmd.app)
    commands: dict[str, Any] = dict(group.commands)  # type: ignore[attr-defined]
    return commands


def test_policy_has_the_four_sub_commands() -> None:
    assert set(_policy_commands()) == {"validate", "explain", "schema", "approve"}


@pytest.mark.parametrize("name", ["validate", "explain", "schema", "approve"])
def test_every_policy_sub_command_has_help_text(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = _policy_commands()[name]
    code, out, _ = run(capsys, "policy", name, "--help")
    assert code == 0
    summary = (command.help or "").strip().splitlines()[0]
    assert len(summary) > 20
    assert summary in " ".join(out.split())
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"--{param.name} of `policy {name}` has no help text"
            assert param.help.split()[0] in out


def test_policy_group_help_lists_its_sub_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "--help")
    assert code == 0
    assert "Validate, explain and approve the release policy." in out
    for name in ("validate", "explain", "schema", "approve"):
        assert name in out
