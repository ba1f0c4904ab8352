"""``gonogo deps``: Dependency vulnerabilities and the SBOM."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import output, settings
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals
from gonogo.errors import ExitCode, PolicyError
from gonogo.policy.load import find_policy, load_policy
from gonogo.policy.model import Deps
from gonogo.security.audit_inputs import (
    ENV_OSV_DB,
    audit_policy,
    default_db_dir,
    gather,
    resolve_db,
    run,
)
from gonogo.security.audit_report import AuditFormat, render_audit
from gonogo.security.sbom import build_sbom
from gonogo.security.sync import DEFAULT_BASE_URL, parse_ecosystem, sync

app = typer.Typer(help="Dependency vulnerabilities and the SBOM.", no_args_is_help=True)

ENV_OSV_URL = "GONOGO_OSV_URL"

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        metavar="DIR",
        envvar=ENV_OSV_DB,
        show_envvar=True,
        file_okay=False,
        help="Offline OSV database folder (default: the policy's deps.db, else "
        "$XDG_CACHE_HOME/gonogo/osv).",
    ),
]
InstalledOption = Annotated[
    bool,
    typer.Option("--installed", help="Also audit the packages installed for --python."),
]
PythonOption = Annotated[
    str | None,
    typer.Option(
        "--python",
        metavar="PYTHON",
        help="Interpreter whose installed packages are read (implies --installed; "
        "default: the one running gonogo).",
    ),
]


def _policy(root: Path) -> tuple[Deps, str]:
    """The policy's [deps] table and project name; defaults when there is no policy."""
    try:
        file = find_policy(root)
    except PolicyError:
        return Deps(), root.name
    loaded = load_policy(file)
    return loaded.policy.deps, loaded.policy.project.name


def _paths(paths: list[Path] | None, root: Path, *, installed: bool) -> list[Path]:
    if paths:
        return paths
    if installed:
        return []
    return [Path()] if root == Path.cwd().resolve() else [root]


def _warn(warnings: tuple[str, ...]) -> None:
    if warnings:
        output.info(
            f"gonogo: warning: {len(warnings)} advisory files skipped as malformed "
            f"(first: {warnings[0]})"
        )


@app.command("audit")
def audit_cmd(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="Lockfiles, requirements files, pyproject.toml, or folders holding them "
            "(default: the project folder).",
        ),
    ] = None,
    db: DbOption = None,
    threshold: Annotated[
        str | None,
        typer.Option(
            "--threshold",
            metavar="LEVEL",
            help="Fail at or above low, medium, high or critical (default: the policy's "
            "deps.threshold, else high).",
        ),
    ] = None,
    installed: InstalledOption = False,
    python: PythonOption = None,
    fmt: Annotated[
        AuditFormat,
        typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
    ] = AuditFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Match dependencies against OSV advisories; exit 1 on any at or above the threshold."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    deps, _ = _policy(root)
    policy = audit_policy(deps, threshold=threshold)
    use_env = installed or python is not None
    inputs = gather(_paths(paths, root, installed=use_env), python=python, installed=use_env)
    db_dir = resolve_db(db, deps, root)
    report = run(inputs, db_dir, policy, today=datetime.now(UTC).date())
    _warn(report.warnings)
    output.emit(render_audit(report, fmt), out)
    return ExitCode.OK if report.passed else ExitCode.NO_GO


@app.command("sbom")
def sbom_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PATH]",
            help="A lockfile or the folder holding the project's (default: the project folder).",
        ),
    ] = None,
    db: DbOption = None,
    installed: InstalledOption = False,
    python: PythonOption = None,
    out: OutputOption = None,
) -> int:
    """Write a CycloneDX 1.6 SBOM (JSON), with vulnerabilities when a database is there."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    deps, project = _policy(root)
    use_env = installed or python is not None
    targets = [path] if path is not None else _paths(None, root, installed=use_env)
    inputs = gather(targets, python=python, installed=use_env)
    db_dir = resolve_db(db, deps, root)
    report = None
    if db is not None or deps.db or db_dir.exists():
        report = run(inputs, db_dir, audit_policy(deps), today=datetime.now(UTC).date())
        _warn(report.warnings)
    else:
        output.info(
            f"gonogo: note: no advisory database at {default_db_dir()}: the SBOM lists "
            "components only (run `gonogo deps sync` or pass --db)"
        )
    output.emit(build_sbom(inputs.dependencies, report, project=project), out)
    return ExitCode.OK


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    db: DbOption = None,
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            "--ecosystem",
            metavar="ECOSYSTEM",
            help="PyPI or npm; repeat for both (default: PyPI).",
        ),
    ] = None,
    url: Annotated[
        str,
        typer.Option(
            "--url",
            metavar="BASE",
            envvar=ENV_OSV_URL,
            show_envvar=True,
            help="Base URL of the archives: BASE/ECOSYSTEM/all.zip (a mirror).",
        ),
    ] = DEFAULT_BASE_URL,
) -> int:
    """Download OSV's advisory archives into the database folder for offline audits."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    deps, _ = _policy(root)
    ecosystems = [parse_ecosystem(e) for e in (ecosystem or ["PyPI"])]
    dest = resolve_db(db, deps, root)
    for result in sync(ecosystems, dest, base_url=url):
        state = "downloaded" if result.changed else "unchanged"
        output.info(f"{result.ecosystem}: {result.advisories} advisories, {state}: {result.path}")
    return ExitCode.OK
