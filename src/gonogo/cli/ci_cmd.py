"""``gonogo ci``: CI quality gates: the one blocking job, workflow generation and verification."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="CI quality gates: the one blocking job, workflow generation and verification.",
    no_args_is_help=True,
)
