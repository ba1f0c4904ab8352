"""``gonogo signoff``: owners approve a gate's evaluation; a change of evidence needs it again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    ALICE,
    QUINN,
    SAM,
    Project,
    gate,
    make_signing_key,
    require_signing,
    store_counts,
)


@pytest.fixture
def released(quality: Project) -> Project:
    """The quality project with release 1.0 and one evaluation of it."""
    assert quality.run("release", "create", "1.0").code == 0
    assert quality.run("check").code == 1
    return quality


def _sign(project: Project, role: str, user: str, *extra: str) -> int:
    return project.run("signoff", "quality", "--role", role, *extra, user=user).code


def test_a_sign_off_records_who_signed_which_evaluation(released: Project) -> None:
    _, before = released.check_json()

    result = released.run("signoff", "quality", "--role", "qa", "--note", "ok", user=QUINN)

    assert result.code == 0
    digest = gate(before, "quality")["digest"]
    assert result.err.strip() == (
        f"signed off quality for release 1.0 as qa ({QUINN}), evaluation {digest[:12]}"
    )
    _, after = released.check_json()
    (engineering, qa) = gate(after, "quality")["signoffs"]
    assert engineering["state"] == "missing"
    assert (qa["state"], qa["identity"], qa["note"]) == ("valid", QUINN, "ok")
    log = released.run("audit", "log", "--format", "json").json()["events"]
    signed = [e for e in log if e["type"] == "gate.signed"]
    assert [e["payload"]["digest"] for e in signed] == [digest]


def test_signing_the_same_evaluation_again_records_nothing_new(released: Project) -> None:
    assert released.run("signoff", "quality", "--role", "qa", "--note", "ok", user=QUINN).code == 0
    before = store_counts(released.database)

    again = released.run("signoff", "quality", "--role", "qa", "--note", "ok", user=QUINN)

    assert again.code == 0
    assert again.err.startswith(f"{QUINN} already signed off quality for release 1.0 as qa")
    assert again.err.strip().endswith("nothing recorded")
    assert store_counts(released.database) == before
    # another note is something new to say: it is recorded
    changed = released.run("signoff", "quality", "--role", "qa", "--note", "re-read", user=QUINN)
    assert changed.err.startswith("signed off quality")
    log = released.run("audit", "log", "--format", "json").json()["events"]
    notes = [e["payload"]["note"] for e in log if e["type"] == "gate.signed"]
    assert notes == ["ok", "re-read"]


def test_the_gate_is_go_once_every_owner_role_signed(released: Project) -> None:
    assert _sign(released, "engineering", ALICE) == 0
    assert released.run("check").code == 1
    assert _sign(released, "qa", QUINN) == 0

    code, report = released.check_json()

    assert code == 0
    assert gate(report, "quality")["verdict"] == "go"
    assert [s["state"] for s in gate(report, "quality")["signoffs"]] == ["valid", "valid"]


def test_different_evidence_makes_the_sign_off_stale_until_signed_again(
    released: Project,
) -> None:
    _sign(released, "engineering", ALICE)
    _sign(released, "qa", QUINN)
    released.coverage(91)

    code, report = released.check_json()

    assert code == 1
    quality = gate(report, "quality")
    assert quality["verdict"] == "no-go"
    assert [s["state"] for s in quality["signoffs"]] == ["stale", "stale"]
    assert f"qa sign-off by {QUINN} is stale: the evidence changed" in quality["reasons"]

    _sign(released, "engineering", ALICE)
    _sign(released, "qa", QUINN)

    assert released.run("check").code == 0


def test_status_shows_the_sign_offs_without_running_checks(released: Project) -> None:
    _sign(released, "engineering", ALICE)
    _sign(released, "qa", QUINN)

    report = released.run("status", "--format", "json").json()

    assert report["kind"] == "status"
    assert gate(report, "quality")["verdict"] == "go"


def test_a_signer_not_listed_for_the_role_is_refused_by_name(released: Project) -> None:
    before = store_counts(released.database)

    result = released.run("signoff", "quality", "--role", "qa", user="mallory@example.com")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "mallory@example.com is not listed as a qa owner" in line
    assert store_counts(released.database) == before


def test_a_role_that_does_not_own_the_gate_is_refused(released: Project) -> None:
    result = released.run("signoff", "quality", "--role", "security", user=SAM)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "'security' is not an owner role of gate 'quality'" in line
    assert "engineering, qa" in line


def test_signing_an_unknown_gate_is_refused(released: Project) -> None:
    result = released.run("signoff", "shipping", "--role", "qa", user=QUINN)

    assert result.code == 2
    assert "no gate named 'shipping'" in result.assert_one_error_line()


def test_signing_without_a_release_says_to_create_one(quality: Project) -> None:
    quality.run("check")

    result = quality.run("signoff", "quality", "--role", "qa", user=QUINN)

    assert result.code == 2
    assert "gonogo release create VERSION" in result.assert_one_error_line()


def test_signing_a_gate_never_evaluated_says_to_run_check(quality: Project) -> None:
    quality.run("release", "create", "1.0")

    result = quality.run("signoff", "quality", "--role", "qa", user=QUINN)

    assert result.code == 2
    assert "gonogo check --gate quality" in result.assert_one_error_line()


def test_signing_a_failing_gate_is_refused(quality: Project) -> None:
    quality.run("release", "create", "1.0")
    quality.coverage(50)
    quality.run("check")
    before = store_counts(quality.database)

    result = quality.run("signoff", "quality", "--role", "qa", user=QUINN)

    assert result.code == 2
    assert "gate quality is failing its criteria" in result.assert_one_error_line()
    assert store_counts(quality.database) == before


def test_signing_with_no_identity_says_how_to_set_one(released: Project) -> None:
    result = released.run("signoff", "quality", "--role", "qa")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "cannot tell who you are" in line
    assert "GONOGO_USER" in line
    assert "git config user.email" in line


def test_git_user_email_is_the_identity_when_gonogo_user_is_unset(released: Project) -> None:
    subprocess.run(["git", "init", "-q", str(released.root)], check=True)
    subprocess.run(["git", "-C", str(released.root), "config", "user.email", QUINN], check=True)

    assert released.run("signoff", "quality", "--role", "qa").code == 0


# -- SSH-signed sign-offs -------------------------------------------------------------------


@pytest.fixture
def alice_key(released: Project, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Alice's ed25519 key (no passphrase), listed in the project's allowed_signers."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return make_signing_key(
        released.root.parent / "keys" / "alice",
        identity=ALICE,
        allowed_signers=released.root / "allowed_signers",
    )


def test_a_sign_off_signed_with_an_ssh_key_is_verified(released: Project, alice_key: Path) -> None:
    require_signing(released.root, required=False)
    released.run("check")

    result = released.run(
        "signoff", "quality", "--role", "engineering", "--sign-key", str(alice_key), user=ALICE
    )

    assert result.code == 0
    _, report = released.check_json()
    engineering = gate(report, "quality")["signoffs"][0]
    assert (engineering["state"], engineering["cryptographic"]) == ("valid", True)


def test_a_policy_requiring_signatures_refuses_an_unsigned_sign_off(
    released: Project, alice_key: Path
) -> None:
    require_signing(released.root, required=True)
    released.run("check")
    before = store_counts(released.database)

    result = released.run("signoff", "quality", "--role", "engineering", user=ALICE)

    assert result.code == 2
    assert "requires cryptographic sign-offs" in result.assert_one_error_line()
    assert store_counts(released.database) == before


def test_a_policy_requiring_signatures_accepts_a_signed_sign_off(
    released: Project, alice_key: Path
) -> None:
    require_signing(released.root, required=True)
    released.run("check")

    assert _sign(released, "engineering", ALICE, "--sign-key", str(alice_key)) == 0
    _, report = released.check_json()
    assert gate(report, "quality")["signoffs"][0]["state"] == "valid"


def test_signing_with_a_missing_key_file_is_one_line(released: Project, alice_key: Path) -> None:
    require_signing(released.root, required=True)
    released.run("check")

    result = released.run(
        "signoff", "quality", "--role", "engineering", "--sign-key", "/nowhere/key", user=ALICE
    )

    assert result.code == 2
    assert "signing key /nowhere/key not found" in result.assert_one_error_line()


def test_signing_against_a_policy_that_cannot_run_is_refused(released: Project) -> None:
    policy = released.root / "gonogo.toml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace('check = "junit"', 'check = "junitt"', 1),
        encoding="utf-8",
    )
    before = store_counts(released.database)

    result = released.run("signoff", "quality", "--role", "qa", user=QUINN)

    assert result.code == 2
    assert "unknown check type 'junitt'" in result.assert_one_error_line()
    assert store_counts(released.database) == before


@pytest.mark.parametrize(
    ("user", "says"),
    [
        ("alice@example.com\nforged: approved by everyone", "spans several lines"),
        ("alice@example.com\u2028forged", "spans several lines"),
        ("alice\x1b[2J@example.com", "control character U+001B"),
        ("\u202emoc.elpmaxe@ecila", "control character U+202E"),
        ("alice\u200b@example.com", "control character U+200B"),
        ("a" * 255 + "@example.com", "characters long (at most 254)"),
        ("alice\udcff@example.com", "is not valid UTF-8 text"),  # an undecodable byte
    ],
    ids=["newline", "line-separator", "escape", "bidi-override", "zero-width", "long", "bytes"],
)
def test_an_identity_that_is_not_one_printable_line_is_refused_before_anything_is_recorded(
    released: Project, user: str, says: str
) -> None:
    before = store_counts(released.database)

    result = released.run("signoff", "quality", "--role", "qa", user=user)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "the identity from GONOGO_USER " in line
    assert says in line
    assert "set GONOGO_USER=you@example.com" in line
    assert store_counts(released.database) == before


def test_a_git_email_that_is_not_one_printable_line_is_refused_by_name(
    released: Project,
) -> None:
    subprocess.run(["git", "init", "-q", str(released.root)], check=True)
    subprocess.run(
        ["git", "-C", str(released.root), "config", "user.email", "quinn\a@example.com"],
        check=True,
    )
    before = store_counts(released.database)

    result = released.run("signoff", "quality", "--role", "qa")

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "the identity from git config user.email holds" in line
    assert "git config user.email you@example.com" in line
    assert store_counts(released.database) == before


def test_an_identity_of_printable_unicode_is_recorded_as_given(quality: Project) -> None:
    who = "Zoë Ünal <zoë@exämple.com>"

    assert quality.run("release", "create", "1.0", user=f"  {who}  ").code == 0

    listed = quality.run("release", "list")
    assert listed.out.rstrip("\n").endswith(f"\t{who}")
