"""``gonogo secrets``: Find secrets committed to the tree or its history."""

from __future__ import annotations

import typer

app = typer.Typer(help="Find secrets committed to the tree or its history.", no_args_is_help=True)
