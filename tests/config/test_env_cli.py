"""``gonogo env scan`` and ``gonogo env check`` through the real CLI."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from gonogo.config.build import drift as drift_of
from gonogo.config.inventory import FILENAME, load_inventory
from gonogo.config.report import check_verdict
from gonogo.config.scan import scan_tree
from tests.config.conftest import FIXTURE
from tests.config.helpers import html_page, html_rows, html_text
from tests.helpers import Project

#: secrets given literal values in code and config files; no report may ever show them
BILLING_DEFAULT = "sk-default-Billing-Secret-9"
BILLING_EXAMPLE = "sk-example-Billing-Secret-8"
STRIPE_LITERAL = "sk_live_Literal-Stripe-77"
SECRET_VALUES = (BILLING_DEFAULT, BILLING_EXAMPLE, STRIPE_LITERAL)


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


def test_markdown_keeps_odd_text_inside_its_cells(project: Project) -> None:
    (project.root / "app" / "odd.py").write_text(
        'import os\n\nSEP = os.getenv("ODD_SEP", "a|b`c")\n', encoding="utf-8"
    )
    assert project.run("env", "scan").code == 0
    file = project.root / "gonogo.env.toml"
    text = file.read_text(encoding="utf-8")
    marker = 'name = "ODD_SEP"\ndescription = ""'
    file.write_text(
        text.replace(marker, 'name = "ODD_SEP"\ndescription = "one | two <b>bold</b>"'),
        encoding="utf-8",
    )

    run = project.run("env", "scan", "--no-write", "--format", "markdown")

    row = next(line for line in run.out.splitlines() if line.startswith("| `ODD_SEP`"))
    assert row == "| `ODD_SEP` | str | no | no | `a\\|b'c` | one \\| two \\<b\\>bold\\</b\\> |  |"


def _add_secret_values(project: Project) -> None:
    """A secret read with a default, and secrets given literal values in .env.example."""
    (project.root / "app" / "billing.py").write_text(
        f'import os\n\nKEY = os.getenv("BILLING_API_KEY", "{BILLING_DEFAULT}")\n',
        encoding="utf-8",
    )
    with (project.root / ".env.example").open("a", encoding="utf-8") as example:
        example.write(f"BILLING_API_KEY={BILLING_EXAMPLE}\nSTRIPE_SECRET_KEY={STRIPE_LITERAL}\n")


def _add_drift(project: Project) -> None:
    """A variable the inventory lacks, and three it lists that nothing reads any more."""
    (project.root / "app" / "feature.py").write_text(
        'import os\n\nFLAG = os.environ["NEW_FLAG"]\n', encoding="utf-8"
    )
    (project.root / "cmd" / "main.go").unlink()


def test_scan_html_shows_each_variable_with_where_it_is_read_and_defined(
    project: Project,
) -> None:
    run = project.run("env", "scan", "--no-write", "--format", "html")

    assert run.code == 0, run.err
    page = html_page(run.out)
    assert html_text(page.find("head/title")) == "Environment variables"
    assert html_text(page.find("body/p")) == "42 variables: 9 required, 10 secret."
    rows = html_rows(run.out)
    assert rows["DEBUG"] == [
        "DEBUG",
        "bool",
        "no",
        "no",
        "false",
        "Turns on debug pages; never in production",
        "compose, example, production",
        "app/settings.py:7",
        ".env.example:4, .github/workflows/deploy.yml:16, docker-compose.yml:6",
    ]
    assert rows["DATABASE_URL"][:5] == ["DATABASE_URL", "url", "yes", "yes", ""]
    assert rows["DATABASE_URL"][7] == "app/django_settings.py:9, app/settings.py:6"
    headings = [html_text(h) for h in page.iter("h2")]
    assert headings == ["Variables", "Defined but not read"]
    assert rows["PYTHONUNBUFFERED"] == ["PYTHONUNBUFFERED", "Dockerfile:5"]


def test_scan_and_check_never_show_a_secret_value_in_markdown_or_html(project: Project) -> None:
    _add_secret_values(project)
    assert project.run("env", "scan").code == 0

    runs = {
        fmt: (
            project.run("env", "scan", "--no-write", "--format", fmt),
            project.run("env", "check", "--format", fmt),
        )
        for fmt in ("markdown", "html")
    }

    billing = html_rows(runs["html"][0].out)["BILLING_API_KEY"]
    assert billing[:5] == ["BILLING_API_KEY", "str", "no", "yes", ""]
    assert billing[8] == ".env.example:7"
    assert "| `BILLING_API_KEY` | str | no | yes |  |" in runs["markdown"][0].out
    for scan, check in runs.values():
        assert (scan.code, check.code) == (0, 0)
        for text in (scan.out, scan.err, check.out, check.err):
            for value in SECRET_VALUES:
                assert value not in text


def test_the_code_default_of_a_variable_marked_secret_by_hand_is_never_shown(
    project: Project,
) -> None:
    (project.root / "app" / "licence.py").write_text(
        'import os\n\nCODE = os.getenv("LICENCE_CODE", "abc-123-licence")\n', encoding="utf-8"
    )
    assert project.run("env", "scan").code == 0
    file = project.root / "gonogo.env.toml"
    text = file.read_text(encoding="utf-8")
    marker = (
        'name = "LICENCE_CODE"\ndescription = ""\ntype = "str"\nrequired = false\nsecret = false'
    )
    assert marker in text
    assert 'default = "abc-123-licence"' in text  # not secret yet: the default is written
    secret = marker.replace("secret = false", "secret = true")
    file.write_text(text.replace(marker, secret), encoding="utf-8")

    for fmt in ("text", "json", "markdown", "html"):
        run = project.run("env", "scan", "--no-write", "--format", fmt)
        assert run.code == 0
        assert "abc-123-licence" not in run.out + run.err, fmt
    html = project.run("env", "scan", "--no-write", "--format", "html")
    assert html_rows(html.out)["LICENCE_CODE"][3] == "yes"  # still secret
    # a re-scan that writes keeps the mark and drops the default from the inventory
    assert project.run("env", "scan").code == 0
    again = file.read_text(encoding="utf-8")
    assert secret in again
    assert "abc-123-licence" not in again


def test_check_markdown_shows_the_verdict_and_each_difference(project: Project) -> None:
    assert project.run("env", "scan").code == 0
    in_sync = project.run("env", "check", "--format", "markdown")
    assert in_sync.code == 0
    assert in_sync.out.startswith(
        "# Inventory check: gonogo.env.toml\n\n"
        "✅ **in sync**: the code reads exactly the 42 variables gonogo.env.toml lists\n"
    )

    _add_drift(project)
    run = project.run("env", "check", "--format", "markdown")

    assert run.code == 1
    assert "❌ **drift**: 4 differences; run \\`gonogo env scan\\` to update" in run.out
    assert "| differences | 4 |" in run.out
    assert (
        "| NEW\\_FLAG | unlisted | NEW\\_FLAG is read at app/feature.py:3 but is not in "
        "gonogo.env.toml | app/feature.py:3 |"
    ) in run.out


def test_check_html_shows_the_verdict_and_each_difference(project: Project, tmp_path: Path) -> None:
    assert project.run("env", "scan").code == 0
    _add_drift(project)
    report = tmp_path / "check.html"

    run = project.run("env", "check", "--format", "html", "--output", str(report))

    assert run.code == 1
    assert run.out == ""
    page = report.read_text(encoding="utf-8")
    badge = html_page(page).find("body/h1/span")
    assert (html_text(badge), badge.get("class") if badge is not None else None) == (
        "drift",
        "badge bad",
    )
    rows = html_rows(page)
    assert rows["differences"] == ["differences", "4"]
    assert rows["LISTEN_ADDR"] == [
        "LISTEN_ADDR",
        "unread",
        "LISTEN_ADDR is in gonogo.env.toml but nothing reads it",
        "cmd/main.go:10",
    ]
    assert rows["NEW_FLAG"][1:] == [
        "unlisted",
        "NEW_FLAG is read at app/feature.py:3 but is not in gonogo.env.toml",
        "app/feature.py:3",
    ]


def test_check_words_its_verdict_once_for_the_text_and_the_document(project: Project) -> None:
    assert project.run("env", "scan").code == 0
    listed = load_inventory(project.root / FILENAME)

    in_sync = check_verdict(listed, [], FILENAME)
    _add_drift(project)
    drift = check_verdict(listed, drift_of(listed, scan_tree(project.root)), FILENAME)

    assert in_sync == (
        "in sync: the code reads exactly the 42 variables gonogo.env.toml lists",
        "the code reads exactly the 42 variables gonogo.env.toml lists",
    )
    assert (
        drift.line
        == drift.summary
        == ("4 differences; run `gonogo env scan` to update gonogo.env.toml")
    )
    text = project.run("env", "check").out.splitlines()
    page = project.run("env", "check", "--format", "markdown").out
    assert text[-1] == drift.line
    assert f"**drift**: {drift.summary.replace('`', chr(92) + '`')}\n" in page
