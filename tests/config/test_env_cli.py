"""``gonogo env scan`` and ``gonogo env check`` through the real CLI."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from tests.config.conftest import FIXTURE
from tests.helpers import Project


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A copy of the fixture project (every kind of env read), driven through the CLI."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)


def test_scan_writes_the_inventory_and_json_has_the_documented_shape(project: Project) -> None:
    run = project.run("env", "scan", "--format", "json")

    assert run.code == 0, run.err
    document = run.json()
    assert document["schema"] == "gonogo.env/v1"
    by_name = {v["name"]: v for v in document["variables"]}
    assert by_name["DATABASE_URL"]["required"] is True
    assert by_name["DATABASE_URL"]["secret"] is True
    assert by_name["DATABASE_URL"]["locations"] == [
        "app/django_settings.py:9",
        "app/settings.py:6",
    ]
    assert {"name", "required", "secret", "locations"} <= set(by_name["PORT"])
    assert "PYTHONUNBUFFERED" in {u["name"] for u in document["unread"]}
    written = tomllib.loads((project.root / "gonogo.env.toml").read_text(encoding="utf-8"))
    assert [v["name"] for v in written["variables"]] == sorted(by_name)
    assert f"wrote {project.root / 'gonogo.env.toml'}: 42 variables" in run.err


def test_scan_text_lists_each_variable_and_no_write_leaves_no_file(project: Project) -> None:
    run = project.run("env", "scan", "--no-write")

    assert run.code == 0
    assert not (project.root / "gonogo.env.toml").exists()
    assert "DATABASE_URL" in run.out
    assert "42 variables: 9 required, 10 secret." in run.out


def test_rescan_keeps_a_hand_written_description(project: Project) -> None:
    assert project.run("env", "scan").code == 0
    file = project.root / "gonogo.env.toml"
    text = file.read_text(encoding="utf-8")
    marker = 'name = "SMTP_HOST"\ndescription = ""'
    assert marker in text
    file.write_text(
        text.replace(marker, 'name = "SMTP_HOST"\ndescription = "Relay for outgoing mail"'),
        encoding="utf-8",
    )
    (project.root / "app" / "extra.py").write_text(
        'import os\nos.getenv("EXTRA")\n', encoding="utf-8"
    )

    assert project.run("env", "scan").code == 0

    again = tomllib.loads(file.read_text(encoding="utf-8"))
    entries = {v["name"]: v for v in again["variables"]}
    assert entries["SMTP_HOST"]["description"] == "Relay for outgoing mail"
    assert "EXTRA" in entries


def test_check_passes_in_sync_and_fails_on_drift_both_ways(project: Project) -> None:
    assert project.run("env", "scan").code == 0
    in_sync = project.run("env", "check")
    assert in_sync.code == 0
    assert "in sync" in in_sync.out

    (project.root / "app" / "feature.py").write_text(
        'import os\n\nFLAG = os.environ["NEW_FLAG"]\n', encoding="utf-8"
    )
    (project.root / "cmd" / "main.go").unlink()
    drift = project.run("env", "check")

    assert drift.code == 1
    assert drift.out.splitlines() == [
        "GITHUB_TOKEN is in gonogo.env.toml but nothing reads it",
        "LISTEN_ADDR is in gonogo.env.toml but nothing reads it",
        "NEW_FLAG is read at app/feature.py:3 but is not in gonogo.env.toml",
        "READ_TIMEOUT_SECONDS is in gonogo.env.toml but nothing reads it",
        "4 differences; run `gonogo env scan` to update gonogo.env.toml",
    ]
    as_json = project.run("env", "check", "--format", "json").json()
    assert as_json["schema"] == "gonogo.env-check/v1"
    assert as_json["in_sync"] is False
    assert {(d["name"], d["kind"]) for d in as_json["differences"]} == {
        ("GITHUB_TOKEN", "unread"),
        ("LISTEN_ADDR", "unread"),
        ("NEW_FLAG", "unlisted"),
        ("READ_TIMEOUT_SECONDS", "unread"),
    }


def test_check_without_an_inventory_is_a_usage_error(project: Project) -> None:
    run = project.run("env", "check")

    assert run.code == 2
    line = run.assert_one_error_line()
    assert "gonogo.env.toml does not exist; write it with `gonogo env scan`" in line


def test_scan_and_check_take_a_path_and_excludes(project: Project, tmp_path: Path) -> None:
    inventory = tmp_path / "elsewhere.toml"
    run = project.run(
        "env", "scan", str(project.root / "web"), "--inventory", str(inventory), "-x", "config.ts"
    )
    assert run.code == 0
    names = [v["name"] for v in tomllib.loads(inventory.read_text(encoding="utf-8"))["variables"]]
    assert names == ["API_BASE_URL", "FEATURE_FLAGS", "STRIPE_SECRET_KEY", "VERBOSE", "WEB_PORT"]
    assert (
        project.run(
            "env", "check", str(project.root / "web"), "-i", str(inventory), "-x", "*.ts"
        ).code
        == 0
    )


def test_scan_of_a_missing_folder_is_one_error_line(project: Project) -> None:
    run = project.run("env", "scan", str(project.root / "nope"))

    assert run.code == 2
    assert "nope is not a folder" in run.assert_one_error_line()


def test_markdown_lists_the_inventory_as_a_table(project: Project) -> None:
    run = project.run("env", "scan", "--no-write", "--format", "markdown")

    assert run.code == 0
    assert run.out.startswith("| variable | type | required | secret |")
    assert "| `DEBUG` | bool | no | no | `false` | Turns on debug pages; never in production |" in (
        run.out
    )
