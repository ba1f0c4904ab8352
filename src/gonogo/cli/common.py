"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import settings
from gonogo.report import Format

#: the largest integer the store (SQLite) holds: a larger id or limit is refused up front
STORE_INT_MAX = 2**63 - 1

FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report to FILE instead of stdout.",
        dir_okay=False,
    ),
]
ReleaseOption = Annotated[
    str | None,
    typer.Option(
        "--release",
        "-r",
        metavar="VERSION",
        envvar=settings.ENV_RELEASE,
        help="Release version (default: the newest open release).",
    ),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        max=64,
        metavar="N",
        envvar=settings.ENV_JOBS,
        help="Criteria run at once (default: the policy's project.jobs).",
    ),
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Collect every criterion again, ignoring the cache.")
]
