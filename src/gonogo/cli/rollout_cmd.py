"""``gonogo rollout``: staged rollouts with anytime-valid canary analysis."""

from __future__ import annotations

import json
import signal
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gonogo.cli import output
from gonogo.cli.common import STORE_INT_MAX, OutputOption, ReleaseOption, number_between
from gonogo.cli.context import Globals, workspace
from gonogo.cli.rollout_view import LiveView, headline, status_text
from gonogo.errors import ExitCode, UsageError
from gonogo.report.document import render_document
from gonogo.report.rollout import rollout_document, rollouts_document, simulation_document
from gonogo.rollout import components, judges, state
from gonogo.rollout.analysis.scenario import load_scenario
from gonogo.rollout.analysis.simulate import SimulationReport
from gonogo.rollout.controller import Controller, Tick
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.plan import RolloutPlan
from gonogo.rollout.state import RolloutRecord, RolloutState
from gonogo.scope import releases
from gonogo.workspace import Workspace

app = typer.Typer(
    help="Staged rollouts: canary steps judged by anytime-valid tests.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Staged rollouts: canary steps judged by anytime-valid tests."""


class SimulateFormat(StrEnum):
    """Formats of a simulation report."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


#: the most seeded runs one simulation takes (beyond it a typo, not a plan)
MAX_RUNS = 1_000_000


@app.command()
def simulate(
    scenario: Annotated[
        Path, typer.Argument(metavar="SCENARIO.toml", help="The scenario file.", dir_okay=False)
    ],
    judge: Annotated[
        str,
        typer.Option(
            "--judge",
            "-j",
            metavar="NAME",
            help="The judge to run: sequential, mannwhitney, threshold, oracle, "
            "or one a plugin installs.",
        ),
    ] = "sequential",
    runs: Annotated[
        int,
        typer.Option(
            "--runs", "-n", min=1, max=MAX_RUNS, help="Number of seeded runs (at most a million)."
        ),
    ] = 100,
    fmt: Annotated[
        SimulateFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = SimulateFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Run a judge on synthetic traffic many times; report false rollbacks and detection."""
    loaded = load_scenario(scenario)
    report = judges.simulate(loaded, judge, runs)
    if fmt is SimulateFormat.JSON:
        text = json.dumps(report.to_json(), indent=2)
    elif fmt in (SimulateFormat.MARKDOWN, SimulateFormat.HTML):
        text = render_document(simulation_document(report.to_json()), fmt)
    else:
        text = render_text(report)
    output.emit(text, out)
    return ExitCode.OK


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def render_text(report: SimulationReport) -> str:
    """A short human summary of a simulation."""
    kind = "regression" if report.regressed else "no regression (canary equals baseline)"
    exposed = (
        "n/a" if report.mean_exposed_requests is None else f"{report.mean_exposed_requests:.0f}"
    )
    lines = [
        f"scenario {report.scenario}: {kind}; judge {report.judge}, {report.runs} runs",
        f"  false rollbacks      {_rate(report.false_rollback_rate)}",
        f"  detected             {_rate(report.detection_rate)}",
        f"  detection time       mean {_seconds(report.mean_detection_s)}, "
        f"median {_seconds(report.median_detection_s)}, p95 {_seconds(report.p95_detection_s)}",
        f"  exposed requests     {exposed} (mean, per rollback)",
        f"  inconclusive         {_rate(report.inconclusive_rate)}",
        f"  promoted             {_rate(report.promoted_rate)}",
    ]
    return "\n".join(lines)


# -- live rollouts -------------------------------------------------------------------------

ROLLOUT_SCHEMA = "gonogo.rollout/v1"


class RolloutFormat(StrEnum):
    """Formats of a rollout's status."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


FormatChoice = Annotated[
    RolloutFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
RolloutIdOption = Annotated[
    int | None,
    typer.Option(
        "--id",
        metavar="N",
        min=1,
        max=STORE_INT_MAX,
        help="The rollout (default: the latest one).",
    ),
]


def _plan(ws: Workspace) -> RolloutPlan:
    plan = ws.require_policy().policy.rollout
    if plan is None:
        raise RolloutError(
            "the policy has no [rollout] section",
            hint="add one: see docs/rollout.md#the-rollout-plan",
        )
    return plan


def _state_dir(ws: Workspace, record: RolloutRecord) -> Path:
    return ws.state_dir / "rollouts" / str(record.id)


def rollout_json(ws: Workspace, record: RolloutRecord) -> dict[str, Any]:
    """The rollout as JSON: record, outcome and timeline."""
    with ws.store.read() as conn:
        story = state.timeline(conn, record)
        latest = state.latest_decision(conn, record.id)
    outcome = record.state.value
    return {
        "schema": ROLLOUT_SCHEMA,
        "outcome": outcome,
        "rollout": record.to_json(),
        "latest": latest.to_json() if latest else None,
        "timeline": story,
    }


def _exit_for(record: RolloutRecord) -> int:
    if record.state is RolloutState.PROMOTED:
        return ExitCode.OK
    if record.state is RolloutState.ROLLED_BACK:
        return ExitCode.NO_GO
    return ExitCode.INTERRUPTED


def drive(
    ws: Workspace,
    record: RolloutRecord,
    *,
    view: LiveView | None = None,
    stop: threading.Event | None = None,
) -> RolloutRecord:
    """Build the rollout's components and run its controller until it ends or is stopped."""
    parts = components.build(record.plan, _state_dir(ws, record), record.components)
    stop = stop or threading.Event()
    previous = _on_sigterm(stop)
    try:
        with view or LiveView() as live:
            controller = Controller(ws, record, parts, listener=live, stop=stop)
            try:
                return controller.run()
            except KeyboardInterrupt:
                stop.set()
                return controller.record
    finally:
        parts.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_sigterm(stop: threading.Event) -> Any:
    """SIGTERM stops the controller between intervals; the rollout can be resumed."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())


def _document(ws: Workspace, record: RolloutRecord, fmt: RolloutFormat) -> str | None:
    """The rollout in ``fmt``, or None for text (each command words its own)."""
    if fmt is RolloutFormat.TEXT:
        return None
    doc = rollout_json(ws, record)
    if fmt is RolloutFormat.JSON:
        return json.dumps(doc, indent=2)
    return render_document(rollout_document(doc), fmt)


def _finish(ws: Workspace, record: RolloutRecord, fmt: RolloutFormat, out: Path | None) -> int:
    document = _document(ws, record, fmt)
    if document is not None:
        output.emit(document, out)
    else:
        text = headline(record)
        if record.state.active:
            text += "\n  stopped; continue with: gonogo rollout resume"
        output.emit(text, out)
    return _exit_for(record)


@app.command()
def start(
    ctx: typer.Context,
    version: Annotated[
        str, typer.Option("--version", "-v", metavar="VERSION", help="The candidate version.")
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="VERSION",
            help="The version production runs (default: the last promoted rollout's).",
        ),
    ] = None,
    release: ReleaseOption = None,
    fmt: FormatChoice = RolloutFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Roll a candidate out: staging checks, then canary steps judged against the baseline.

    Runs the controller in the foreground until the candidate is promoted (exit 0) or
    rolled back (exit 1). While a rollout is under way, starting another version hands it
    to the running controller, which restarts the analysis with it.
    """
    ws = workspace(ctx.ensure_object(Globals))
    plan = _plan(ws)
    components.validate(plan)
    _check_version(version, "--version")
    with ws.store.read() as conn:
        running = state.active(conn)
        promoted = state.last_promoted(conn)
        current = releases.current(conn, release)
    if running is not None:
        if not state.lease_holder_alive(running, ws.clock.now()):
            raise _undriven(running)
        if running.version == version:
            raise RolloutError(f"{version} is already being rolled out (#{running.id})")
        with ws.transaction() as tx:
            state.request(tx, running, state.RequestKind.RESTART, version)
        output.emit(
            f"rollout #{running.id}: the running controller restarts the analysis with "
            f"{version} (was {running.version})",
            out,
        )
        return ExitCode.OK
    if baseline is None:
        if promoted is None:
            raise UsageError(
                "no baseline version: nothing was promoted yet",
                hint="name the version production runs with --baseline VERSION",
            )
        baseline = promoted.version
    _check_version(baseline, "--baseline")
    if baseline == version:
        raise UsageError(f"the candidate {version} is the baseline itself", hint="name a new one")
    with ws.transaction() as tx:
        record = state.create(
            tx,
            version=version,
            baseline_version=baseline,
            release=current.version if current else None,
            plan=plan,
        )
    return _finish(ws, drive(ws, record), fmt, out)


def _undriven(record: RolloutRecord) -> RolloutError:
    return RolloutError(
        f"rollout #{record.id} of {record.version} is {record.describe()} "
        "and no controller drives it",
        hint="continue it with: gonogo rollout resume; or: gonogo rollout abort",
    )


def _check_version(version: str, option: str) -> None:
    # printable only: a version lands in terminals, logs and the deployer's command lines
    # (where a leading "-" would read as an option)
    printable = all(c.isprintable() and not c.isspace() for c in version)
    if not version or len(version) > 100 or not printable or version.startswith("-"):
        raise UsageError(
            f"{option} {version!r} is not a version",
            hint="use 1 to 100 printable characters without spaces, not starting with -",
        )


@app.command()
def resume(
    ctx: typer.Context, fmt: FormatChoice = RolloutFormat.TEXT, out: OutputOption = None
) -> int:
    """Continue the rollout under way after its controller stopped or was killed.

    The targets are adopted, the recorded traffic split is restored and the interrupted
    step is analysed again from a fresh e-process; a canary that did not survive is
    rolled back.
    """
    ws = workspace(ctx.ensure_object(Globals))
    record = _active(ws)
    if state.lease_holder_alive(record, ws.clock.now()):
        raise RolloutError(
            f"rollout #{record.id} is driven by controller {record.controller}",
            hint="follow it with: gonogo rollout watch",
        )
    return _finish(ws, drive(ws, record), fmt, out)


def _active(ws: Workspace) -> RolloutRecord:
    with ws.store.read() as conn:
        record = state.active(conn)
        if record is None:
            latest = state.history(conn, 1)
    if record is None:
        hint = "start one with: gonogo rollout start --version VERSION"
        if latest:
            hint = f"the latest, #{latest[0].id}, is {latest[0].describe()}; " + hint
        raise RolloutError("no rollout is under way", hint=hint)
    return record


@app.command()
def status(
    ctx: typer.Context,
    rollout_id: RolloutIdOption = None,
    show_all: Annotated[bool, typer.Option("--all", help="List recent rollouts.")] = False,
    fmt: FormatChoice = RolloutFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Show a rollout's state, its latest numbers and its decisions (never changes anything)."""
    ws = workspace(ctx.ensure_object(Globals), policy=False)
    with ws.store.read() as conn:
        if show_all:
            records = state.history(conn, 50)
        else:
            record = state.load(conn, rollout_id)
            story = [d for d in state.decisions(conn, record.id) if d.action != "continue"]
            latest = state.latest_decision(conn, record.id)
    if show_all:
        listing = [r.to_json() for r in records]
        if fmt is RolloutFormat.JSON:
            text = json.dumps({"schema": ROLLOUT_SCHEMA, "rollouts": listing}, indent=2)
        elif fmt in (RolloutFormat.MARKDOWN, RolloutFormat.HTML):
            text = render_document(rollouts_document(listing), fmt)
        else:
            text = "\n".join(headline(r) for r in records) or "no rollouts yet"
        output.emit(text, out)
        return ExitCode.OK
    document = _document(ws, record, fmt)
    if document is None:
        document = status_text(
            record, story, latest, unattended=state.unattended(record, ws.clock.now())
        )
    output.emit(document, out)
    return ExitCode.OK


@app.command()
def watch(
    ctx: typer.Context,
    rollout_id: RolloutIdOption = None,
    poll: Annotated[
        float,
        typer.Option(
            "--poll",
            parser=number_between(0.1, 60),
            metavar="0.1-60",
            help="Seconds between looks.",
        ),
    ] = 1.0,
) -> int:
    """Follow a rollout live until it ends: exit 0 when promoted, 1 when rolled back."""
    ws = workspace(ctx.ensure_object(Globals), policy=False)
    seen = 0
    with LiveView() as view:
        while True:
            with ws.store.read() as conn:
                record = state.load(conn, rollout_id)
                fresh = state.decisions(conn, record.id, after=seen)
            for item in fresh:
                view(Tick(record, item.action, item.reason, item.payload))
                seen = item.id
            if not fresh:
                view(Tick(record))
            if not record.state.active:
                break
            if state.unattended(record, ws.clock.now()):
                # nothing will ever change it: say so instead of watching forever
                raise _undriven(record)
            time.sleep(poll)
    output.emit(headline(record), None)
    return _exit_for(record)


def _ask(ws: Workspace, kind: state.RequestKind, wait_s: float) -> RolloutRecord:
    """Hand a request to the live controller, or act on it here when none runs."""
    record = _active(ws)
    if state.lease_holder_alive(record, ws.clock.now()):
        with ws.transaction() as tx:
            state.request(tx, record, kind)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with ws.store.read() as conn:
                record = state.load(conn, record.id)
            if not record.state.active:
                return record
            time.sleep(0.2)
        raise RolloutError(
            f"the controller of rollout #{record.id} has not acted on the {kind.value} "
            f"request within {wait_s:g} s",
            hint="follow it with: gonogo rollout watch",
        )
    parts = components.build(record.plan, _state_dir(ws, record), record.components)
    try:
        controller = Controller(ws, record, parts)
        reason = f"{'aborted' if kind is state.RequestKind.ABORT else 'promoted'} by {ws.actor}"
        if kind is state.RequestKind.ABORT:
            return controller.abort_now(reason)
        return controller.promote_now(reason + " (analysis skipped)")
    finally:
        parts.close()


WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        parser=number_between(1, 3600),
        metavar="1-3600",
        help="Seconds to wait for the controller to act.",
    ),
]


@app.command()
def abort(ctx: typer.Context, wait: WaitOption = 60.0, out: OutputOption = None) -> int:
    """Roll the canary back now: traffic to 0%, then the deployer's rollback."""
    ws = workspace(ctx.ensure_object(Globals), signer=True)
    record = _ask(ws, state.RequestKind.ABORT, wait)
    output.emit(headline(record), out)
    return ExitCode.OK if record.state is RolloutState.ROLLED_BACK else ExitCode.NO_GO


@app.command()
def promote(ctx: typer.Context, wait: WaitOption = 60.0, out: OutputOption = None) -> int:
    """Promote the canary to 100% now, skipping the remaining analysis (audited)."""
    ws = workspace(ctx.ensure_object(Globals), signer=True)
    record = _ask(ws, state.RequestKind.PROMOTE, wait)
    output.emit(headline(record), out)
    return ExitCode.OK if record.state is RolloutState.PROMOTED else ExitCode.NO_GO
