"""``gonogo policy validate|explain|schema|approve`` and the approvals ``status`` reports."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    ALICE,
    QUINN,
    SAM,
    Project,
    make_signing_key,
    require_signing,
    store_counts,
)

OWNERS = {"engineering": ALICE, "qa": QUINN, "security": SAM}


def _approvals(project: Project) -> dict[str, str]:
    report = project.run("status", "--format", "json").json()
    return {a["role"]: a["state"] for a in report["approvals"]}


def test_policy_approve_by_every_owner_role_shows_in_status(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    assert _approvals(quality) == dict.fromkeys(OWNERS, "missing")

    for role, user in OWNERS.items():
        result = quality.run("policy", "approve", "--role", role, user=user)
        assert result.code == 0
        assert "approved the policy " in result.err
        assert f"as {role} ({user})" in result.err

    report = quality.run("status", "--format", "json").json()
    assert [(a["role"], a["state"], a["identity"]) for a in report["approvals"]] == [
        ("engineering", "valid", ALICE),
        ("qa", "valid", QUINN),
        ("security", "valid", SAM),
    ]


def test_approving_the_same_policy_again_records_nothing_new(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    assert quality.run("policy", "approve", "--role", "qa", user=QUINN).code == 0

    again = quality.run("policy", "approve", "--role", "qa", user=QUINN)

    assert again.code == 0
    assert again.err.startswith(f"{QUINN} already approved the policy ")
    log = quality.run("audit", "log", "--format", "json").json()["events"]
    assert [e["payload"]["role"] for e in log if e["type"] == "policy.signed"] == ["qa"]


def test_changing_the_policy_makes_its_approvals_stale(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    for role, user in OWNERS.items():
        quality.run("policy", "approve", "--role", role, user=user)
    text = (quality.root / "gonogo.toml").read_text(encoding="utf-8")

    quality.policy(text.replace('title = "Quality"', 'title = "Quality and tests"'))

    assert _approvals(quality) == dict.fromkeys(OWNERS, "stale")


def test_reformatting_the_policy_keeps_its_approvals(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    quality.run("policy", "approve", "--role", "qa", user=QUINN)
    text = (quality.root / "gonogo.toml").read_text(encoding="utf-8")

    quality.policy("# a comment changes nothing\n" + text.replace(" = ", "   =   "))

    assert _approvals(quality)["qa"] == "valid"


def test_approvals_appear_in_the_markdown_status(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    quality.run("policy", "approve", "--role", "qa", user=QUINN)

    text = quality.run("status", "--format", "markdown").out

    assert "## Policy approval (Phase-1 exit)" in text
    assert f"- [x] qa — {QUINN}" in text
    assert "- [ ] security — missing" in text


def test_approving_for_a_role_you_do_not_hold_is_refused(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    before = store_counts(quality.database)

    result = quality.run("policy", "approve", "--role", "qa", user=ALICE)

    assert result.code == 2
    assert f"{ALICE} is not listed as a qa owner" in result.assert_one_error_line()
    assert store_counts(quality.database) == before


def test_approving_without_a_release_says_to_create_one(quality: Project) -> None:
    result = quality.run("policy", "approve", "--role", "qa", user=QUINN)

    assert result.code == 2
    assert "gonogo release create VERSION" in result.assert_one_error_line()


def test_policy_validate_summarises_a_valid_policy(quality: Project) -> None:
    result = quality.run("policy", "validate")

    assert result.code == 0
    assert result.out.strip().endswith("valid: 1 gates, 2 criteria, 3 owner roles, 0 waivers")


def test_policy_validate_reports_an_unknown_check_type_with_its_line(quality: Project) -> None:
    text = (quality.root / "gonogo.toml").read_text(encoding="utf-8")
    quality.policy(text.replace('check = "junit"', 'check = "junitt"'))

    result = quality.run("policy", "validate")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "gonogo.toml:" in line
    assert "gates[0].criteria[0].check: unknown check type 'junitt'" in line


ROLLOUT_PLAN = """
[rollout]
[[rollout.steps]]
weight = 20
[rollout.deployer]
type = "local"
command = ["serve", "--version", "{version}", "--port", "{port}"]
[rollout.router]
type = "builtin"
listen = "127.0.0.1:18080"
[rollout.source]
type = "builtin"
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('type = "builtin"\nlisten', 'type = "haproxy"\nlisten'), "rollout.router: unknown type"),
        (("{port}", "{prot}"), "unknown placeholder {prot} in `command`"),
        (('"127.0.0.1:18080"', '"nowhere"'), "rollout.router.listen: listen address 'nowhere'"),
    ],
)
def test_policy_validate_checks_the_rollout_components_as_rollout_start_would(
    quality: Project, change: tuple[str, str], expected: str
) -> None:
    text = (quality.root / "gonogo.toml").read_text(encoding="utf-8")
    quality.policy(text + ROLLOUT_PLAN)
    assert quality.run("policy", "validate").code == 0
    quality.policy(text + ROLLOUT_PLAN.replace(*change))

    result = quality.run("policy", "validate")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert line.startswith("gonogo: error: ") and "gonogo.toml: " in line
    assert expected in line


def test_policy_explain_prints_the_checklist(quality: Project) -> None:
    result = quality.run("policy", "explain")

    assert result.code == 0
    assert "Signed off by: engineering, qa." in result.out
    assert "`quality.coverage`" in result.out


def test_policy_schema_prints_a_json_schema(project: Project) -> None:
    result = project.run("policy", "schema")

    assert result.code == 0
    assert json.loads(result.out)["$id"] == "gonogo.policy/v1"


def test_a_policy_requiring_signatures_takes_a_signed_approval(
    quality: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    key = make_signing_key(
        quality.root.parent / "keys" / "quinn",
        identity=QUINN,
        allowed_signers=quality.root / "allowed_signers",
    )
    require_signing(quality.root, required=True)
    quality.run("release", "create", "1.0")

    unsigned = quality.run("policy", "approve", "--role", "qa", user=QUINN)
    signed = quality.run("policy", "approve", "--role", "qa", "--sign-key", str(key), user=QUINN)

    assert unsigned.code == 2
    assert "requires cryptographic sign-offs" in unsigned.assert_one_error_line()
    assert signed.code == 0
    report = quality.run("status", "--format", "json").json()
    qa = next(a for a in report["approvals"] if a["role"] == "qa")
    assert (qa["state"], qa["cryptographic"]) == ("valid", True)


def test_policy_explain_escapes_the_policy_text_it_quotes(quality: Project) -> None:
    text = (quality.root / "gonogo.toml").read_text(encoding="utf-8")
    text = text.replace('name = "demo"', 'name = "demo <b>bold</b>\\u001b[2J"')
    text = text.replace('title = "Quality"', 'title = "Quality | [link](http://x)\\nsecond"')
    text = text.replace('title = "Tests pass"', 'title = "Tests *pass* `now`\\u0007"')
    text = text.replace('path = "reports/junit.xml"', 'path = "reports/junit`x`.xml"')
    quality.policy(text)

    result = quality.run("policy", "explain")

    assert result.code == 0
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
    lines = result.out.splitlines()
    assert lines[0] == "# Release readiness policy: demo \\<b\\>bold\\</b\\>\u241b\\[2J"
    assert "## Phase 4 (CI gates): Quality \\| \\[link\\](http://x) second (`quality`)" in lines
    tests = next(line for line in lines if "`quality.tests`" in line)
    assert tests.startswith(
        "- [ ] **Tests \\*pass\\* \\`now\\`\u2407** (`quality.tests`): `junit` "
    )
    assert "`path='reports/junit'x'.xml'`" in tests
