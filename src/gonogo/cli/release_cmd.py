"""``gonogo release``: create, list, show."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from gonogo.cli import output
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals, workspace
from gonogo.errors import ExitCode
from gonogo.gates.status import status
from gonogo.report import Format, ReportKind, render
from gonogo.report.document import render_document
from gonogo.report.interface import clean_line, clean_text
from gonogo.report.lists import releases_document
from gonogo.scope import releases

app = typer.Typer(help="Create and inspect releases.", no_args_is_help=True)


class ListFormat(StrEnum):
    """Formats of release listings."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


@app.command()
def create(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="The version, e.g. 1.4.0.")],
    notes: Annotated[str | None, typer.Option("--notes", help="What this release is.")] = None,
) -> int:
    """Create a release; commands then work on the newest open release by default."""
    ws = workspace(ctx.ensure_object(Globals))
    release = releases.create(ws, version, notes=notes)
    output.info(f"created release {release.version}")
    return ExitCode.OK


@app.command("list")
def list_(
    ctx: typer.Context,
    fmt: Annotated[
        ListFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = ListFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """List releases, newest first."""
    ws = workspace(ctx.ensure_object(Globals), policy=False)
    with ws.store.read() as conn:
        found = releases.list_all(conn)
    listing = [r.to_json() for r in found]
    if fmt is ListFormat.JSON:
        text = json.dumps({"schema": "gonogo.releases/v1", "releases": listing}, indent=2)
    elif fmt in (ListFormat.MARKDOWN, ListFormat.HTML):
        text = render_document(releases_document(listing), fmt)
    elif not found:
        text = "no releases yet: create one with `gonogo release create VERSION`"
    else:
        text = "\n".join(
            f"{r.version}\t{r.state.value}\t{r.created_at}\t{clean_line(r.created_by)}"
            for r in found
        )
    output.emit(text, out)
    return ExitCode.OK


@app.command()
def show(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="The version to show.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TEXT,
    out: OutputOption = None,
) -> int:
    """Show a release: its gates, verdicts and sign-offs as last evaluated."""
    ws = workspace(ctx.ensure_object(Globals))
    with ws.store.read() as conn:
        release = releases.get(conn, version)
    report = status(ws, release)
    color = out is None and fmt is Format.TEXT and output.use_color()
    body = render(report, fmt, kind=ReportKind.STATUS, color=color, width=output.width())
    if fmt is Format.TEXT:
        header = (
            f"release {release.version} ({release.state.value}), "
            f"created {release.created_at} by {clean_line(release.created_by)}"
        )
        if release.notes:
            header += f"\n{clean_text(release.notes)}"
        body = header + "\n\n" + body
    output.emit(body, out)
    return ExitCode.OK
