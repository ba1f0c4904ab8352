"""Optional cryptographic sign-offs, made and checked with ``ssh-keygen -Y``.

Signers are listed in an ``allowed_signers`` file, the same format git uses for
SSH-signed commits (``alice@example.com namespaces="gonogo-signoff" ssh-ed25519 AAAA...``),
so teams can reuse the file they already keep.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gonogo.digest import canonical_json
from gonogo.errors import SignoffError

__all__ = [
    "DEFAULT_NAMESPACE",
    "SIGNOFF_SCHEMA",
    "find_principals",
    "sign",
    "signoff_payload",
    "verify",
]

DEFAULT_NAMESPACE = "gonogo-signoff"
SIGNOFF_SCHEMA = "gonogo.signoff/v1"

_TIMEOUT_SECONDS = 30.0
_INSTALL_HINT = "install openssh-client"
# Progress chatter ssh-keygen writes to stderr even when it succeeds or fails for another reason.
_NOISE_PREFIXES = ("Signing data on standard input", "Signing file ", "Write signature to ")
_NO_PRINCIPAL = "No principal matched."
_NO_MATCHING_KEY = "Could not verify signature"
_UNUSABLE_KEY = "Couldn't load public key"


def signoff_payload(
    *, release: str, gate: str, role: str, identity: str, evaluation_digest: str
) -> bytes:
    """Canonical bytes of what a signer approves for one gate of one release."""
    return canonical_json(
        {
            "schema": SIGNOFF_SCHEMA,
            "release": release,
            "gate": gate,
            "role": role,
            "identity": identity,
            "evaluation_digest": evaluation_digest,
        }
    )


def sign(payload: bytes, *, key: Path, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Sign ``payload`` with an SSH key and return the armored SSH signature.

    ``key`` is a private key file, or a public key file whose private half ssh-agent holds.
    """
    if not key.is_file():
        raise SignoffError(
            f"signing key {key} not found", hint="pass an SSH private key or an agent-held .pub"
        )
    with tempfile.TemporaryDirectory(prefix="gonogo-sign-") as tmp:
        payload_file = Path(tmp) / "payload"
        payload_file.write_bytes(payload)
        # The payload goes in a file, not on stdin: with no tty ssh-keygen reads a passphrase
        # from stdin, and stdin must be empty so a locked key fails instead of eating the payload.
        result = _ssh_keygen(["-Y", "sign", "-f", str(key), "-n", namespace, str(payload_file)])
        signature_file = payload_file.with_name("payload.sig")
        if result.returncode != 0 or not signature_file.is_file():
            raise _sign_error(key, _reason(result))
        return signature_file.read_text(encoding="ascii")


def verify(
    payload: bytes,
    signature: str,
    *,
    identity: str,
    allowed_signers: Path,
    namespace: str = DEFAULT_NAMESPACE,
) -> str:
    """Check that ``identity`` signed ``payload``; return ssh-keygen's "Good signature" line."""
    _require_readable(allowed_signers)
    with tempfile.TemporaryDirectory(prefix="gonogo-verify-") as tmp:
        signature_file = _write_signature(Path(tmp), signature)
        result = _ssh_keygen(
            [
                "-Y",
                "verify",
                "-f",
                str(allowed_signers),
                "-I",
                identity,
                "-n",
                namespace,
                "-s",
                str(signature_file),
            ],
            stdin=payload,
        )
    if result.returncode != 0:
        reason = _reason(result)
        if reason == _NO_MATCHING_KEY:
            # ssh-keygen says nothing more when the signing key is not listed for the identity.
            reason = f"the signing key is not listed for {identity!r}"
        raise SignoffError(
            f"signature for {identity!r} refused: {reason}",
            hint=f"the signature must be by a key listed for {identity!r} in {allowed_signers}"
            f" with namespace {namespace!r}",
        )
    lines = _lines(result.stdout)
    return lines[0] if lines else f"Good {namespace!r} signature for {identity}"


def find_principals(signature: str, *, allowed_signers: Path) -> tuple[str, ...]:
    """The identities in ``allowed_signers`` whose key made ``signature`` (empty if none)."""
    _require_readable(allowed_signers)
    with tempfile.TemporaryDirectory(prefix="gonogo-principals-") as tmp:
        signature_file = _write_signature(Path(tmp), signature)
        result = _ssh_keygen(
            ["-Y", "find-principals", "-f", str(allowed_signers), "-s", str(signature_file)]
        )
    if result.returncode == 0:
        return tuple(_lines(result.stdout))
    problems = [line for line in _lines(result.stderr) if line != _NO_PRINCIPAL]
    if not problems:
        return ()
    raise SignoffError(f"cannot read signature: {problems[0]}")


def _ssh_keygen(
    args: Sequence[str], *, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ssh-keygen so it can never wait for a passphrase: no tty, no askpass, a timeout."""
    try:
        return subprocess.run(
            ["ssh-keygen", *args],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            check=False,
            timeout=_TIMEOUT_SECONDS,
            env=_quiet_env(),
            # A new session has no controlling terminal, so /dev/tty prompts fail at once.
            start_new_session=True,
        )
    except FileNotFoundError:
        raise SignoffError("ssh-keygen not found", hint=_INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise SignoffError(
            f"ssh-keygen did not finish within {_TIMEOUT_SECONDS:.0f} s",
            hint="is it waiting on a hardware key or a locked agent?",
        ) from None


def _quiet_env() -> dict[str, str]:
    """The caller's environment (ssh-agent included) minus every way to ask for a passphrase."""
    env = {k: v for k, v in os.environ.items() if k not in {"SSH_ASKPASS", "DISPLAY"}}
    env["SSH_ASKPASS_REQUIRE"] = "never"
    return env


def _sign_error(key: Path, reason: str) -> SignoffError:
    """Turn a failed ``ssh-keygen -Y sign`` into one line that says what to do."""
    if "passphrase" in reason:
        return SignoffError(
            f"signing key {key} is passphrase-protected and no ssh-agent holds it",
            hint="run ssh-add, or pass the key's .pub while ssh-agent holds it",
        )
    if reason.startswith(_UNUSABLE_KEY):
        # ssh-keygen falls back to reading the file as a public key and reports that failure,
        # whose "No such file or directory" would mislead about a file that does exist.
        reason = "not an SSH private key, nor a public key whose private key is beside it"
    return SignoffError(
        f"cannot sign with {key}: {reason}",
        hint="pass an SSH private key, or a .pub whose private key ssh-agent holds",
    )


def _require_readable(allowed_signers: Path) -> None:
    """Fail with one line when the allowed_signers file is missing or unreadable."""
    try:
        with allowed_signers.open("rb"):
            pass
    except OSError as exc:
        raise SignoffError(
            f"allowed_signers file {allowed_signers} cannot be read: {exc.strerror or exc}",
            hint='list signers as git does: \'alice@example.com namespaces="gonogo-signoff"'
            " ssh-ed25519 AAAA...'",
        ) from None


def _write_signature(directory: Path, signature: str) -> Path:
    """Write an armored signature where ssh-keygen can read it."""
    path = directory / "signature.sig"
    text = signature if signature.endswith("\n") else signature + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _lines(output: bytes) -> list[str]:
    """Non-empty, stripped lines of ssh-keygen output (it ends some lines with CRLF)."""
    text = output.decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _reason(result: subprocess.CompletedProcess[bytes]) -> str:
    """The most telling single line of a failed ssh-keygen run."""
    lines = [
        line.removeprefix("Enter passphrase: ")
        for line in _lines(result.stderr) + _lines(result.stdout)
        if not line.startswith(_NOISE_PREFIXES)
    ]
    return lines[0].rstrip(".") if lines else f"ssh-keygen exited with status {result.returncode}"
