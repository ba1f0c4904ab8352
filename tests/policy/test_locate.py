"""Key paths map to the lines a user sees in their editor."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.gates import plan
from gonogo.policy import PolicyInvalid, load_policy
from gonogo.policy.locate import Locator, format_path
from tests.policy.policies import MINIMAL, edit, line_of, write_policy

NESTED = """\
[project]
name = "nested"

[owners]
qa = ["q@example.com"]

[[gates]]
id = "first"
title = "First"
phase = 4

[[gates.criteria]]
id = "only"
check = "file"
params = { path = "A.md" }

[[gates]]  # the second gate
id = "second"
title = "Second"
phase = 5

  [[gates.criteria]]
  id = "zero"
  check = "file"
  params = { path = "B.md" }

  [[gates.criteria]]
  id = "one"
  check = "coverage"
  threshold.min = 85
  params = { path = "coverage.json" }

  [[gates.criteria]]
  id = "two"
  check = "file"
  "title" = "Two"

  [gates.criteria.params]
  path = "C.md"
  sections = ["Deploy"]

  [gates.criteria.applies_if]
  exists = ["deploy/**"]
"""


@pytest.mark.parametrize(
    ("path", "fragment", "occurrence"),
    [
        (("project",), "[project]", 1),
        (("project", "name"), 'name = "nested"', 1),
        (("owners", "qa"), "qa = ", 1),
        (("gates",), "[[gates]]", 1),
        (("gates", 0), "[[gates]]", 1),
        (("gates", 0, "criteria", 0, "params"), 'params = { path = "A.md" }', 1),
        (("gates", 1), "[[gates]]", 2),
        (("gates", 1, "phase"), "phase = 5", 1),
        (("gates", 1, "criteria", 0), "[[gates.criteria]]", 2),
        (("gates", 1, "criteria", 0, "id"), 'id = "zero"', 1),
        (("gates", 1, "criteria", 1, "threshold", "min"), "threshold.min = 85", 1),
        (("gates", 1, "criteria", 1, "threshold"), "threshold.min = 85", 1),
        (("gates", 1, "criteria", 2), "[[gates.criteria]]", 4),
        (("gates", 1, "criteria", 2, "title"), '"title" = "Two"', 1),
        (("gates", 1, "criteria", 2, "params"), "[gates.criteria.params]", 1),
        (("gates", 1, "criteria", 2, "params", "path"), 'path = "C.md"', 1),
        (("gates", 1, "criteria", 2, "params", "sections", 0), "sections = ", 1),
        (("gates", 1, "criteria", 2, "applies_if", "exists"), "exists = ", 1),
    ],
)
def test_key_path_maps_to_its_line_in_nested_arrays_of_tables(
    path: tuple[str | int, ...], fragment: str, occurrence: int
) -> None:
    assert Locator(NESTED).line(path) == line_of(NESTED, fragment, occurrence=occurrence)


def test_unplaced_path_falls_back_to_its_nearest_ancestor() -> None:
    locator = Locator(NESTED)
    # inline-table keys have no line of their own: the line of `params = {...}` stands in
    assert locator.line(("gates", 1, "criteria", 1, "params", "path")) == line_of(
        NESTED, 'params = { path = "coverage.json" }'
    )
    assert locator.line(("gates", 1, "criteria", 0, "weight")) == line_of(
        NESTED, "[[gates.criteria]]", occurrence=2
    )
    assert locator.line(("waivers", 0)) is None


def test_prefix_places_paths_under_tool_gonogo() -> None:
    text = (
        '[project]\nname = "pkg"\n\n'
        '[tool.gonogo.project]\nname = "x"\n\n'
        '[[tool.gonogo.gates]]\nid = "g"\n'
    )
    locator = Locator(text, ("tool", "gonogo"))
    assert locator.line(("project", "name")) == 5
    assert locator.line(("gates", 0, "id")) == 8
    assert locator.line(("gates",)) == 7


def test_semantic_problem_in_the_third_criterion_of_the_second_gate_points_at_its_params(
    tmp_path: Path,
) -> None:
    text = edit(NESTED, 'path = "C.md"', "path = 7")
    (problem,) = plan.problems(load_policy(write_policy(tmp_path, text)))
    assert problem.path == "gates[1].criteria[2].params.path"
    assert problem.line == line_of(text, "path = 7")


def test_model_problem_in_the_third_criterion_of_the_second_gate_points_at_its_params(
    tmp_path: Path,
) -> None:
    text = edit(NESTED, 'exists = ["deploy/**"]', "exists = []")
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(write_policy(tmp_path, text))
    [problem] = caught.value.problems
    assert problem.path == "gates[1].criteria[2].applies_if.exists"
    assert problem.line == line_of(text, "exists = []")


def test_line_numbers_survive_crlf_line_endings(tmp_path: Path) -> None:
    text = edit(MINIMAL, "phase = 6", 'phase = "six"')
    file = tmp_path / "gonogo.toml"
    file.write_bytes(text.replace("\n", "\r\n").encode())
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(file)
    assert caught.value.problems[0].line == line_of(text, 'phase = "six"')


def test_line_numbers_count_only_toml_line_breaks(tmp_path: Path) -> None:
    # U+2028 and U+0085 are ordinary characters inside a TOML string, not line breaks
    text = edit(MINIMAL, 'title = "Quality"', 'title = "Quality\u2028gate\x85"')
    text = edit(text, "phase = 6", 'phase = "six"')
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(write_policy(tmp_path, text))
    assert caught.value.problems[0].line == text.split("\n").index('phase = "six"') + 1


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("gates", 1, "criteria", 0, "check"), "gates[1].criteria[0].check"),
        (("project",), "project"),
        ((), "(top level)"),
        (("owners", "a\nb"), 'owners."a\\nb"'),
    ],
)
def test_format_path(path: tuple[str | int, ...], shown: str) -> None:
    assert format_path(path) == shown
