"""``gonogo env``: Environment hardening: env-var inventory, validation, parity, runbook."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gonogo.cli import env_parity_cmd, output, settings
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals
from gonogo.config.build import Difference, build_inventory, drift
from gonogo.config.inventory import (
    FILENAME,
    SCHEMA,
    Inventory,
    load_inventory,
    write_inventory,
)
from gonogo.config.report import (
    check_document,
    check_summary,
    scan_document,
    scan_markdown,
    scan_summary,
)
from gonogo.config.scan import ScanResult, scan_tree
from gonogo.errors import ExitCode, UsageError
from gonogo.report.document import render_document

app = typer.Typer(
    help="Environment hardening: env-var inventory, validation, parity, runbook.",
    no_args_is_help=True,
)

CHECK_SCHEMA = "gonogo.env-check/v1"

app.command("diff")(env_parity_cmd.diff)
app.command("runbook")(env_parity_cmd.runbook)


class ScanFormat(StrEnum):
    """Output formats of ``env scan``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


class CheckFormat(StrEnum):
    """Output formats of ``env check``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


PathArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Folder to scan (default: the project folder).", file_okay=False, show_default=False
    ),
]
InventoryOption = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        "-i",
        metavar="FILE",
        dir_okay=False,
        help=f"The inventory file (default: PATH/{FILENAME}).",
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        "-x",
        metavar="GLOB",
        help="Skip paths matching GLOB, relative to PATH (repeatable), e.g. 'tests/*'.",
    ),
]


def _root(ctx: typer.Context, path: Path | None) -> Path:
    if path is None:
        return settings.project_root(ctx.ensure_object(Globals).project)
    if not path.expanduser().is_dir():
        raise UsageError(f"{path} is not a folder", hint="name the folder to scan")
    return path.expanduser().resolve()


def _warn(result: ScanResult) -> None:
    for warning in result.warnings:
        output.info(f"gonogo: warning: {warning}")


@app.command()
def scan(
    ctx: typer.Context,
    path: PathArgument = None,
    inventory: InventoryOption = None,
    exclude: ExcludeOption = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write/--no-write",
            help="Write the inventory file (keeping hand-written descriptions); "
            "--no-write only prints it.",
        ),
    ] = True,
    fmt: Annotated[
        ScanFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = ScanFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Find every environment variable the code reads and write the inventory."""
    root = _root(ctx, path)
    file = inventory or root / FILENAME
    result = scan_tree(root, exclude=exclude or ())
    previous = load_inventory(file) if file.exists() else None
    found = build_inventory(result, previous)
    _warn(result)
    if write:
        write_inventory(file, found)
        secret = sum(v.secret for v in found)
        required = sum(v.required for v in found)
        output.info(
            f"wrote {file}: {len(found)} variables ({required} required, {secret} secret) "
            f"from {len(result.files)} files"
        )
    output.emit(_render_scan(found, result, fmt), out)
    return ExitCode.OK


@app.command()
def check(
    ctx: typer.Context,
    path: PathArgument = None,
    inventory: InventoryOption = None,
    exclude: ExcludeOption = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = CheckFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Compare the code with the inventory: exit 1 on drift, listing each difference."""
    root = _root(ctx, path)
    file = inventory or root / FILENAME
    listed = load_inventory(file)  # says whether it is missing, a folder or unreadable
    result = scan_tree(root, exclude=exclude or ())
    _warn(result)
    differences = drift(listed, result)
    output.emit(_render_check(listed, differences, file.name, fmt), out)
    return ExitCode.NO_GO if differences else ExitCode.OK


def _render_scan(found: Inventory, result: ScanResult, fmt: ScanFormat) -> str:
    unread = result.unread()
    if fmt is ScanFormat.JSON:
        document: dict[str, Any] = found.to_json()
        document["unread"] = [
            {"name": name, "definitions": [d.location for d in defs]}
            for name, defs in unread.items()
        ]
        document["warnings"] = [{"path": w.path, "message": w.message} for w in result.warnings]
        return json.dumps(document, indent=2)
    if fmt is ScanFormat.MARKDOWN:
        return scan_markdown(found)
    if fmt is ScanFormat.HTML:
        return render_document(scan_document(found, result), fmt)
    rows = [("NAME", "TYPE", "REQUIRED", "SECRET", "DEFAULT", "READ AT")]
    for var in found:
        where = var.locations[0] if var.locations else ""
        if len(var.locations) > 1:
            where += f" (+{len(var.locations) - 1})"
        default = "" if var.default is None else repr(var.default)
        rows.append(
            (
                var.name,
                var.type.value,
                "yes" if var.required else "no",
                "yes" if var.secret else "no",
                default,
                where,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append("")
    lines.append(scan_summary(found))
    if unread:
        lines.append(
            "Defined in config files but not read by the scanned code: " + ", ".join(unread)
        )
    return "\n".join(lines)


def _render_check(
    listed: Inventory, differences: list[Difference], name: str, fmt: CheckFormat
) -> str:
    if fmt is CheckFormat.JSON:
        return json.dumps(
            {
                "schema": CHECK_SCHEMA,
                "inventory_schema": SCHEMA,
                "in_sync": not differences,
                "variables": len(listed),
                "differences": [d.to_json() for d in differences],
            },
            indent=2,
        )
    if fmt in (CheckFormat.MARKDOWN, CheckFormat.HTML):
        return render_document(check_document(listed, differences, name), fmt)
    return "\n".join(
        [*(d.describe(name) for d in differences), check_summary(listed, differences, name)]
    )
