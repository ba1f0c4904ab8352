"""``credentials``: every credential used in development and test was rotated in time.

Builds the credentials ledger (see :mod:`gonogo.security.credentials`): the env
inventory's secret variables plus the policy's ``[security.credentials.NAME]``, with
rotation dates from Vault KV v2 metadata, AWS Secrets Manager, or the newest
``gonogo security rotated`` audit event in the project's store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from gonogo.audit import chain
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    NotReported,
    Observation,
)
from gonogo.checks.reports import refs
from gonogo.checks.stored import audit_events
from gonogo.digest import sha256_json
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status
from gonogo.policy.credentials import Security
from gonogo.policy.load import find_policy, load_policy
from gonogo.security.credentials import Entry, Ledger, binding_view, inventory_path, read_ledger
from gonogo.security.rotation_sources import Sources

_LISTED = 3


class CredentialsParams(CheckParams):
    """Parameters of the ``credentials`` check."""

    names: tuple[str, ...] = ()
    timeout: float = Field(default=10.0, gt=0, le=300)


def _security(root: Path) -> Security:
    try:
        return load_policy(find_policy(root)).policy.security
    except GonogoError:
        return Security()  # the engine validated the policy already; a bare run uses defaults


def stored_events(root: Path, store_url: str | None = None) -> Iterator[chain.Event]:
    """The store's rotation events (see :func:`gonogo.checks.stored.audit_events`)."""
    return audit_events(root, store_url, "security.credential.")


class CredentialsCheck:
    """Reads the credentials ledger; measured = credentials overdue or never rotated."""

    name: ClassVar[str] = "credentials"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = CredentialsParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Never cached: ages grow daily, and the store, Vault and AWS change on their own."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Build the ledger now."""
        assert isinstance(params, CredentialsParams)  # noqa: S101 - the engine parsed it
        security = _security(ctx.root)
        try:
            inventory_file = inventory_path(ctx.root, security)
            ledger = read_ledger(
                ctx.root,
                security,
                list(stored_events(ctx.root, ctx.store_url)),
                as_of=datetime.now(UTC),
                lookup=Sources(security, os.environ, timeout=params.timeout),
                names=params.names,
            )
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        if not ledger.entries:
            raise NotReported(
                "no credential to track: no secret variable in the env inventory and none "
                "declared in the policy",
                hint="write gonogo.env.toml with `gonogo env scan`, or declare "
                "[security.credentials.NAME]",
            )
        evidence: tuple[EvidenceRef, ...] = (
            EvidenceRef(
                kind="credentials-ledger",
                uri="credentials ledger",
                sha256=sha256_json(binding_view(ledger)),
            ),
            *(
                refs([inventory_file], kind="env-inventory", root=ctx.root)
                if inventory_file
                else ()
            ),
        )
        return Observation(
            measured=len(ledger.failing),
            details={**ledger.to_json(), "listed": [_brief(e) for e in ledger.failing[:_LISTED]]},
            evidence=evidence,
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on anything overdue or never rotated; error when a source could not be read."""
        counts = observation.details["counts"]
        total = sum(counts.values())
        expected = "every credential rotated within its maximum age"
        summary = f"{counts['ok']} of {total} credential(s) ok"
        if observation.measured:
            listed = "; ".join(observation.details["listed"])
            return Judgement(
                Status.FAIL, f"{observation.measured} to rotate ({listed}); {summary}", expected
            )
        if counts["unknown"]:
            problems = [
                f"{c['name']}: {c['problem']}"
                for c in observation.details["credentials"]
                if c["status"] == "unknown"
            ]
            return Judgement(
                Status.ERROR,
                f"the rotation of {counts['unknown']} credential(s) could not be read "
                f"({problems[0]}); {summary}",
                expected,
            )
        return Judgement(Status.PASS, summary, expected)


def _brief(entry: Entry) -> str:
    name = entry.credential.name
    if entry.rotation is None:
        return f"{name} never rotated"
    return f"{name} overdue since {entry.due}"


__all__ = ["CredentialsCheck", "CredentialsParams", "Ledger", "stored_events"]
