"""``gonogo security report``: the security sign-off report (Phase-5 exit)."""

from __future__ import annotations

from typing import Annotated

import typer

from gonogo.cli import output
from gonogo.cli.common import OutputOption, ReleaseOption
from gonogo.cli.context import Globals, workspace
from gonogo.errors import ExitCode
from gonogo.gates.results import Verdict
from gonogo.scope import releases
from gonogo.security import signoff_report
from gonogo.security.signoff_render import ReportFormat, render_security_report


def report(
    ctx: typer.Context,
    gate: Annotated[
        list[str] | None,
        typer.Option(
            "--gate",
            "-g",
            metavar="GATE",
            help="The security gate (repeatable; default: every gate of phase 5).",
        ),
    ] = None,
    run: Annotated[
        bool,
        typer.Option("--run", help="Evaluate the security gates first (as `gonogo check --gate`)."),
    ] = False,
    release: ReleaseOption = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
    ] = ReportFormat.MARKDOWN,
    out: OutputOption = None,
) -> int:
    """Security sign-off report: every Phase-5 result, evidence digests, sign-offs, verdict."""
    ws = workspace(ctx.ensure_object(Globals))
    gates = signoff_report.security_gates(ws, gate or ())
    with ws.store.read() as conn:
        current = releases.current(conn, release)
    if run:
        signoff_report.evaluate(ws, current, gates)
    gathered = signoff_report.gather(ws, current, gates)
    output.emit(render_security_report(gathered, fmt), out)
    if out is not None:
        output.info(f"wrote the security sign-off report to {out}: {gathered.verdict.value}")
    return ExitCode.OK if gathered.verdict is Verdict.GO else ExitCode.NO_GO
