"""``env scan`` and ``env check`` on hostile trees and inventories: a warning or one line, no crash.

A file name that is not UTF-8, a "variable name" no environment can hold, a default that
is a live token, an inventory that is a folder, a symlink or a typo: each is either
scanned and shown safely, skipped with a warning, or refused in one line with a fix.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gonogo.config.inventory import FILENAME
from tests.helpers import Project
from tests.secrets.helpers import fresh


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """An empty project folder, driven through the CLI."""
    root = tmp_path / "app"
    root.mkdir()
    return Project(root, capsys, monkeypatch)


def _write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, encoding="utf-8")


def test_a_file_name_that_is_not_utf8_is_scanned_and_shown_escaped(project: Project) -> None:
    name = os.fsdecode(b"caf\xe9.py")  # a Latin-1 name, as an old archive leaves it
    _write(project.root, name, 'import os\nos.environ["IN_LATIN1_NAME"]\n')

    run = project.run("env", "scan")

    assert run.code == 0, run.err
    assert "caf\\xe9.py:2" in run.out
    assert 'locations = ["caf\\\\xe9.py:2"]' in (project.root / FILENAME).read_text("utf-8")
    assert project.run("env", "check").code == 0


def test_names_no_environment_can_hold_are_skipped_with_a_warning(project: Project) -> None:
    _write(
        project.root,
        "odd.py",
        'import os\nos.getenv("")\nos.getenv("\\x1b[31mRED")\nos.getenv("A=B")\n'
        'os.getenv("TWO WORDS")\nos.environ["FINE_NAME"]\n',
    )

    run = project.run("env", "scan")

    assert run.code == 0
    assert run.err_lines[:4] == [
        "gonogo: warning: odd.py: line 2: '' is empty, not a variable name; skipped",
        "gonogo: warning: odd.py: line 3: '\\x1b[31mRED' holds whitespace or a control "
        "character, which no variable name should; skipped",
        "gonogo: warning: odd.py: line 4: 'A=B' holds '=', which no variable name can; skipped",
        "gonogo: warning: odd.py: line 5: 'TWO WORDS' holds whitespace or a control "
        "character, which no variable name should; skipped",
    ]
    assert "\x1b" not in run.out + run.err
    assert [line.split()[0] for line in run.out.splitlines()[1:2]] == ["FINE_NAME"]
    # what the scan writes, the check reads back
    assert project.run("env", "check").code == 0


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_a_default_that_is_a_token_is_never_shown_or_written(project: Project, fmt: str) -> None:
    token = fresh(41)["slack-bot-token"].secret
    _write(project.root, "app.py", f'import os\nos.getenv("GREETING", "{token}")\n')
    out = project.root / f"report.{fmt}"

    run = project.run("env", "scan", "--format", fmt, "--output", str(out))

    assert run.code == 0
    written = out.read_text("utf-8") + (project.root / FILENAME).read_text("utf-8")
    assert token not in written + run.out + run.err
    assert token[:12] not in written
    assert "secret = true" in (project.root / FILENAME).read_text("utf-8")


def test_an_inventory_that_is_a_folder_is_named_as_one(project: Project) -> None:
    _write(project.root, "app.py", 'import os\nos.environ["A"]\n')
    (project.root / FILENAME).mkdir()

    for command in ("check", "scan"):
        run = project.run("env", command)
        assert run.code == 2
        assert run.assert_one_error_line() == (
            f"gonogo: error: {project.root / FILENAME} is a folder, not an inventory file; "
            "name the inventory file"
        )


def test_a_linked_inventory_is_written_through_the_link(project: Project, tmp_path: Path) -> None:
    _write(project.root, "app.py", 'import os\nos.environ["SHARED_VAR"]\n')
    shared = tmp_path / "shared" / FILENAME
    shared.parent.mkdir()
    (project.root / FILENAME).symlink_to(shared)

    assert project.run("env", "scan").code == 0

    assert (project.root / FILENAME).is_symlink()
    assert 'name = "SHARED_VAR"' in shared.read_text("utf-8")
    assert project.run("env", "check").code == 0


def test_an_inventory_link_that_loops_is_one_line(project: Project) -> None:
    _write(project.root, "app.py", 'import os\nos.environ["A"]\n')
    (project.root / FILENAME).symlink_to(project.root / "other.toml")
    (project.root / "other.toml").symlink_to(project.root / FILENAME)

    run = project.run("env", "scan")

    assert run.code == 2
    assert run.assert_one_error_line() == (
        f"gonogo: error: cannot write {project.root / FILENAME}: it is a symlink loop; "
        "fix or remove the link"
    )
    assert (project.root / "other.toml").is_symlink()  # nothing replaced


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[varibles]]\nname = "A"\n',
            "unknown key 'varibles'; an inventory holds `schema` and [[variables]] tables; "
            "fix or remove the key",
        ),
        (
            '[[variables]]\nname = "A"\nmin = 10\nmax = 1\n',
            "variables[0] (A): min 10 is greater than max 1; fix it by hand, or delete it "
            "and run `gonogo env scan` to write it again",
        ),
        ('[[variables]]\nname = "A"\nmin = nan\n', "variables[0] (A).min must be a number"),
        ('[[variables]]\nname = "A B"\n', "variables[0].name 'A B' holds whitespace"),
        (
            "schema = [",
            "is not valid TOML: Invalid value (at end of document); fix it by hand, or "
            "delete it and run `gonogo env scan` to write it again",
        ),
    ],
)
def test_a_bad_inventory_is_one_line_with_a_fix(project: Project, text: str, message: str) -> None:
    _write(project.root, "app.py", 'import os\nos.environ["A"]\n')
    _write(project.root, FILENAME, text)

    run = project.run("env", "check")

    assert run.code == 2
    assert message in run.assert_one_error_line()
