"""Bad input gets a clear warning or one-line error, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.secrets.helpers import commit_all, fresh, init_repo, scan


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    return root


def _notices(run_json: dict[str, object]) -> dict[str, str]:
    notices = run_json["notices"]
    assert isinstance(notices, list)
    return {n["path"]: n["kind"] for n in notices}


def test_binary_and_oversized_files_are_skipped_with_a_notice(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = fresh(31)["github-pat"].line
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + secret.encode())
    (folder / "huge.log").write_bytes((secret + "\n").encode() + b"x" * (11 * 1024 * 1024))

    run = scan(capsys, str(folder))
    data = scan(capsys, str(folder), "--format", "json").json()

    assert run.code == 0
    assert "skipped: 1 binary, 1 too large" in run.out
    assert _notices(data) == {"image.png": "binary", "huge.log": "too_large"}
    assert "Traceback" not in run.out + run.err


def test_a_minified_one_line_file_is_scanned_with_columns(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(32)
    blob = "var a=1;" * 2000 + f'var k="{c["stripe-secret-key"].secret}";' + "var b=2;" * 500
    (folder / "app.min.js").write_text(blob, encoding="utf-8")

    data = scan(capsys, str(folder), "--format", "json").json()

    (finding,) = data["findings"]
    assert (finding["line"], finding["column"]) == (1, 16008)
    assert _notices(data) == {"app.min.js": "minified"}


def test_invalid_utf8_is_scanned_as_bytes_with_a_notice(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = fresh(33)
    (folder / "latin1.cfg").write_bytes(
        "caf\xe9 = 1\n".encode("latin-1") + c["aws-access-key-id"].line.encode() + b"\n"
    )

    run = scan(capsys, str(folder), "--format", "json")

    assert run.code == 1
    assert [f["line"] for f in run.json()["findings"]] == [2]
    assert _notices(run.json()) == {"latin1.cfg": "invalid_utf8"}


def test_symlink_loops_are_a_warning_and_the_scan_goes_on(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "a").symlink_to(folder / "b")
    (folder / "b").symlink_to(folder / "a")
    (folder / "self").symlink_to(folder / "self")
    (folder / "up").symlink_to(folder)
    (folder / "ok.py").write_text(fresh(34)["gcp-api-key"].line + "\n", encoding="utf-8")

    run = scan(capsys, str(folder))

    assert run.code == 1
    assert "warning: a: symlink loop; skipped" in run.out
    assert "warning: self: symlink loop; skipped" in run.out
    assert "ok.py:1" in run.out
    assert "Traceback" not in run.out + run.err


def test_an_unreadable_file_is_a_warning_and_the_scan_goes_on(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:  # root reads anything; /proc/self/mem fails to read at offset 0
        (folder / "locked.txt").symlink_to("/proc/self/mem")
    else:
        (folder / "locked.txt").write_text("secret", encoding="utf-8")
        (folder / "locked.txt").chmod(0)
    (folder / "ok.py").write_text("print(1)\n", encoding="utf-8")

    run = scan(capsys, str(folder))

    assert run.code == 0
    assert "warning: locked.txt: cannot read: " in run.out
    assert run.out.strip().endswith("no secrets found in 2 files (0.0 kB)")


def test_an_invalid_rule_regex_is_one_line_naming_the_rule(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[rules]]\nid = 'fine'\nregex = 'abc'\n\n"
        "[[rules]]\nid = 'broken-rule'\nregex = '''(unclosed[a-z'''\n",
        encoding="utf-8",
    )

    run = scan(capsys, str(folder), "--rules", str(rules))

    assert run.code == 2
    line = run.assert_one_error_line()
    assert "rule 'broken-rule'" in line
    assert "invalid regex" in line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rules]\nid = 1", "is not valid TOML"),
        ("[[rules]]\ndescription = 'no id'\nregex = 'a'", "rules[0] has no id"),
        ("[[rules]]\nid = 'r'\ndescription = 'nothing to match'", "neither regex nor path"),
        ("[[rules]]\nid = 'r'\nregex = 'a'\nsecretGroup = 2", "secretGroup 2"),
        ("[[rules]]\nid = 'r'\nregex = 'a'\nvalidate = 'luhn'", "unknown validate"),
        ("[[rules]]\nid = 'r'\nregex = 'a'\n[[rules]]\nid = 'r'\nregex = 'b'", "defined twice"),
        (
            "[[rules]]\nid = 'r'\nregex = 'a'\n[[rules.allowlists]]\nregexTarget = 'file'",
            "regexTarget must be",
        ),
    ],
)
def test_malformed_rule_files_are_one_line(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(text, encoding="utf-8")

    run = scan(capsys, str(folder), "--rules", str(rules))

    assert run.code == 2
    assert message in run.assert_one_error_line()


def test_a_missing_rules_file_is_one_line(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = scan(capsys, str(folder), "--rules", str(tmp_path / "nope.toml"))

    assert run.code == 2
    assert "does not exist" in run.assert_one_error_line()


def test_file_names_that_are_not_utf8_or_hold_escapes_are_reported_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = init_repo(tmp_path / "repo")
    line = fresh(35)["slack-bot-token"].line + "\n"
    (root / os.fsdecode(b"caf\xe9.cfg")).write_text(line, encoding="utf-8")
    (root / "red\x1b[31m.cfg").write_text(line, encoding="utf-8")
    commit_all(root, "add")

    for fmt in ("text", "json", "sarif", "markdown", "html"):
        run = scan(capsys, str(root), "--format", fmt)
        assert run.code == 1, run.err
        assert "caf\\xe9.cfg" in run.out.replace("\\\\", "\\")
        assert "\x1b" not in run.out + run.err

    tree = scan(capsys, str(root), "--format", "json").json()["findings"]
    history = scan(capsys, str(root), "--history", "--format", "json").json()["findings"]
    assert sorted(f["path"] for f in tree) == ["caf\\xe9.cfg", "red\\x1b[31m.cfg"]
    # the tree's and the history's findings are the same secrets, one each
    assert {f["fingerprint"] for f in history} == {f["fingerprint"] for f in tree}
    assert all(f["commit"] for f in history)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "defines no rules; add [[rules]] tables, or [extend] useDefault = true"),
        ("title = 'typo'\n[[rule]]\nid = 'x'\nregex = 'a'", "defines no rules"),
        ("[extend]\ndisabledRules = ['x']", "defines no rules"),
        ("[extend]\nuseDefault = 'false'", "extend.useDefault must be true or false"),
        ("[extend]\npath = 5", "extend.path must be a string"),
        ("extend = 5", "extend must be a table"),
        ("rules = 5", "rules must be an array of tables ([[rules]]); fix the rules file"),
    ],
)
def test_a_rules_file_that_would_scan_with_no_rule_is_refused(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (folder / "app.py").write_text(fresh(36)["slack-bot-token"].line + "\n", encoding="utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text(text, encoding="utf-8")

    run = scan(capsys, str(folder), "--rules", str(rules))

    assert run.code == 2
    assert message in run.assert_one_error_line()


def test_a_rules_file_that_is_not_utf8_says_so(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes(b"[[rules]]\nid = 'caf\xe9'\nregex = 'a'\n")

    run = scan(capsys, str(folder), "--rules", str(rules))

    assert run.code == 2
    assert run.assert_one_error_line() == (
        f"gonogo: error: cannot read rules file {rules}: it is not UTF-8 text; save it as UTF-8"
    )
