"""check, status, signoff, ingest: the readiness commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from gonogo.errors import ExitCode, SignoffError, UsageError
from gonogo.gates import evidence_store, plan, signoffs
from gonogo.gates.engine import Engine, latest_evaluation
from gonogo.gates.results import Outcome, RunReport, Verdict
from gonogo.gates.status import status as status_report
from gonogo.policy.load import POLICY_FILE
from gonogo.policy.starter import starter
from gonogo.report import Format, ReportKind, render
from gonogo.scope import releases


def _render(report: RunReport, fmt: Format, out: Path | None, kind: ReportKind) -> None:
    color = out is None and fmt is Format.TEXT and output.use_color()
    output.emit(render(report, fmt, kind=kind, color=color, width=output.width()), out)


def check(
    ctx: typer.Context,
    gate: Annotated[
        list[str] | None,
        typer.Option("--gate", "-g", metavar="GATE", help="Only this gate (repeatable)."),
    ] = None,
    phase: Annotated[
        int | None,
        typer.Option(
            "--phase", "-p", min=1, max=8, metavar="1-8", help="Only gates of this phase."
        ),
    ] = None,
    release: ReleaseOption = None,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
    fmt: FormatOption = Format.TEXT,
    out: OutputOption = None,
) -> int:
    """Gather evidence, evaluate the gates and answer go (exit 0) or no-go (exit 1)."""
    ws = workspace(ctx.ensure_object(Globals))
    loaded = ws.require_policy()
    run_plan = plan.build(loaded, gate_ids=gate or (), phase=phase)
    with ws.store.read() as conn:
        current = releases.current(conn, release)
    with BarObserver() as bar:
        engine = Engine(
            ws,
            current,
            jobs=jobs or loaded.policy.project.jobs,
            observer=bar,
            use_cache=not no_cache,
        )
        report = engine.run(run_plan)
    _render(report, fmt, out, ReportKind.CHECK)
    return ExitCode.OK if report.verdict is Verdict.GO else ExitCode.NO_GO


def status(
    ctx: typer.Context,
    release: ReleaseOption = None,
    fmt: FormatOption = Format.TEXT,
    out: OutputOption = None,
) -> int:
    """Show every gate's stored evaluation and sign-offs without running checks."""
    ws = workspace(ctx.ensure_object(Globals))
    with ws.store.read() as conn:
        current = releases.current(conn, release)
    _render(status_report(ws, current), fmt, out, ReportKind.STATUS)
    return ExitCode.OK


def signoff(
    ctx: typer.Context,
    gate: Annotated[str, typer.Argument(help="The gate to sign off.")],
    role: Annotated[str, typer.Option("--role", help="The owner role you sign for.")],
    note: Annotated[
        str | None, typer.Option("--note", help="A note kept with the sign-off.")
    ] = None,
    release: ReleaseOption = None,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key", help="Also sign with this SSH key (ssh-keygen -Y sign).", dir_okay=False
        ),
    ] = None,
) -> int:
    """Approve a gate's current evaluation as an owner; identity from GONOGO_USER or git."""
    ws = workspace(ctx.ensure_object(Globals), signer=True)
    loaded = ws.require_policy()
    plan.build(loaded)  # a policy that cannot run cannot be signed against either
    target = loaded.policy.gate(gate)
    if target is None:
        known = ", ".join(g.id for g in loaded.policy.gates)
        raise UsageError(f"no gate named {gate!r}", hint=f"gates are: {known}")
    if role not in target.owners:
        raise SignoffError(
            f"{role!r} is not an owner role of gate {gate!r}",
            hint=f"its owners are: {', '.join(target.owners)}"
            if target.owners
            else "the gate names no owners: add owners = [...] to it in the policy",
        )
    signoffs.check_signer(loaded.policy, ws.actor, role)
    with ws.store.read() as conn:
        current = releases.current(conn, release)
        if current is None:
            raise UsageError(
                "there is no open release to sign off",
                hint="create one with `gonogo release create VERSION`",
            )
        evaluation = latest_evaluation(conn, current, gate)
        standing = evaluation and signoffs.repeated(
            conn,
            current,
            kind=signoffs.GATE,
            subject=gate,
            role=role,
            identity=ws.actor,
            digest=evaluation.digest,
            note=note,
            signing=sign_key is not None,
        )
    if evaluation is None:
        raise SignoffError(
            f"gate {gate} has not been evaluated for release {current.version}",
            hint=f"run `gonogo check --gate {gate}` first, then sign what it shows",
        )
    if evaluation.outcome is Outcome.FAIL:
        raise SignoffError(
            f"gate {gate} is failing its criteria, so there is nothing to approve",
            hint="fix or waive the failing criteria and run `gonogo check` again",
        )
    if standing:
        output.info(
            f"{ws.actor} already signed off {gate} for release {current.version} as {role} "
            f"(evaluation {evaluation.digest[:12]}, {standing.created_at}); nothing recorded"
        )
        return ExitCode.OK
    signoffs.record(
        ws,
        release=current,
        kind=signoffs.GATE,
        subject=gate,
        role=role,
        digest=evaluation.digest,
        note=note,
        sign_key=sign_key,
    )
    output.info(
        f"signed off {gate} for release {current.version} as {role} ({ws.actor}), "
        f"evaluation {evaluation.digest[:12]}"
    )
    return ExitCode.OK


def ingest(
    ctx: typer.Context,
    criterion: Annotated[str, typer.Argument(help="The criterion it answers, as GATE.CRITERION.")],
    file: Annotated[Path, typer.Argument(help="The evidence file (a report).")],
    release: ReleaseOption = None,
) -> int:
    """Push evidence produced elsewhere into the store for one criterion."""
    ws = workspace(ctx.ensure_object(Globals))
    loaded = ws.require_policy()
    gate_id, _, criterion_id = criterion.partition(".")
    gate = loaded.policy.gate(gate_id)
    target = next((c for c in gate.criteria if c.id == criterion_id), None) if gate else None
    if target is None:
        known = ", ".join(f"{g.id}.{c.id}" for g in loaded.policy.gates for c in g.criteria)
        raise UsageError(f"no criterion {criterion!r} in the policy", hint=f"criteria are: {known}")
    if target.source != "ingest":
        raise UsageError(
            f"criterion {criterion} collects its own evidence, so a pushed file would be ignored",
            hint='set `source = "ingest"` on it in the policy to take pushed evidence',
        )
    with ws.store.read() as conn:
        current = releases.current(conn, release)
    digest = evidence_store.ingest(ws, ref=criterion, file=file, release=current)
    output.info(f"ingested {file.name} for {criterion} (sha256 {digest[:12]})")
    return ExitCode.OK


def init(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option("--name", help="Project name (default: the folder's name).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing gonogo.toml.")
    ] = False,
) -> int:
    """Write a starter gonogo.toml in the project folder."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    target = root / POLICY_FILE
    if target.is_dir():
        raise UsageError(f"{target} is a folder", hint="move it away, then run `gonogo init` again")
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="edit it, or pass --force to replace it")
    who = settings.identity(root) or "you@example.com"
    try:
        target.write_text(starter(name or root.name, who), encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write {target}: {exc.strerror or exc}",
            hint="check that the project folder is writable",
        ) from None
    output.info(f"wrote {target}; check it with `gonogo policy validate`")
    return ExitCode.OK
