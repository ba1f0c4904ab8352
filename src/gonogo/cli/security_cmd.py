"""``gonogo security``: least privilege, the HTTP probe, incident hooks."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Security hardening: least privilege, HTTP probe, hooks.", no_args_is_help=True
)
