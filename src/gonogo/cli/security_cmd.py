"""``gonogo security``: least privilege, the HTTP probe, incident hooks, credentials, report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from gonogo.cli import credentials_cmd, output, security_report_cmd, settings
from gonogo.cli.common import OutputOption
from gonogo.cli.context import Globals
from gonogo.errors import ExitCode, PolicyError, UsageError
from gonogo.policy.load import find_policy, load_policy
from gonogo.security import hooks as hook_checks
from gonogo.security import privileges, probe
from gonogo.security.findings import Report, Severity
from gonogo.security.policy import (
    AuditLogSettings,
    HooksConfig,
    ProbeSettings,
    load_config,
    validate,
)
from gonogo.security.render import FindingsFormat, render

app = typer.Typer(
    help="Security hardening: least privilege, HTTP probe, hooks, credentials, sign-off report.",
    no_args_is_help=True,
)
app.command("credentials")(credentials_cmd.credentials)
app.command("rotated")(credentials_cmd.rotated)
app.command("report")(security_report_cmd.report)

FormatOption = Annotated[
    FindingsFormat,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        dir_okay=False,
        help="TOML settings (default: the matching criterion's params in gonogo.toml).",
    ),
]


def _fail_on() -> Any:
    return typer.Option(
        "--fail-on",
        case_sensitive=False,
        help="Lowest severity that fails (exit 1); lower ones are reported only.",
    )


def _finish(report: Report, fmt: FindingsFormat, out: Path | None, fail_on: Severity) -> int:
    output.emit(render(report, fmt, fail_on), out)
    return ExitCode.NO_GO if report.failing(fail_on) else ExitCode.OK


def _policy_params(ctx: typer.Context, check: str) -> tuple[Path, dict[str, Any] | None]:
    """The project root and the params of the policy's first ``check`` criterion, if any."""
    root = settings.project_root(ctx.ensure_object(Globals).project)
    try:
        path = find_policy(root)
    except PolicyError:  # no policy: the command runs on its defaults
        return root, None
    loaded = load_policy(path)
    for gate in loaded.policy.gates:
        for criterion in gate.criteria:
            if criterion.check == check:
                return root, dict(criterion.params)
    return root, None


@app.command("privileges")
def privileges_command(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH",
            help="Manifests, IAM policies, folders or globs (default: the policy's "
            "least-privilege criteria).",
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[Severity, _fail_on()] = Severity.MEDIUM,
    fmt: FormatOption = FindingsFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Least privilege: Kubernetes RBAC manifests and AWS IAM policy documents together."""
    root = Path.cwd()
    if not paths:
        root, params = _policy_params(ctx, "least-privilege")
        if params is None or not params.get("paths"):
            raise UsageError(
                "no PATH given and no least-privilege criterion in the policy",
                hint="name the manifests: gonogo security privileges k8s/ iam/",
            )
        paths = [str(p) for p in params["paths"]]
    files = privileges.find_files(paths, root)
    if not files:
        raise UsageError(
            f"no YAML or JSON file in {', '.join(paths)}", hint="point at manifests or policies"
        )
    return _finish(privileges.scan(files, root, target=", ".join(paths)), fmt, out, fail_on)


@app.command("probe")
def probe_command(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(metavar="URL", help="Base URL of the running (staging) service.")
    ],
    config: ConfigOption = None,
    fail_on: Annotated[Severity, _fail_on()] = Severity.LOW,
    fmt: FormatOption = FindingsFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """HTTP security probe: headers, cookies, access control, JWTs, logout, bad input, leaks."""
    if config is not None:
        chosen = load_config(config, ProbeSettings)
        base = config.parent
    else:
        base, params = _policy_params(ctx, "http-probe")
        data = {k: v for k, v in (params or {}).items() if k not in {"url", "fail_on"}}
        chosen = validate(ProbeSettings, data, "http-probe criterion params")
    if chosen.ca_file is not None:
        chosen = chosen.model_copy(update={"ca_file": str(base / chosen.ca_file)})
    return _finish(probe.run(url, chosen, os.environ), fmt, out, fail_on)


@app.command("hooks")
def hooks_command(
    ctx: typer.Context,
    config: ConfigOption = None,
    fail_on: Annotated[Severity, _fail_on()] = Severity.LOW,
    fmt: FormatOption = FindingsFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Incident hooks accept a test event, and the audit log records each declared event."""
    if config is not None:
        loaded = load_config(config, HooksConfig)
        base = config.parent
    else:
        base, hooks_params = _policy_params(ctx, "incident-hooks")
        _, audit_params = _policy_params(ctx, "audit-log")
        data: dict[str, Any] = dict(hooks_params or {})
        if audit_params is not None:
            data["audit_log"] = audit_params
        loaded = validate(HooksConfig, data, "incident-hooks / audit-log criterion params")
    if not loaded.hooks and loaded.audit_log is None:
        raise UsageError(
            "no hooks and no audit log to check",
            hint="give --config FILE with [[hooks]] or [audit_log], or declare "
            "incident-hooks / audit-log criteria in gonogo.toml",
        )
    reports = []
    if loaded.hooks:
        reports.append(hook_checks.check_hooks(loaded.hooks, os.environ, timeout=loaded.timeout))
    if loaded.audit_log is not None:
        reports.append(_audit(loaded.audit_log, base))
    return _finish(_merge(reports), fmt, out, fail_on)


def _audit(audit: AuditLogSettings, base: Path) -> Report:
    log = Path(audit.log)
    return hook_checks.check_audit_log(
        audit, log if log.is_absolute() else base / log, os.environ, label=audit.log
    )


def _merge(reports: list[Report]) -> Report:
    if len(reports) == 1:
        return reports[0]
    return Report(
        tool="hooks",
        target=", ".join(r.target for r in reports),
        findings=tuple(f for r in reports for f in r.findings),
        passed=tuple(p for r in reports for p in r.passed),
        skipped=tuple(p for r in reports for p in r.skipped),
        scanned=tuple(s for r in reports for s in r.scanned),
        heading="; ".join(r.title for r in reports),
    )
