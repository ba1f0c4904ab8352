"""``gonogo policy``: validate, explain, schema, approve."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import output, settings
from gonogo.cli.common import ReleaseOption
from gonogo.cli.context import Globals, workspace
from gonogo.clock import SystemClock
from gonogo.errors import ExitCode, GonogoError, UsageError
from gonogo.gates import plan, signoffs
from gonogo.policy.explain import expired_exceptions
from gonogo.policy.explain import explain as explain_policy
from gonogo.policy.load import PolicyInvalid, find_policy, load_policy
from gonogo.policy.model import Policy
from gonogo.rollout.plan import RolloutPlan
from gonogo.scope import releases

app = typer.Typer(help="Validate, explain and approve the release policy.", no_args_is_help=True)


def _options(ctx: typer.Context) -> Globals:
    return ctx.ensure_object(Globals)


@app.command()
def validate(ctx: typer.Context) -> int:
    """Check the policy file: syntax, keys, check types and their parameters, references."""
    root = settings.project_root(_options(ctx).project)
    file = find_policy(root)
    try:
        loaded = load_policy(file)
    except PolicyInvalid as exc:
        for problem in exc.problems:
            output.info(f"gonogo: error: {problem}")
        return ExitCode.USAGE
    messages = [str(problem) for problem in plan.problems(loaded)]
    if not messages and loaded.policy.rollout is not None:
        messages = _rollout_problems(file, loaded.policy.rollout)
    for message in messages:
        output.info(f"gonogo: error: {message}")
    if messages:
        return ExitCode.USAGE
    today = SystemClock().now().date()
    for waiver in loaded.policy.waivers:
        if waiver.expires < today:
            output.info(
                f"gonogo: warning: waiver for {waiver.criterion} expired on {waiver.expires}"
            )
    _warn_expired_exceptions(loaded.policy, today)
    policy = loaded.policy
    criteria = sum(len(g.criteria) for g in policy.gates)
    output.emit(
        f"{file}: valid: {len(policy.gates)} gates, {criteria} criteria, "
        f"{len(policy.owners)} owner roles, {len(policy.waivers)} waivers",
        None,
    )
    return ExitCode.OK


def _rollout_problems(file: Path, rollout: RolloutPlan) -> list[str]:
    """The rollout's deployer, router and source tables checked as `rollout start` would."""
    from gonogo.rollout import components  # noqa: PLC0415 - only for a policy with a plan

    try:
        components.validate(rollout)
    except GonogoError as exc:
        return [f"{file}: {exc}"]
    return []


@app.command()
def explain(ctx: typer.Context) -> int:
    """Print the checklist a human reads: owners, gates, criteria, waivers (Markdown)."""
    root = settings.project_root(_options(ctx).project)
    loaded = load_policy(find_policy(root))
    today = SystemClock().now().date()
    _warn_expired_exceptions(loaded.policy, today)
    output.emit(explain_policy(loaded.policy, today=today), None)
    return ExitCode.OK


def _warn_expired_exceptions(policy: Policy, today: date) -> None:
    """Expired [deps] exceptions cover nothing any more (the vulns check fails on them)."""
    for exception in expired_exceptions(policy, today):
        output.info(
            f"gonogo: warning: [deps] exception for {exception.id} expired on "
            f"{exception.expires}: the vulnerability fails the audit again"
        )


@app.command()
def schema() -> int:
    """Print the policy's JSON Schema (also in docs/policy.schema.json)."""
    output.emit(json.dumps(policy_schema(), indent=2), None)
    return ExitCode.OK


def policy_schema() -> dict[str, object]:
    """The JSON Schema of gonogo.toml."""
    data = Policy.model_json_schema()
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["$id"] = "gonogo.policy/v1"
    return data


@app.command()
def approve(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help="The owner role you approve for.")],
    release: ReleaseOption = None,
    note: Annotated[str | None, typer.Option("--note", help="A note kept with it.")] = None,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key", help="Also sign with this SSH key (ssh-keygen -Y sign).", dir_okay=False
        ),
    ] = None,
) -> int:
    """Approve the current policy for a release (Phase-1 exit); a changed policy needs it again."""
    ws = workspace(_options(ctx), signer=True)
    loaded = ws.require_policy()
    signoffs.check_signer(loaded.policy, ws.actor, role)
    with ws.store.read() as conn:
        current = releases.current(conn, release)
        standing = current and signoffs.repeated(
            conn,
            current,
            kind=signoffs.POLICY,
            subject=signoffs.POLICY_SUBJECT,
            role=role,
            identity=ws.actor,
            digest=loaded.digest,
            note=note,
            signing=sign_key is not None,
        )
    if current is None:
        raise UsageError(
            "there is no open release", hint="create one with `gonogo release create VERSION`"
        )
    if standing:
        output.info(
            f"{ws.actor} already approved the policy {loaded.digest[:12]} for release "
            f"{current.version} as {role} ({standing.created_at}); nothing recorded"
        )
        return ExitCode.OK
    signoffs.record(
        ws,
        release=current,
        kind=signoffs.POLICY,
        subject=signoffs.POLICY_SUBJECT,
        role=role,
        digest=loaded.digest,
        note=note,
        sign_key=sign_key,
    )
    output.info(
        f"approved the policy {loaded.digest[:12]} for release {current.version} "
        f"as {role} ({ws.actor})"
    )
    return ExitCode.OK
