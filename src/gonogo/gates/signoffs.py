"""Owner sign-offs: record them bound to a digest, and judge whether each still holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from gonogo.clock import iso
from gonogo.errors import SignoffError
from gonogo.gates import signing
from gonogo.gates.results import RoleSignoff, SignoffState
from gonogo.policy.load import LoadedPolicy
from gonogo.policy.model import Policy
from gonogo.scope.releases import Release
from gonogo.store.schema import signoffs
from gonogo.workspace import Workspace

GATE = "gate"
POLICY = "policy"
POLICY_SUBJECT = "policy"


@dataclass(frozen=True)
class StoredSignoff:
    """A sign-off row."""

    kind: str
    subject: str
    role: str
    identity: str
    digest: str
    note: str | None
    signature: str | None
    created_at: str


def check_signer(policy: Policy, identity: str, role: str) -> None:
    """Refuse anyone the policy does not list for ``role``."""
    if role not in policy.owners:
        known = ", ".join(sorted(policy.owners))
        raise SignoffError(f"no owner role {role!r} in the policy", hint=f"roles are: {known}")
    if identity not in policy.owners[role]:
        raise SignoffError(
            f"{identity} is not listed as {_article(role)} {role} owner, so cannot sign for {role}",
            hint=f"ask one of: {', '.join(policy.owners[role])}, or add {identity} under [owners]",
        )


def record(
    ws: Workspace,
    *,
    release: Release,
    kind: str,
    subject: str,
    role: str,
    digest: str,
    note: str | None,
    sign_key: Path | None,
) -> StoredSignoff:
    """Store a sign-off and its audit event in one transaction."""
    loaded = ws.require_policy()
    signature = None
    if sign_key is not None:
        payload = signing.signoff_payload(
            release=release.version,
            gate=subject,
            role=role,
            identity=ws.actor,
            evaluation_digest=digest,
        )
        signature = signing.sign(payload, key=sign_key, namespace=loaded.policy.signing.namespace)
    elif loaded.policy.signing.required:
        raise SignoffError(
            "this policy requires cryptographic sign-offs",
            hint="pass --sign-key ~/.ssh/id_ed25519 (a key listed in the allowed_signers file)",
        )
    now = iso(ws.clock.now())
    with ws.transaction() as tx:
        tx.conn.execute(
            signoffs.insert().values(
                release_id=release.id,
                kind=kind,
                subject=subject,
                role=role,
                identity=ws.actor,
                digest=digest,
                note=note,
                signature=signature,
                created_at=now,
            )
        )
        tx.record(
            f"{kind}.signed",
            {
                "release": release.version,
                "subject": subject,
                "role": role,
                "identity": ws.actor,
                "digest": digest,
                "note": note,
                "signed": signature is not None,
            },
        )
    return StoredSignoff(kind, subject, role, ws.actor, digest, note, signature, now)


def repeated(
    conn: Connection,
    release: Release,
    *,
    kind: str,
    subject: str,
    role: str,
    identity: str,
    digest: str,
    note: str | None,
    signing: bool,
) -> StoredSignoff | None:
    """The role's standing sign-off when a new one would only repeat it, else None.

    The same person approving the same digest with the same note adds nothing (a
    signature where the standing one has none does, and so does another note).
    """
    standing = latest_by_role(conn, release, kind, subject).get(role)
    if (
        standing is not None
        and (standing.identity, standing.digest, standing.note) == (identity, digest, note)
        and (standing.signature is not None or not signing)
    ):
        return standing
    return None


def latest_by_role(
    conn: Connection, release: Release, kind: str, subject: str
) -> dict[str, StoredSignoff]:
    """The newest sign-off of each role on ``subject``."""
    rows = conn.execute(
        select(signoffs)
        .where(
            signoffs.c.release_id == release.id,
            signoffs.c.kind == kind,
            signoffs.c.subject == subject,
        )
        .order_by(signoffs.c.id)
    ).all()
    latest: dict[str, StoredSignoff] = {}
    for row in rows:
        latest[row.role] = StoredSignoff(
            row.kind,
            row.subject,
            row.role,
            row.identity,
            row.digest,
            row.note,
            row.signature,
            row.created_at,
        )
    return latest


def states(
    loaded: LoadedPolicy,
    roles: tuple[str, ...],
    latest: dict[str, StoredSignoff],
    *,
    digest: str,
    release: Release | None,
) -> tuple[RoleSignoff, ...]:
    """Each role's sign-off state against the current ``digest``."""
    out = []
    for role in roles:
        stored = latest.get(role)
        if stored is None or release is None:
            out.append(RoleSignoff(role=role, state=SignoffState.MISSING))
            continue
        state = _state(loaded, stored, digest=digest, release=release)
        out.append(
            RoleSignoff(
                role=role,
                state=state,
                identity=stored.identity,
                signed_at=stored.created_at,
                signed=stored.signature is not None,
                note=stored.note,
            )
        )
    return tuple(out)


def _state(
    loaded: LoadedPolicy, stored: StoredSignoff, *, digest: str, release: Release
) -> SignoffState:
    policy = loaded.policy
    if stored.identity not in policy.owners.get(stored.role, ()):
        return SignoffState.INVALID
    if stored.signature is None:
        if policy.signing.required:
            return SignoffState.INVALID
    elif policy.signing.allowed_signers:
        payload = signing.signoff_payload(
            release=release.version,
            gate=stored.subject,
            role=stored.role,
            identity=stored.identity,
            evaluation_digest=stored.digest,
        )
        try:
            signing.verify(
                payload,
                stored.signature,
                identity=stored.identity,
                allowed_signers=loaded.root / policy.signing.allowed_signers,
                namespace=policy.signing.namespace,
            )
        except SignoffError:
            return SignoffState.INVALID
    return SignoffState.VALID if stored.digest == digest else SignoffState.STALE


def _article(word: str) -> str:
    """``a`` or ``an`` before ``word`` (a role: engineering, operations, qa, security)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
