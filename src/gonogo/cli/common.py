"""Options shared by several commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import settings
from gonogo.report import Format

#: the largest integer the store (SQLite) holds: a larger id or limit is refused up front
STORE_INT_MAX = 2**63 - 1


def number_between(low: float, high: float) -> Callable[[object], float]:
    """A parser of a finite number from ``low`` to ``high`` (``nan`` and ``inf`` refused).

    For float options: Typer's own range check tells ``--rps nan`` that nan should be
    less than or equal to the maximum, which sends the user the wrong way.
    """

    def parse(text: object) -> float:
        try:
            value = float(str(text))
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise typer.BadParameter(f"{text!r} is not a finite number")
        if not low <= value <= high:
            raise typer.BadParameter(f"{text} is not between {low:g} and {high:g}")
        return value

    return parse


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
