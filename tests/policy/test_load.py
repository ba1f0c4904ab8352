"""Finding and loading the policy; every problem is one located line (file:line: path: what)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gonogo.errors import GonogoError, PolicyError
from gonogo.gates import plan
from gonogo.policy import PolicyInvalid, Problem, find_policy, load_policy
from gonogo.policy.load import LoadedPolicy
from tests.policy.policies import MINIMAL, edit, line_of, write_policy

BUILT_IN_CHECKS = ("command", "coverage", "file", "gate", "junit", "signoff")

WAIVER = """
[[waivers]]
criterion = "quality.tests"
approver = "qa"
reason = "the CI runner is being replaced this week"
expires = 2099-01-01
"""


def as_pyproject(policy_text: str) -> str:
    """The same policy as ``[tool.gonogo]`` in a pyproject.toml that has other tables too."""
    body = re.sub(r"^(\[\[?)", r"\1tool.gonogo.", policy_text, flags=re.MULTILINE)
    return (
        '[project]\nname = "demo-package"\nversion = "0.1.0"\n\n'
        "[tool.ruff]\nline-length = 100\n\n"
        f"[tool.gonogo]\n{body}"
    )


def _only_problem(file: Path) -> tuple[PolicyInvalid, Problem]:
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(file)
    assert len(caught.value.problems) == 1, [str(p) for p in caught.value.problems]
    return caught.value, caught.value.problems[0]


# -- finding the policy ------------------------------------------------------------------------


def test_valid_policy_loads_from_gonogo_toml(tmp_path: Path) -> None:
    file = write_policy(tmp_path, MINIMAL)
    assert find_policy(tmp_path) == file
    loaded = load_policy(file)
    assert loaded.policy.project.name == "demo"
    assert [g.id for g in loaded.policy.gates] == ["quality", "operations"]
    assert loaded.policy.gates[0].criteria[0].params == {"path": "reports/junit.xml"}
    assert loaded.root == tmp_path


def test_same_policy_loads_from_tool_gonogo_in_pyproject(tmp_path: Path) -> None:
    toml_form = load_policy(write_policy(tmp_path / "a", MINIMAL))
    pyproject = write_policy(tmp_path / "b", as_pyproject(MINIMAL), "pyproject.toml")
    assert find_policy(tmp_path / "b") == pyproject
    pyproject_form = load_policy(pyproject)
    assert pyproject_form.policy == toml_form.policy
    # approvals bind to the policy's meaning, not to which file holds it
    assert pyproject_form.digest == toml_form.digest


def test_gonogo_toml_wins_when_both_exist(tmp_path: Path) -> None:
    write_policy(
        tmp_path, as_pyproject(MINIMAL.replace('"demo"', '"from-pyproject"')), "pyproject.toml"
    )
    file = write_policy(tmp_path, MINIMAL.replace('"demo"', '"from-gonogo-toml"'))
    assert find_policy(tmp_path) == file
    assert load_policy(find_policy(tmp_path)).policy.project.name == "from-gonogo-toml"


def test_pyproject_without_tool_gonogo_is_not_a_policy(tmp_path: Path) -> None:
    write_policy(
        tmp_path, '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 90\n', "pyproject.toml"
    )
    with pytest.raises(PolicyError, match="no policy found"):
        find_policy(tmp_path)


def test_no_policy_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        find_policy(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message
    assert "gonogo init" in message
    assert "--project" in message
    assert "\n" not in message


def test_missing_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "gonogo.toml")


@pytest.mark.parametrize("text", ["tool = 3\n", "[tool]\ngonogo = 1\n", "[tool.black]\nx = 1\n"])
def test_pyproject_whose_tool_gonogo_is_not_a_table_is_a_policy_error(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(PolicyError, match=r"no \[tool.gonogo\] table"):
        load_policy(write_policy(tmp_path, text, "pyproject.toml"))


# -- syntax errors -----------------------------------------------------------------------------


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    text = edit(MINIMAL, 'title = "Operations"', 'title = "Operations')
    file = write_policy(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(file)
    assert not isinstance(caught.value, PolicyInvalid)
    message = str(caught.value)
    assert message.startswith(f"{file}: not valid TOML")
    broken = line_of(text, 'title = "Operations')
    assert f"line {broken}," in message
    assert "\n" not in message


def test_deeply_nested_toml_is_a_policy_error_not_a_crash(tmp_path: Path) -> None:
    file = write_policy(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(PolicyError, match="nested too deeply"):
        load_policy(file)


def test_undecodable_policy_is_a_policy_error(tmp_path: Path) -> None:
    file = tmp_path / "gonogo.toml"
    file.write_bytes(b'[project]\nname = "\xff\xfe"\n')
    with pytest.raises(PolicyError, match="cannot read the policy"):
        load_policy(file)


# -- validation errors: one located line each ---------------------------------------------------

Where = str | tuple[str, int]
Case = tuple[Callable[[str], str], str, Where, tuple[str, ...]]

# (how to break MINIMAL, key path, the line it points at, words the message holds); the line
# is the first holding a fragment, or (fragment, n) for the n-th.


def _line(text: str, where: Where) -> int:
    fragment, occurrence = (where, 1) if isinstance(where, str) else where
    return line_of(text, fragment, occurrence=occurrence)


INVALID: dict[str, Case] = {
    "wrong type": (
        lambda t: edit(t, "phase = 4", 'phase = "four"'),
        "gates[0].phase",
        'phase = "four"',
        ("valid integer", "found 'four'"),
    ),
    "out of range": (
        lambda t: edit(t, "phase = 6", "phase = 9"),
        "gates[1].phase",
        "phase = 9",
        ("less than or equal to 8", "found 9"),
    ),
    "unknown key": (
        lambda t: edit(t, "phase = 6", 'phase = 6\ncolour = "red"'),
        "gates[1].colour",
        'colour = "red"',
        ("Extra inputs are not permitted", "found 'red'"),
    ),
    "unknown top-level table": (
        lambda t: t + "\n[rollouts]\nsteps = [5, 50]\n",
        "rollouts",
        "[rollouts]",
        ("Extra inputs are not permitted",),
    ),
    "missing required key": (
        lambda t: edit(t, 'title = "Operations"\n', ""),
        "gates[1].title",
        ("[[gates]]", 2),  # the table that lacks it
        ("required key is missing",),
    ),
    "waiver without reason": (
        lambda t: t + edit(WAIVER, 'reason = "the CI runner is being replaced this week"\n', ""),
        "waivers[0].reason",
        "[[waivers]]",
        ("required key is missing",),
    ),
    "waiver with a blank reason": (
        lambda t: t + edit(WAIVER, '"the CI runner is being replaced this week"', '"     "'),
        "waivers[0].reason",
        'reason = "     "',
        ("a waiver needs a reason",),
    ),
    "waiver without expiry": (
        lambda t: t + edit(WAIVER, "expires = 2099-01-01\n", ""),
        "waivers[0].expires",
        "[[waivers]]",
        ("required key is missing",),
    ),
    "waiver expiry not a date": (
        lambda t: t + edit(WAIVER, "expires = 2099-01-01", 'expires = "next week"'),
        "waivers[0].expires",
        'expires = "next week"',
        ("valid date", "found 'next week'"),
    ),
    "waiver naming an unknown criterion": (
        lambda t: t + edit(WAIVER, '"quality.tests"', '"quality.lint"'),
        "waivers[0].criterion",
        'criterion = "quality.lint"',
        ("'quality.lint'", "no gate has", "GATE.CRITERION"),
    ),
    "waiver approver who is no owner role": (
        lambda t: t + edit(WAIVER, 'approver = "qa"', 'approver = "legal"'),
        "waivers[0].approver",
        'approver = "legal"',
        ("'legal'", "not an owner role", "engineering, qa"),
    ),
    "owner role not under [owners]": (
        lambda t: edit(t, 'owners = ["engineering"]', 'owners = ["engineering", "legal"]'),
        "gates[0].owners[1]",
        'owners = ["engineering", "legal"]',
        ("'legal'", "not under [owners]", "engineering, qa"),
    ),
    "duplicate gate ids": (
        lambda t: edit(t, 'id = "operations"', 'id = "quality"'),
        "gates[1].id",
        ('id = "quality"', 2),
        ("'quality'", "appears twice", "gates[0]"),
    ),
    "duplicate criterion ids": (
        lambda t: edit(
            t,
            'id = "runbook"',
            'id = "runbook"\ncheck = "file"\n\n[[gates.criteria]]\nid = "runbook"',
        ),
        "gates[1].criteria[1].id",
        ('id = "runbook"', 2),
        ("'runbook'", "appears twice", "'operations'"),
    ),
    "warn score above pass score": (
        lambda t: edit(t, "phase = 4", 'phase = 4\naggregation = "weighted"\nwarn_score = 0.9'),
        "gates[0].warn_score",
        "warn_score = 0.9",
        ("must not be above `pass_score`", "0.9 > 0.8"),
    ),
    "threshold without a bar": (
        lambda t: edit(
            t,
            'params = { path = "RUNBOOK.md" }',
            'params = { path = "RUNBOOK.md" }\nthreshold = { tolerance = 1 }',
        ),
        "gates[1].criteria[0].threshold",
        "threshold = { tolerance = 1 }",
        ("`min`, `max` or `relative_to",),
    ),
    "nan threshold": (
        lambda t: edit(
            t,
            'params = { path = "RUNBOOK.md" }',
            'params = { path = "RUNBOOK.md" }\nthreshold = { min = nan }',
        ),
        "gates[1].criteria[0].threshold.min",
        "threshold = { min = nan }",
        ("finite number", "found nan"),
    ),
    "nan inside params": (
        lambda t: edit(
            t, '{ path = "RUNBOOK.md" }', '{ path = "RUNBOOK.md", limits = { x = inf } }'
        ),
        "gates[1].criteria[0].params",
        "limits = { x = inf }",
        ("nan or inf",),
    ),
    "unknown source": (
        lambda t: edit(t, 'check = "file"', 'check = "file"\nsource = "push"'),
        "gates[1].criteria[0].source",
        'source = "push"',
        ("'run' or 'ingest'", "found 'push'"),
    ),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_policy_is_one_line_naming_file_line_path_and_what(
    tmp_path: Path, case: Case
) -> None:
    breaks, path, fragment, words = case
    text = breaks(MINIMAL)
    file = write_policy(tmp_path, text)
    error, problem = _only_problem(file)
    line = _line(text, fragment)
    assert (problem.file, problem.path, problem.line) == (file, path, line)
    assert str(problem).startswith(f"{file}:{line}: {path}: ")
    for word in words:
        assert word in problem.message
    assert str(error) == str(problem)
    assert "\n" not in str(error)


def test_every_problem_is_reported_and_the_message_counts_the_rest(tmp_path: Path) -> None:
    text = edit(MINIMAL, "phase = 4", 'phase = "four"\ncolour = "red"')
    text = edit(text, 'owners = ["engineering"]\n', "")
    file = write_policy(tmp_path, text)
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(file)
    assert [p.path for p in caught.value.problems] == ["gates[0].phase", "gates[0].colour"]
    assert str(caught.value).endswith("(and 1 more: run `gonogo policy validate`)")


def test_items_that_fail_inside_are_not_also_reported_as_an_empty_list(tmp_path: Path) -> None:
    # pydantic echoes "Tuple should have at least 1 item" when the only gate is invalid
    text = MINIMAL[: MINIMAL.index('[[gates]]\nid = "operations"')]
    file = write_policy(tmp_path, edit(text, "phase = 4", 'phase = "four"'))
    _, problem = _only_problem(file)
    assert problem.path == "gates[0].phase"


def test_empty_gates_is_reported_at_the_gates_key(tmp_path: Path) -> None:
    text = "gates = []\n" + MINIMAL[: MINIMAL.index("[[gates]]")]
    file = write_policy(tmp_path, text)
    _, problem = _only_problem(file)
    assert (problem.path, problem.line) == ("gates", 1)
    assert "at least 1 item" in problem.message


def test_a_key_with_a_newline_still_gives_a_one_line_problem(tmp_path: Path) -> None:
    file = write_policy(tmp_path, '"odd\\nkey" = 1\n' + MINIMAL.removeprefix("version = 1\n"))
    _, problem = _only_problem(file)
    assert problem.path == '"odd\\nkey"'
    assert "\n" not in str(problem)


# -- semantic problems: found before any check runs (plan.problems) ----------------------------

PLAN_PROBLEMS: dict[str, Case] = {
    "unknown check type": (
        lambda t: edit(t, 'check = "file"', 'check = "sonarqube"'),
        "gates[1].criteria[0].check",
        'check = "sonarqube"',
        ("unknown check type 'sonarqube'", *BUILT_IN_CHECKS),
    ),
    "negative min_tests": (
        lambda t: edit(
            t, '{ path = "reports/junit.xml" }', '{ path = "reports/junit.xml", min_tests = -1 }'
        ),
        "gates[0].criteria[0].params.min_tests",
        "min_tests = -1",
        ("greater than or equal to 0",),
    ),
    "coverage module minimum above 100%": (
        lambda t: edit(
            t,
            'check = "junit"\nparams = { path = "reports/junit.xml" }',
            'check = "coverage"\nparams = { modules = { "shop.pay" = 150 } }',
        ),
        "gates[0].criteria[0].params.modules.shop.pay",
        'params = { modules = { "shop.pay" = 150 } }',
        ("less than or equal to 100",),
    ),
    "unknown param": (
        lambda t: edit(t, '{ path = "RUNBOOK.md" }', '{ path = "RUNBOOK.md", colour = "red" }'),
        "gates[1].criteria[0].params.colour",
        'colour = "red"',
        ("Extra inputs are not permitted",),
    ),
    "missing required param": (
        lambda t: edit(t, 'params = { path = "RUNBOOK.md" }', 'params = { sections = ["Deploy"] }'),
        "gates[1].criteria[0].params.path",
        'params = { sections = ["Deploy"] }',
        ("`file` check needs this parameter",),
    ),
    "gate check naming a missing gate": (
        lambda t: edit(
            t,
            'check = "file"\nparams = { path = "RUNBOOK.md" }',
            'check = "gate"\nparams = { gate = "security" }',
        ),
        "gates[1].criteria[0].params.gate",
        'params = { gate = "security" }',
        ("no gate named 'security'",),
    ),
    "gate check naming its own gate": (
        lambda t: edit(
            t,
            'check = "file"\nparams = { path = "RUNBOOK.md" }',
            'check = "gate"\nparams = { gate = "operations" }',
        ),
        "gates[1].criteria[0].params.gate",
        'params = { gate = "operations" }',
        ("cannot depend on itself",),
    ),
    "gates in a cycle": (
        lambda t: edit(
            edit(
                t,
                'check = "file"\nparams = { path = "RUNBOOK.md" }',
                'check = "gate"\nparams = { gate = "quality" }',
            ),
            'check = "junit"\nparams = { path = "reports/junit.xml" }',
            'check = "gate"\nparams = { gate = "operations" }',
        ),
        "gates[0]",
        "[[gates]]",
        ("cycle", "quality → operations → quality"),
    ),
}


@pytest.mark.parametrize("case", PLAN_PROBLEMS.values(), ids=PLAN_PROBLEMS.keys())
def test_semantic_problem_is_located_before_anything_runs(tmp_path: Path, case: Case) -> None:
    breaks, path, fragment, words = case
    text = breaks(MINIMAL)
    file = write_policy(tmp_path, text)
    loaded = load_policy(file)
    (problem,) = plan.problems(loaded)
    line = _line(text, fragment)
    assert (problem.file, problem.path, problem.line) == (file, path, line)
    for word in words:
        assert word in problem.message
    assert "\n" not in str(problem)
    # a run refuses the same policy with the same problem
    with pytest.raises(PolicyInvalid) as caught:
        plan.build(loaded)
    assert caught.value.problems == [problem]


def test_a_valid_policy_has_no_semantic_problems(tmp_path: Path) -> None:
    loaded = load_policy(write_policy(tmp_path, MINIMAL))
    assert plan.problems(loaded) == []
    assert [g.gate.id for g in plan.build(loaded).gates] == ["quality", "operations"]


# -- the pyproject form points into pyproject.toml ---------------------------------------------


def test_pyproject_problem_lines_point_into_pyproject(tmp_path: Path) -> None:
    text = as_pyproject(edit(MINIMAL, "phase = 6", 'phase = "six"'))
    file = write_policy(tmp_path, text, "pyproject.toml")
    _, problem = _only_problem(file)
    assert (problem.file, problem.path) == (file, "gates[1].phase")
    assert problem.line == line_of(text, 'phase = "six"')


def test_pyproject_cross_reference_lines_point_into_pyproject(tmp_path: Path) -> None:
    text = as_pyproject(MINIMAL + edit(WAIVER, 'approver = "qa"', 'approver = "legal"'))
    file = write_policy(tmp_path, text, "pyproject.toml")
    _, problem = _only_problem(file)
    assert problem.line == line_of(text, 'approver = "legal"')


def test_pyproject_semantic_problem_lines_point_into_pyproject(tmp_path: Path) -> None:
    text = as_pyproject(edit(MINIMAL, 'check = "file"', 'check = "sonarqube"'))
    file = write_policy(tmp_path, text, "pyproject.toml")
    (problem,) = plan.problems(load_policy(file))
    assert (problem.file, problem.line) == (file, line_of(text, 'check = "sonarqube"'))
    assert problem.path == "gates[1].criteria[0].check"


def test_errors_are_gonogo_errors_with_the_configuration_exit_code(tmp_path: Path) -> None:
    file = write_policy(tmp_path, edit(MINIMAL, "phase = 4", 'phase = "four"'))
    with pytest.raises(GonogoError) as caught:
        load_policy(file)
    assert int(caught.value.exit_code) == 2


def test_loaded_policy_locates_problems_the_caller_finds(tmp_path: Path) -> None:
    loaded: LoadedPolicy = load_policy(write_policy(tmp_path, MINIMAL))
    problem = loaded.problem(("gates", 1, "criteria", 0, "params", "path"), "no such file")
    line = line_of(MINIMAL, 'params = { path = "RUNBOOK.md" }')
    assert str(problem) == f"{loaded.file}:{line}: gates[1].criteria[0].params.path: no such file"
