"""A team's own rules in gitleaks' TOML format: allowlists, regexTarget, paths, extend."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gonogo.secrets.rules import go_to_python, parse_rules
from tests.secrets.helpers import commit_all, fresh, init_repo, scan

RULES = """
title = "acme rules"

[allowlist]
description = "vendored code is not ours"
paths = ['^vendor/']

[[rules]]
id = "acme-key"
description = "ACME internal API key"
regex = \'\'\'\\b(acme_(?:live|test)_[0-9a-z]{24})\\b\'\'\'
keywords = ["acme_"]
entropy = 3.0

[[rules.allowlists]]
description = "sandbox keys are published on purpose"
stopwords = ["sandbox"]

[[rules.allowlists]]
description = "test keys are fine in the tests folder"
condition = "AND"
paths = ['^tests/']
regexTarget = "match"
regexes = ['^acme_test_']

[[rules.allowlists]]
description = "a reviewer marked the line"
regexTarget = "line"
regexes = ['#\\s*acme:allow']

[[rules]]
id = "acme-config-password"
description = "password in an ACME .cfg file"
path = \'\'\'\\.cfg$\'\'\'
regex = \'\'\'(?i)pass(?i)word\\s*=\\s*(\\S{8,})\'\'\'
secretGroup = 1

[[rules]]
id = "keystore-file"
description = "a PKCS#12 keystore"
path = \'\'\'\\.p12$\'\'\'
"""


def key(rnd_part: str, kind: str = "live") -> str:
    return f"acme_{kind}_{rnd_part}"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


def _found(run_json: dict[str, object]) -> list[tuple[str, str]]:
    findings = run_json["findings"]
    assert isinstance(findings, list)
    return sorted((f["path"], f["rule_id"]) for f in findings)


def test_allowlists_stopwords_match_and_line_targets_and_paths(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "proj"
    for folder in ("src", "tests", "vendor"):
        (root / folder).mkdir(parents=True)
    live, test_key = key("k3j5h2g7f9d1s4a6p8o0i2u4"), key("q1w2e3r4t5y6u7i8o9p0a1s2", "test")
    (root / "src" / "a.py").write_text(
        f"LIVE = '{live}'\nTEST = '{test_key}'\n"
        f"SANDBOX = '{key('sandbox0a1b2c3d4e5f6g7h8')}'\n"
        f"OK = '{key('z9y8x7w6v5u4t3s2r1q0p9o8')}'  # acme:allow\n",
        encoding="utf-8",
    )
    (root / "tests" / "t.py").write_text(f"A = '{test_key}'\nB = '{live}'\n", "utf-8")
    (root / "vendor" / "v.py").write_text(f"V = '{live}'\n", encoding="utf-8")

    run = scan(capsys, str(root), "--rules", str(rules), "--format", "json")

    assert run.code == 1
    lines = sorted((f["path"], f["line"]) for f in run.json()["findings"])
    assert lines == [("src/a.py", 1), ("src/a.py", 2), ("tests/t.py", 2)]


def test_path_rules_apply_only_where_their_path_matches(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "service.cfg").write_text("PassWord = Xk29!fjQ0z\n", encoding="utf-8")
    (root / "service.ini").write_text("PassWord = Xk29!fjQ0z\n", encoding="utf-8")
    (root / "client.p12").write_bytes(b"0\x82\x05\x00\x02\x01\x03\0\0binary")

    run = scan(capsys, str(root), "--rules", str(rules), "--format", "json")

    assert _found(run.json()) == [
        ("client.p12", "keystore-file"),
        ("service.cfg", "acme-config-password"),
    ]


def test_custom_rules_replace_the_built_ins_unless_extended(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    c = fresh(41)
    (root / "a.py").write_text(
        f"{c['github-pat'].line}\n{c['slack-bot-token'].line}\n"
        f"K = '{key('k3j5h2g7f9d1s4a6p8o0i2u4')}'\n",
        encoding="utf-8",
    )
    extended = tmp_path / "extended.toml"
    extended.write_text(
        '[extend]\nuseDefault = true\ndisabledRules = ["slack-bot-token"]\n'
        + RULES.split('title = "acme rules"', 1)[1],
        encoding="utf-8",
    )

    alone = scan(capsys, str(root), "--rules", str(rules), "--format", "json")
    both = scan(capsys, str(root), "--rules", str(extended), "--format", "json")

    assert _found(alone.json()) == [("a.py", "acme-key")]
    assert _found(both.json()) == [("a.py", "acme-key"), ("a.py", "github-pat")]


def test_a_commit_allowlist_lets_a_reviewed_commit_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "a.py").write_text(f"K = '{key('k3j5h2g7f9d1s4a6p8o0i2u4')}'\n", encoding="utf-8")
    reviewed = commit_all(repo, "reviewed")
    (repo / "a.py").unlink()
    commit_all(repo, "gone")
    rules = tmp_path / "r.toml"
    body = RULES.split('title = "acme rules"', 1)[1]
    rules.write_text(body, encoding="utf-8")
    allowed = tmp_path / "allowed.toml"
    allowed.write_text(body + f'\n[[allowlists]]\ncommits = ["{reviewed}"]\n', "utf-8")

    before = scan(capsys, str(repo), "--history", "--rules", str(rules))
    after = scan(capsys, str(repo), "--history", "--rules", str(allowed))

    assert before.code == 1
    assert after.code == 0


def test_global_allowlists_can_target_some_rules() -> None:
    text = textwrap.dedent(
        """
        [[rules]]
        id = "a"
        regex = 'tok_[0-9]{6}'
        [[rules]]
        id = "b"
        regex = 'key_[0-9]{6}'
        [[allowlists]]
        targetRules = ["a"]
        regexes = ['^tok_000']
        """
    )
    from gonogo.secrets.detect import Detector

    detector = Detector(parse_rules(text, source="inline"))
    hits = detector.scan(b"tok_000123 tok_123456 key_000123", "x.txt")

    assert [h.rule_id for h in hits] == ["a", "b"]


@pytest.mark.parametrize(
    ("go", "python"),
    [
        ("(?i)abc", "(?i)abc"),
        ("a(?i)b|c", "a(?i:b)|(?i:c)"),
        ("x((?i)ab|cd)y", "x((?i:ab)|(?i:cd))y"),
        ("[[:alnum:]_]+\\z", "[0-9A-Za-z_]+\\Z"),
        ("(?<name>a)", "(?P<name>a)"),
        ("[]a]", "[\\]a]"),
    ],
)
def test_go_regex_syntax_is_translated(go: str, python: str) -> None:
    assert go_to_python(go) == python
