"""``gonogo ci``: CI quality gates: the one blocking job, workflow generation and verification."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gonogo.ci.policy_doc import policy_doc
from gonogo.ci.run import run_ci
from gonogo.ci.sarif import render_sarif
from gonogo.ci.summary import render_summary
from gonogo.ci.verify import find_ci_file, verify_file
from gonogo.ci.workflow import WorkflowOptions, generate
from gonogo.cli import output, settings
from gonogo.cli.common import (
    FormatOption,
    JobsOption,
    NoCacheOption,
    OutputOption,
    ReleaseOption,
)
from gonogo.cli.context import Globals, workspace
from gonogo.cli.progress import BarObserver
from gonogo.errors import ExitCode, UsageError
from gonogo.gates import plan
from gonogo.policy.load import PolicyInvalid, find_policy, load_policy
from gonogo.report import Format, ReportKind, render
from gonogo.report.document import render_document
from gonogo.report.lists import ci_verify_document, ci_verify_summary

#: the file GitHub Actions shows as the job's summary page
ENV_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

app = typer.Typer(
    help="CI quality gates. With no command: run the Phase-4 gates as the one blocking job "
    "(exit 0 green, 1 red). `init` writes the CI job, `verify` checks a CI file, "
    "`policy-doc` documents the gates.",
    invoke_without_command=True,
    no_args_is_help=False,
)


class Platform(StrEnum):
    """A CI system ``gonogo ci init`` writes for."""

    GITHUB = "github"
    GITLAB = "gitlab"


class VerifyFormat(StrEnum):
    """Output of ``gonogo ci verify``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


@app.callback()
def ci(
    ctx: typer.Context,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", dir_okay=False, help="Also write JUnit XML here."),
    ] = None,
    sarif: Annotated[
        Path | None,
        typer.Option("--sarif", metavar="FILE", dir_okay=False, help="Also write SARIF here."),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            metavar="FILE",
            dir_okay=False,
            help=f"Also write the Markdown summary here (appended to ${ENV_STEP_SUMMARY} too).",
        ),
    ] = None,
    release: ReleaseOption = None,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
    fmt: FormatOption = Format.TEXT,
    out: OutputOption = None,
) -> int:
    """Run the Phase-4 gates as the one blocking CI job: exit 0 green, 1 red."""
    if ctx.invoked_subcommand is not None:
        return ExitCode.OK
    ws = workspace(ctx.ensure_object(Globals))
    loaded = ws.require_policy()
    with BarObserver() as bar:
        result = run_ci(ws, release=release, jobs=jobs, use_cache=not no_cache, observer=bar)
    color = out is None and fmt is Format.TEXT and output.use_color()
    text = render(result.report, fmt, kind=ReportKind.CHECK, color=color, width=output.width())
    output.emit(text, out)
    if junit is not None:
        output.emit(render(result.report, Format.JUNIT), junit)
    if sarif is not None:
        output.emit(render_sarif(result.report, loaded, ws.root), sarif)
    markdown = render_summary(result)
    if summary is not None:
        output.emit(markdown, summary)
    step_summary = os.environ.get(ENV_STEP_SUMMARY)
    if step_summary:
        _append(Path(step_summary), markdown)
    if result.green:
        return ExitCode.OK
    output.info(f"gonogo ci: red: {', '.join(g.gate for g in result.red)}")
    return ExitCode.NO_GO


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        raise UsageError(
            f"cannot append the summary to {path} (${ENV_STEP_SUMMARY}): {exc.strerror}",
            hint=f"unset {ENV_STEP_SUMMARY} or fix the path",
        ) from None


@app.command()
def init(
    platform: Annotated[Platform, typer.Argument(help="github or gitlab.", case_sensitive=False)],
    out: OutputOption = None,
    python: Annotated[
        str, typer.Option("--python", metavar="VERSION", help="Python version of the job.")
    ] = "3.11",
    install: Annotated[
        str,
        typer.Option("--install", metavar="COMMAND", help="How the job installs the project."),
    ] = WorkflowOptions.install,
    before: Annotated[
        list[str] | None,
        typer.Option(
            "--before",
            metavar="COMMAND",
            help="A command that writes reports the gates read, run first (repeatable).",
        ),
    ] = None,
    release_branches: Annotated[
        str,
        typer.Option("--release-branches", metavar="PATTERN", help="Release branch pattern."),
    ] = WorkflowOptions.release_branches,
) -> int:
    """Write the CI job that runs `gonogo ci`; print the settings that make it required."""
    options = WorkflowOptions(
        python=python,
        install=install,
        before=tuple(before or ()),
        release_branches=release_branches,
    )
    generated = generate(platform.value, options)
    output.emit(generated.text, out)
    where = out or generated.path
    output.info(f"# {generated.platform} CI job for {where}\n{generated.settings}")
    return ExitCode.OK


@app.command()
def verify(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="The workflow or .gitlab-ci.yml (default: found under the project).",
            dir_okay=False,
        ),
    ] = None,
    release_branch: Annotated[
        str,
        typer.Option(
            "--release-branch",
            metavar="NAME",
            help="A release branch name the triggers must cover.",
        ),
    ] = "release/1.0.0",
    fmt: Annotated[
        VerifyFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = VerifyFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Say whether a CI file really requires the gates; exit 1 with each way around them."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    path = file if file is not None else find_ci_file(root)
    result = verify_file(path, release_branch=release_branch)
    if fmt is VerifyFormat.JSON:
        output.emit(json.dumps(result.to_json(), indent=2), out)
    elif fmt in (VerifyFormat.MARKDOWN, VerifyFormat.HTML):
        output.emit(render_document(ci_verify_document(result.to_json()), fmt), out)
    else:
        lines = [f"{path}: {finding}" for finding in result.findings]
        summary = ci_verify_summary(result.to_json())
        lines.append(f"{path}: OK: {summary}" if result.ok else f"{path}: {summary}")
        output.emit("\n".join(lines), out)
    return ExitCode.OK if result.ok else ExitCode.NO_GO


@app.command("policy-doc")
def policy_doc_command(ctx: typer.Context, out: OutputOption = None) -> int:
    """Write the Phase-4 CI gate policy document (Markdown), generated from the policy."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    loaded = load_policy(find_policy(root))
    problems = plan.problems(loaded)
    if problems:  # a page about a policy that cannot run would mislead its readers
        raise PolicyInvalid(problems)
    output.emit(policy_doc(loaded, root=root, today=datetime.now(UTC).date()), out)
    return ExitCode.OK
