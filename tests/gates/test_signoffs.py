"""Sign-offs in the core: who may sign, what a sign-off binds to, when it stops holding."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.errors import SignoffError
from gonogo.gates import signoffs
from gonogo.gates.results import SignoffState
from gonogo.policy.load import load_policy
from gonogo.scope import releases
from gonogo.scope.releases import Release
from tests.helpers import (
    ALICE,
    BASIC_POLICY,
    QUINN,
    make_signing_key,
    open_workspace,
    require_signing,
    store_counts,
    write_policy,
)

DIGEST = "ab" * 32
OTHER_DIGEST = "cd" * 32


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_policy(tmp_path, BASIC_POLICY)
    with open_workspace(tmp_path) as ws:
        releases.create(ws, "1.0")
    return tmp_path


def _release(root: Path) -> Release:
    with open_workspace(root) as ws, ws.store.read() as conn:
        return releases.get(conn, "1.0")


def _sign(
    root: Path,
    *,
    actor: str = ALICE,
    role: str = "engineering",
    digest: str = DIGEST,
    key: Path | None = None,
) -> signoffs.StoredSignoff:
    with open_workspace(root, actor=actor) as ws:
        return signoffs.record(
            ws,
            release=_release(root),
            kind=signoffs.GATE,
            subject="quality",
            role=role,
            digest=digest,
            note="looks good",
            sign_key=key,
        )


def _states(root: Path, *, digest: str = DIGEST) -> dict[str, SignoffState]:
    release = _release(root)
    with open_workspace(root) as ws:
        with ws.store.read() as conn:
            latest = signoffs.latest_by_role(conn, release, signoffs.GATE, "quality")
        found = signoffs.states(
            ws.require_policy(), ("engineering", "qa"), latest, digest=digest, release=release
        )
    return {s.role: s.state for s in found}


# -- who may sign ---------------------------------------------------------------------------


def test_an_owner_listed_for_the_role_may_sign(project: Path) -> None:
    policy = load_policy(project / "gonogo.toml").policy

    signoffs.check_signer(policy, ALICE, "engineering")  # no error


def test_someone_not_listed_for_the_role_is_refused_by_name(project: Path) -> None:
    policy = load_policy(project / "gonogo.toml").policy

    with pytest.raises(SignoffError) as refused:
        signoffs.check_signer(policy, "mallory@example.com", "engineering")

    message = str(refused.value)
    assert "mallory@example.com is not listed as an engineering owner" in message
    assert ALICE in message
    assert "\n" not in message


def test_an_owner_of_another_role_cannot_sign_for_this_one(project: Path) -> None:
    policy = load_policy(project / "gonogo.toml").policy

    with pytest.raises(SignoffError, match="not listed as a qa owner"):
        signoffs.check_signer(policy, ALICE, "qa")


def test_a_role_the_policy_does_not_have_is_refused(project: Path) -> None:
    policy = load_policy(project / "gonogo.toml").policy

    with pytest.raises(SignoffError, match="no owner role 'release-manager'"):
        signoffs.check_signer(policy, ALICE, "release-manager")


# -- what a sign-off binds to ---------------------------------------------------------------


def test_a_sign_off_records_who_signed_which_digest(project: Path) -> None:
    stored = _sign(project)

    assert (stored.identity, stored.role, stored.digest) == (ALICE, "engineering", DIGEST)
    assert stored.signature is None
    assert store_counts(project / ".gonogo/state.db")["signoffs"] == 1


def test_a_sign_off_is_valid_for_the_evaluation_it_approved(project: Path) -> None:
    _sign(project)

    assert _states(project) == {"engineering": SignoffState.VALID, "qa": SignoffState.MISSING}


def test_a_sign_off_is_stale_once_the_evaluation_changes(project: Path) -> None:
    _sign(project)

    assert _states(project, digest=OTHER_DIGEST)["engineering"] is SignoffState.STALE


def test_the_newest_sign_off_of_a_role_counts(project: Path) -> None:
    _sign(project, digest=DIGEST)
    _sign(project, digest=OTHER_DIGEST)

    assert _states(project, digest=OTHER_DIGEST)["engineering"] is SignoffState.VALID


def test_a_sign_off_by_someone_since_removed_from_the_role_is_invalid(project: Path) -> None:
    _sign(project, actor=QUINN, role="qa")
    text = (project / "gonogo.toml").read_text(encoding="utf-8")
    write_policy(
        project, text.replace('qa = ["quinn@example.com"]', 'qa = ["quentin@example.com"]')
    )

    assert _states(project)["qa"] is SignoffState.INVALID


def test_without_a_release_every_role_is_missing(project: Path) -> None:
    with open_workspace(project) as ws:
        found = signoffs.states(
            ws.require_policy(), ("engineering",), {}, digest=DIGEST, release=None
        )

    assert [s.state for s in found] == [SignoffState.MISSING]


# -- cryptographic sign-offs ----------------------------------------------------------------


@pytest.fixture
def alice_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Alice's ed25519 key, listed in the project's allowed_signers file."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return make_signing_key(
        project / "_keys" / "alice", identity=ALICE, allowed_signers=project / "allowed_signers"
    )


def test_a_sign_off_signed_with_a_listed_key_is_valid(project: Path, alice_key: Path) -> None:
    require_signing(project, required=True)

    stored = _sign(project, key=alice_key)

    assert stored.signature is not None
    assert stored.signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert _states(project)["engineering"] is SignoffState.VALID


def test_a_sign_off_signed_with_an_unlisted_key_is_invalid(project: Path, alice_key: Path) -> None:
    require_signing(project, required=False)
    stranger = make_signing_key(
        project / "_keys" / "stranger", identity=ALICE, allowed_signers=project / "elsewhere"
    )

    _sign(project, key=stranger)

    assert _states(project)["engineering"] is SignoffState.INVALID


def test_a_policy_that_requires_signatures_refuses_an_unsigned_sign_off(project: Path) -> None:
    require_signing(project, required=True)
    before = store_counts(project / ".gonogo/state.db")

    with pytest.raises(SignoffError, match="requires cryptographic sign-offs"):
        _sign(project)

    assert store_counts(project / ".gonogo/state.db") == before
