"""``gonogo env diff`` and ``gonogo env runbook``: parity between environments, and the runbook."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import output, settings
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals
from gonogo.config.inventory import FILENAME, Inventory, load_inventory
from gonogo.config.parity.compare import ParityReport, compare
from gonogo.config.parity.report import diff_document, diff_text
from gonogo.config.parity.sources import load_environment
from gonogo.config.parity.yamlfiles import relative
from gonogo.config.runbook import generate, staleness
from gonogo.errors import ExitCode, PolicyError, UsageError
from gonogo.policy.environments import EnvPolicy
from gonogo.policy.load import LoadedPolicy, find_policy, load_policy
from gonogo.report.document import render_document


class DiffFormat(StrEnum):
    """Output formats of ``env diff``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


InventoryOption = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        "-i",
        metavar="FILE",
        dir_okay=False,
        help=f"The inventory, for variables marked secret or required (default: {FILENAME}).",
    ),
]


def _root(ctx: typer.Context) -> Path:
    return settings.project_root(ctx.ensure_object(Globals).project)


def _inventory(root: Path, file: Path | None) -> Inventory | None:
    path = file or root / FILENAME
    if file is not None and not path.exists():
        raise UsageError(
            f"--inventory {file} does not exist", hint="write it with `gonogo env scan`"
        )
    # a folder (or anything else) where the inventory should be is load_inventory's error
    return load_inventory(path) if path.exists() else None


def _env_policy(root: Path) -> EnvPolicy:
    """The policy's ``[env]``; its defaults when the project has no policy file."""
    try:
        file = find_policy(root)
    except PolicyError:
        return EnvPolicy()
    return load_policy(file).policy.env


def diff(
    ctx: typer.Context,
    left: Annotated[
        str, typer.Argument(metavar="LEFT", help="The first environment (e.g. staging).")
    ],
    right: Annotated[
        str,
        typer.Argument(metavar="RIGHT", help="The environment it should match (e.g. production)."),
    ],
    inventory: InventoryOption = None,
    fmt: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = DiffFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Compare two environments' definitions: exit 1 on a difference the policy does not allow."""
    if left == right:
        raise UsageError(f"both sides are {left!r}", hint="name two different environments")
    root = _root(ctx)
    env = _env_policy(root)
    report = compare(
        load_environment(root, env, left),
        load_environment(root, env, right),
        env,
        _inventory(root, inventory),
    )
    for warning in (*report.left.warnings, *report.right.warnings):
        output.info(f"gonogo: warning: {warning}")
    output.emit(_render(report, fmt), out)
    return ExitCode.NO_GO if report.undeclared else ExitCode.OK


def _render(report: ParityReport, fmt: DiffFormat) -> str:
    if fmt is DiffFormat.JSON:
        return json.dumps(report.to_json(), indent=2)
    if fmt in (DiffFormat.MARKDOWN, DiffFormat.HTML):
        return render_document(diff_document(report), fmt)
    return diff_text(report)


def runbook(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            dir_okay=False,
            help="Write the runbook to FILE (default: the policy's [env] runbook, RUNBOOK.md); "
            "- prints it.",
        ),
    ] = None,
    inventory: InventoryOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 when the runbook is missing or stale, or an environment "
            "lacks deploy, rollback or verify commands.",
        ),
    ] = False,
) -> int:
    """Write the deploy-and-rollback runbook of every environment from the policy."""
    root = _root(ctx)
    loaded: LoadedPolicy = load_policy(find_policy(root))
    _inventory(root, inventory)  # a named inventory must exist
    book = generate(loaded, inventory)
    if out is not None and str(out) != "-":
        book = replace(book, path=out.expanduser().resolve())
    if check:
        problems = [*book.problems]
        stale = staleness(book, relative(book.path, root))
        if stale is not None:
            problems.insert(0, stale)
        for problem in problems:
            output.emit(problem, None)
        if not problems:
            output.emit(f"{relative(book.path, root)} is up to date", None)
        return ExitCode.NO_GO if problems else ExitCode.OK
    for problem in book.problems:
        output.info(f"gonogo: warning: {problem}")
    if out is not None and str(out) == "-":
        output.emit(book.text, None)
        return ExitCode.OK
    output.emit(book.text, book.path)
    environments = len(loaded.policy.env.environments)
    output.info(f"wrote {book.path}: {environments} environments from {len(book.files)} files")
    return ExitCode.OK
