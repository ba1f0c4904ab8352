"""``gonogo audit``: log, export, verify."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import typer

from gonogo.audit import chain
from gonogo.audit import checkpoint as audit_checkpoint
from gonogo.cli import output
from gonogo.cli.common import STORE_INT_MAX, OutputOption
from gonogo.cli.context import Globals, workspace
from gonogo.errors import ExitCode
from gonogo.report.document import render_document
from gonogo.report.interface import clean_line
from gonogo.report.lists import audit_log_document, audit_verify_document, audit_verify_summary

app = typer.Typer(help="Read, export and verify the audit trail.", no_args_is_help=True)


class LogFormat(StrEnum):
    """Formats of ``audit log`` and ``audit verify``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


class ExportFormat(StrEnum):
    """Formats of ``audit export``."""

    JSONL = "jsonl"


@app.command()
def log(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=STORE_INT_MAX, help="Newest N events.")
    ] = 50,
    fmt: Annotated[
        LogFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = LogFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Show the newest audit events."""
    ws = workspace(ctx.ensure_object(Globals), policy=False)
    with ws.store.read() as conn:
        events = chain.tail(conn, limit)
    listing = [e.to_json() for e in events]
    if fmt is LogFormat.JSON:
        text = json.dumps({"schema": "gonogo.audit-log/v1", "events": listing}, indent=2)
    elif fmt in (LogFormat.MARKDOWN, LogFormat.HTML):
        text = render_document(audit_log_document(listing), fmt)
    elif not events:
        text = "the audit trail is empty"
    else:
        # one line per event whatever the stored text (an actor recorded before identities
        # were checked may hold escapes or line breaks)
        text = "\n".join(
            f"#{e.seq}\t{e.ts}\t{clean_line(e.actor)}\t{clean_line(e.type)}\t"
            f"{clean_line(chain.payload_summary(e.payload))}"
            for e in events
        )
    output.emit(text, out)
    return ExitCode.OK


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Export format.")
    ] = ExportFormat.JSONL,
    out: OutputOption = None,
) -> int:
    """Export every event, one JSON object a line, in sequence order."""
    ws = workspace(ctx.ensure_object(Globals), policy=False)
    with ws.store.read() as conn:
        lines = [
            json.dumps(e.to_json(), sort_keys=True, ensure_ascii=False) for e in chain.events(conn)
        ]
    output.emit("\n".join(lines), out)
    return ExitCode.OK


@app.command()
def verify(
    ctx: typer.Context,
    fmt: Annotated[
        LogFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = LogFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Check the whole chain and the checkpoint; exit 1 naming the first bad event."""
    ws = workspace(ctx.ensure_object(Globals), policy=False)
    checkpoint = ws.read_checkpoint()
    with ws.store.read() as conn:
        result = chain.verify(conn, checkpoint)
    damaged = audit_checkpoint.damaged_copies(ws.checkpoint_path)
    if result.ok and damaged:
        result = replace(result, ok=False, problem=audit_checkpoint.damaged_problem(damaged))
    report = {
        "schema": "gonogo.audit-verify/v1",
        "ok": result.ok,
        "checked": result.checked,
        "head": result.head.to_json(),
        "problem": result.problem,
        "bad_seq": result.bad_seq,
        "checkpoint": checkpoint.to_json() if checkpoint else None,
    }
    if fmt is LogFormat.JSON:
        output.emit(json.dumps(report, indent=2), out)
    elif fmt in (LogFormat.MARKDOWN, LogFormat.HTML):
        output.emit(render_document(audit_verify_document(report), fmt), out)
    else:
        state = "OK" if result.ok else "BROKEN"
        output.emit(f"audit trail {state}: {audit_verify_summary(report)}", out)
    return ExitCode.OK if result.ok else ExitCode.NO_GO
