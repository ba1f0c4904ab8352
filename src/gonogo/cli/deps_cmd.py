"""``gonogo deps``: Dependency vulnerabilities and the SBOM."""

from __future__ import annotations

import typer

app = typer.Typer(help="Dependency vulnerabilities and the SBOM.", no_args_is_help=True)
