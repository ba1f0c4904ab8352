"""Sign-offs signed and verified with the real ``ssh-keygen -Y``."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from gonogo.errors import SignoffError
from gonogo.gates.signing import find_principals, sign, signoff_payload, verify

# ssh-keygen comes from Debian's openssh-client, which scripts/test.sh installs: no skip here.

ALICE = "alice@example.com"
BOB = "bob@example.com"
NAMESPACE = "gonogo-signoff"

PAYLOAD_FIELDS = {
    "release": "v1.4.0",
    "gate": "production",
    "role": "qa-lead",
    "identity": ALICE,
    "evaluation_digest": "ab" * 32,
}


@dataclass(frozen=True)
class Keys:
    """Alice's and Bob's keys, and an allowed_signers file that lists only Alice."""

    alice: Path
    bob: Path
    allowed_signers: Path


def _keygen(path: Path, *, passphrase: str = "") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", path.name, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def _public_key(private: Path) -> str:
    algorithm, blob, *_ = private.with_suffix(".pub").read_text().split()
    return f"{algorithm} {blob}"


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing uses only key files here, never the developer's ssh-agent."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    alice = _keygen(tmp_path / "alice")
    bob = _keygen(tmp_path / "bob")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'{ALICE} namespaces="{NAMESPACE}" {_public_key(alice)}\n')
    return Keys(alice=alice, bob=bob, allowed_signers=allowed)


@pytest.fixture
def payload() -> bytes:
    return signoff_payload(**PAYLOAD_FIELDS)


def _assert_one_line(error: pytest.ExceptionInfo[SignoffError]) -> None:
    assert "\n" not in str(error.value)
    assert str(error.value).strip()


def test_signature_by_alice_verifies_for_alice(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.alice)

    assert signature.startswith("-----BEGIN SSH SIGNATURE-----")
    good = verify(payload, signature, identity=ALICE, allowed_signers=keys.allowed_signers)
    assert ALICE in good
    assert "SHA256:" in good


def test_signing_with_the_public_key_file_finds_its_private_key(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.alice.with_suffix(".pub"))

    assert ALICE in verify(payload, signature, identity=ALICE, allowed_signers=keys.allowed_signers)


def test_tampered_payload_is_refused(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.alice)
    tampered = signoff_payload(**{**PAYLOAD_FIELDS, "gate": "staging"})

    with pytest.raises(SignoffError, match=ALICE) as error:
        verify(tampered, signature, identity=ALICE, allowed_signers=keys.allowed_signers)
    _assert_one_line(error)


def test_bobs_key_claiming_to_be_alice_is_refused(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.bob)

    with pytest.raises(SignoffError, match=f"not listed for '{ALICE}'") as error:
        verify(payload, signature, identity=ALICE, allowed_signers=keys.allowed_signers)
    _assert_one_line(error)


def test_alices_signature_does_not_count_for_an_unlisted_identity(
    keys: Keys, payload: bytes
) -> None:
    signature = sign(payload, key=keys.alice)

    with pytest.raises(SignoffError, match=BOB):
        verify(payload, signature, identity=BOB, allowed_signers=keys.allowed_signers)


def test_signature_made_for_another_namespace_is_refused(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.alice, namespace="git")

    with pytest.raises(SignoffError, match=ALICE) as error:
        verify(payload, signature, identity=ALICE, allowed_signers=keys.allowed_signers)
    _assert_one_line(error)


def test_garbage_signature_is_refused(keys: Keys, payload: bytes) -> None:
    with pytest.raises(SignoffError, match=ALICE) as error:
        verify(payload, "not a signature", identity=ALICE, allowed_signers=keys.allowed_signers)
    _assert_one_line(error)


def test_find_principals_names_alice(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.alice)

    assert find_principals(signature, allowed_signers=keys.allowed_signers) == (ALICE,)


def test_find_principals_is_empty_for_an_unlisted_key(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.bob)

    assert find_principals(signature, allowed_signers=keys.allowed_signers) == ()


def test_find_principals_rejects_garbage(keys: Keys) -> None:
    with pytest.raises(SignoffError) as error:
        find_principals("not a signature", allowed_signers=keys.allowed_signers)
    _assert_one_line(error)


def test_missing_key_file_is_a_one_line_error(tmp_path: Path, payload: bytes) -> None:
    missing = tmp_path / "nope"

    with pytest.raises(SignoffError, match="nope") as error:
        sign(payload, key=missing)
    _assert_one_line(error)


def test_a_file_that_is_not_a_key_is_a_one_line_error(keys: Keys, payload: bytes) -> None:
    with pytest.raises(SignoffError, match="allowed_signers") as error:
        sign(payload, key=keys.allowed_signers)
    _assert_one_line(error)


def test_missing_allowed_signers_is_a_one_line_error(keys: Keys, payload: bytes) -> None:
    signature = sign(payload, key=keys.alice)
    missing = keys.allowed_signers.with_name("missing_signers")

    with pytest.raises(SignoffError, match="missing_signers") as error:
        verify(payload, signature, identity=ALICE, allowed_signers=missing)
    _assert_one_line(error)
    with pytest.raises(SignoffError, match="missing_signers") as error:
        find_principals(signature, allowed_signers=missing)
    _assert_one_line(error)


def test_passphrase_key_without_agent_fails_fast(tmp_path: Path, payload: bytes) -> None:
    locked = _keygen(tmp_path / "locked", passphrase="correct horse battery staple")

    started = time.monotonic()
    with pytest.raises(SignoffError, match="passphrase") as error:
        sign(payload, key=locked)

    assert time.monotonic() - started < 10
    _assert_one_line(error)
    assert error.value.hint is not None
    assert "ssh-add" in error.value.hint


def test_missing_ssh_keygen_says_what_to_install(
    keys: Keys, payload: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))

    with pytest.raises(SignoffError, match="ssh-keygen") as error:
        sign(payload, key=keys.alice)
    assert error.value.hint == "install openssh-client"


def test_signoff_payload_is_stable_across_calls() -> None:
    first = signoff_payload(**PAYLOAD_FIELDS)

    assert signoff_payload(**PAYLOAD_FIELDS) == first
    assert b'"schema":"gonogo.signoff/v1"' in first


@pytest.mark.parametrize("field", sorted(PAYLOAD_FIELDS))
def test_signoff_payload_changes_when_any_field_changes(field: str) -> None:
    changed = {**PAYLOAD_FIELDS, field: PAYLOAD_FIELDS[field] + "x"}

    assert signoff_payload(**changed) != signoff_payload(**PAYLOAD_FIELDS)
