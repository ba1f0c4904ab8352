"""The ``gonogo`` command: global options, sub-commands and the one error boundary."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gonogo import __version__
from gonogo.cli import (
    audit_cmd,
    ci_cmd,
    commands,
    demo_cmd,
    deps_cmd,
    env_cmd,
    policy_cmd,
    release_cmd,
    rollout_cmd,
    secrets_cmd,
    security_cmd,
    settings,
)
from gonogo.cli.context import Globals, close_workspaces
from gonogo.errors import ExitCode, GonogoError, one_line

app = typer.Typer(
    name="gonogo",
    help="Release readiness as code: gates with evidence, owner sign-offs, an audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gonogo {__version__}")
        raise typer.Exit(0)


@app.callback()
def _globals(
    ctx: typer.Context,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            "-C",
            envvar=settings.ENV_PROJECT,
            file_okay=False,
            help="Project folder holding gonogo.toml (default: current folder).",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar=settings.ENV_DATABASE_URL,
            show_envvar=True,
            help="Store URL (default: sqlite in <project>/.gonogo/state.db).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Release readiness as code: gates with evidence, owner sign-offs, an audit trail."""
    ctx.obj = Globals(project=project, database_url=database_url)


app.command()(commands.init)
app.command()(commands.check)
app.command()(commands.status)
app.command()(commands.signoff)
app.command()(commands.ingest)
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(release_cmd.app, name="release")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(env_cmd.app, name="env")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(deps_cmd.app, name="deps")
app.add_typer(security_cmd.app, name="security")
app.add_typer(ci_cmd.app, name="ci")
app.add_typer(rollout_cmd.app, name="rollout")
app.command()(demo_cmd.demo)


def _crash_log(exc: BaseException) -> Path | None:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gonogo"
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / f"crash-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}.log"
        path.write_text(
            "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), encoding="utf-8"
        )
    except OSError:
        return None
    return path


def _error(message: str) -> None:
    # one line whatever the message (a library's own can span several)
    sys.stderr.write(f"gonogo: error: {one_line(message)}\n")


def main(argv: list[str] | None = None) -> int:
    """Run gonogo with ``argv`` (default: the process arguments); return the exit code."""
    args = [_text(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    try:
        result = app(args=args, prog_name="gonogo", standalone_mode=False)
    except GonogoError as exc:
        _error(str(exc))
        return int(exc.exit_code)
    except typer.TyperException as exc:
        # typer (>= 0.29) vendors click; its parse errors all derive from TyperException
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stderr.write(exc.format_message().rstrip("\n") + "\n")
            return ExitCode.USAGE
        ctx = getattr(exc, "ctx", None)
        hint = f"; see `{ctx.command_path} --help`" if ctx is not None else ""
        # typer checks some values with pydantic, whose wording leaks into the message
        message = exc.format_message().replace(": Value error, ", ": ").rstrip(".")
        _error(f"{message}{hint}")
        return ExitCode.USAGE
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("gonogo: interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one boundary that turns a crash into exit 3
        log = _crash_log(exc)
        where = f"; details in {log}" if log else ""
        _error(
            f"internal error: {type(exc).__name__}: {one_line(str(exc))}{where}; please report it"
        )
        return ExitCode.INTERNAL
    finally:
        close_workspaces()
    return int(result) if isinstance(result, int) else ExitCode.OK


def _text(arg: str) -> str:
    """An argument as clean text: bytes that were not UTF-8 become U+FFFD, not surrogates."""
    return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
