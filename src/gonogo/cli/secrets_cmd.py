"""``gonogo secrets``: Find secrets committed to the tree or its history."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import output, settings
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals
from gonogo.errors import ExitCode, UsageError
from gonogo.secrets import ScanFormat, ScanRequest, render, run_scan

app = typer.Typer(help="Find secrets committed to the tree or its history.", no_args_is_help=True)


def _absolute(path: Path) -> Path:
    """``path`` made absolute without resolving symlinks (a link is reported as itself)."""
    return Path(os.path.abspath(path.expanduser()))  # noqa: PTH100 - keep symlinks as named


@app.command("scan")
def scan(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="A folder to scan (default: the project folder), or files (as pre-commit "
            "passes them).",
            show_default=False,
        ),
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Also scan the lines every commit added (git log -p --all)."
        ),
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            dir_okay=False,
            help="Suppress the known findings listed in FILE (a gonogo or detect-secrets "
            "baseline).",
        ),
    ] = None,
    update_baseline: Annotated[
        bool,
        typer.Option(
            "--update-baseline", help="Write every current finding to the --baseline FILE."
        ),
    ] = False,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            metavar="FILE",
            dir_okay=False,
            help="Rules in gitleaks' TOML format instead of the built-ins "
            "([extend] useDefault = true keeps them).",
        ),
    ] = None,
    fmt: Annotated[
        ScanFormat,
        typer.Option("--format", "-f", case_sensitive=False, help="Output format."),
    ] = ScanFormat.TEXT,
    out: OutputOption = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            max=256,
            metavar="N",
            help="Worker processes (default: every core).",
        ),
    ] = None,
) -> int:
    """Scan for secrets: exit 1 when any is found that the baseline does not list, else 0."""
    if update_baseline and baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE", hint="name the file to write")
    given = [_absolute(p) for p in paths or []]
    targets: tuple[Path, ...]
    if len(given) == 1 and given[0].is_dir() and not given[0].is_symlink():
        root, targets = given[0], ()
    else:
        root = settings.project_root(ctx.ensure_object(Globals).project)
        targets = tuple(given)
    result = run_scan(
        ScanRequest(
            root=root,
            paths=targets,
            history=history,
            baseline=_absolute(baseline) if baseline else None,
            update_baseline=update_baseline,
            rules=_absolute(rules) if rules else None,
            jobs=jobs,
        )
    )
    output.emit(render(result, fmt), out)
    if update_baseline:
        output.info(f"wrote {len(result.suppressed)} finding(s) to baseline {baseline}")
        return ExitCode.OK
    return ExitCode.NO_GO if result.findings else ExitCode.OK
