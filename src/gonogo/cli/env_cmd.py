"""``gonogo env``: Environment hardening: env-var inventory, validation, parity, runbook."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Environment hardening: env-var inventory, validation, parity, runbook.",
    no_args_is_help=True,
)
