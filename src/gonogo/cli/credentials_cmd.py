"""``gonogo security credentials`` and ``gonogo security rotated``: the rotation ledger."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated

import typer

from gonogo.audit import chain
from gonogo.cli import output
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals, workspace
from gonogo.clock import iso
from gonogo.errors import ExitCode, UsageError
from gonogo.security.credentials import (
    ROTATED_EVENT,
    fit_to_show,
    inventory_of,
    parse_moment,
    read_ledger,
    require,
    tracked,
)
from gonogo.security.credentials_render import LedgerFormat, render_ledger
from gonogo.security.rotation_sources import Sources


def _moment(text: str, option: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date or time",
            hint="use e.g. 2026-05-01 or 2026-05-01T09:30:00Z",
        ) from None


def credentials(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Judge ages at this date or time (default: now), e.g. the release date.",
        ),
    ] = None,
    fmt: Annotated[
        LedgerFormat,
        typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
    ] = LedgerFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """The credentials ledger: owner, last rotation, maximum age, where stored, status."""
    ws = workspace(ctx.ensure_object(Globals))
    security = ws.require_policy().policy.security
    moment = _moment(as_of, "--as-of") if as_of is not None else ws.clock.now()
    with ws.store.read() as conn:
        events = list(chain.events(conn, type_prefix="security.credential."))
    ledger = read_ledger(
        ws.root, security, events, as_of=moment, lookup=Sources(security, os.environ)
    )
    output.emit(render_ledger(ledger, fmt), out)
    if ledger.failing:
        return ExitCode.NO_GO
    if ledger.unknown:
        first = ledger.unknown[0]
        output.info(
            f"gonogo: error: the rotation of {len(ledger.unknown)} credential(s) could not be "
            f"read; {first.credential.name}: {first.problem}"
        )
        return ExitCode.USAGE
    return ExitCode.OK


def rotated(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The credential that was rotated.")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="DATE", help="When it was rotated (default: now); not in the future."
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="A note kept with it (never the secret).")
    ] = None,
) -> int:
    """Record that a credential was rotated (an audit event the ledger reads)."""
    ws = workspace(ctx.ensure_object(Globals), signer=True)
    security = ws.require_policy().policy.security
    credential = require(tracked(security, inventory_of(ws.root, security)), name)
    now = ws.clock.now()
    moment = _moment(at, "--at") if at is not None else now
    if moment > now:
        raise UsageError(
            f"--at {at} is in the future", hint="record a rotation once it has happened"
        )
    if note is not None and fit_to_show(note) != note:
        raise UsageError(
            "--note holds a secret (a token, a key or a URL with a password)",
            hint="say where the secret is kept, never the secret: the audit trail keeps the note",
        )
    with ws.transaction() as tx:
        event = tx.record(
            ROTATED_EVENT,
            {
                "name": credential.name,
                "rotated_at": iso(moment),
                "note": note,
                "stored_in": credential.stored_in,
            },
        )
    output.info(
        f"recorded the rotation of {credential.name} at {iso(moment)} "
        f"(audit event #{event.seq}, by {ws.actor})"
    )
    return ExitCode.OK
