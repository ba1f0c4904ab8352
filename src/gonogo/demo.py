"""``gonogo demo``: a whole release, gates to canary, on this machine in about a minute.

The demo writes a small project into a temporary directory: a policy with a readiness
gate (a changelog entry, signed by engineering), a staging gate (a real HTTP check of the
candidate) and a rollout plan; then it

1. opens release 2.0.0, checks it (no-go: nobody signed), signs, checks again (go);
2. starts v1 of the bundled sample service as the baseline and the candidate v2 — by
   default a *regressed* v2 (more errors, slower), with ``healthy=True`` an equal one —
   with the local deployer, behind the builtin router, under load from the built-in
   load generator;
3. runs the rollout: staging checks, then canary steps 20% → 40% → 60% judged by the
   sequential judge every second, and
4. reports the outcome (``rolled_back`` or ``promoted``) with the timeline of decisions
   and the numbers behind each, then stops every process it started.

Nothing is downloaded and nothing outside the temporary directory is touched.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gonogo.cli.context import close_workspaces
from gonogo.clock import SystemClock
from gonogo.errors import ExitCode, GonogoError, UsageError
from gonogo.policy.load import find_policy, load_policy
from gonogo.rollout import components as parts_factory
from gonogo.rollout import state
from gonogo.rollout.controller import Controller, Tick
from gonogo.rollout.load import LoadGenerator
from gonogo.rollout.state import RolloutRecord
from gonogo.store.db import default_url, open_store
from gonogo.workspace import Workspace

DEMO_SCHEMA = "gonogo.demo/v1"


class DemoError(GonogoError):
    """A step of the demo did not do what the demo expects (a bug, or a broken machine)."""

    exit_code = ExitCode.INTERNAL


DEMO_USER = "demo@gonogo.invalid"

BASELINE = {"error_rate": 0.001, "latency_ms": 8.0}
REGRESSED = {"error_rate": 0.05, "latency_ms": 14.0}

POLICY = """\
version = 1

[project]
name = "gonogo-demo"

[owners]
engineering = ["{user}"]
operations = ["{user}"]

[[gates]]
id = "readiness"
title = "Ready to ship"
phase = 4
owners = ["engineering"]

[[gates.criteria]]
id = "changelog"
check = "file"
title = "The release has a changelog entry"
params = {{ path = "CHANGELOG.md", sections = ["2.0.0"] }}

[[gates]]
id = "staging"
title = "Candidate answers in staging"
phase = 7

[[gates.criteria]]
id = "smoke"
check = "command"
title = "The candidate answers its health check"
timeout = 60
params = {{ run = [{python}, "-c", {probe}], expect_exit = 0 }}

[rollout]
judge = "sequential"
alpha = 0.01
interval_s = 1
max_inconclusive = 2

[rollout.staging]
gates = ["staging"]
smoke_requests = 20
smoke_path = "/healthz"

[[rollout.steps]]
weight = 20
warmup_s = 2
min_dwell_s = 5
max_dwell_s = 60

[[rollout.steps]]
weight = 40
warmup_s = 1
min_dwell_s = 5
max_dwell_s = 60

[[rollout.steps]]
weight = 60
warmup_s = 1
min_dwell_s = 5
max_dwell_s = 60

[[rollout.metrics]]
name = "errors"
kind = "errors"
tolerance = 0.5
tolerance_abs = 0.03

[[rollout.metrics]]
name = "latency_p50"
kind = "latency"
quantile = 0.5
group = "latency"
tolerance = 0.3

[[rollout.metrics]]
name = "latency_p95"
kind = "latency"
quantile = 0.95
group = "latency"
tolerance = 0.6

[[rollout.guardrails]]
metric = "error_rate"
max = 0.3
window_s = 10
min_requests = 30

[rollout.deployer]
type = "local"
command = [
  {python}, "-m", "gonogo.rollout.sample", "--version", "{{version}}", "--port", "{{port}}",
  "--error-rate", "{base_errors}", "--latency-ms", "{base_latency}",
]
health_path = "/healthz"

[rollout.deployer.versions.v2]
args = [{v2_args}]

[rollout.router]
type = "builtin"
listen = "127.0.0.1:{port}"

[rollout.source]
type = "builtin"
"""

PROBE = (
    "import os, urllib.request as u; url = os.environ['GONOGO_CANARY_URL']; "
    "u.urlopen(url + '/healthz', timeout=10).read(); print('candidate answers')"
)

CHANGELOG = "# Changelog\n\n## 2.0.0\n\nFaster checkout; new orders API.\n"


@dataclass
class DemoResult:
    """What the demo did."""

    outcome: str
    healthy: bool
    steps: list[dict[str, Any]] = field(default_factory=list)
    rollout: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``schema``, ``outcome``, ``timeline`` and the rest."""
        return {
            "schema": DEMO_SCHEMA,
            "outcome": self.outcome,
            "healthy_candidate": self.healthy,
            "steps": self.steps,
            "rollout": self.rollout,
            "timeline": self.timeline,
            "load": self.load,
        }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml_list(items: list[str]) -> str:
    return ", ".join(json.dumps(item) for item in items)


def write_project(root: Path, *, healthy: bool, port: int) -> None:
    """The demo project: policy, changelog."""
    candidate = BASELINE if healthy else REGRESSED
    v2_args = [
        "--error-rate",
        str(candidate["error_rate"]),
        "--latency-ms",
        str(candidate["latency_ms"]),
    ]
    text = POLICY.format(
        user=DEMO_USER,
        python=json.dumps(sys.executable),
        probe=json.dumps(PROBE),
        base_errors=BASELINE["error_rate"],
        base_latency=BASELINE["latency_ms"],
        v2_args=_toml_list(v2_args),
        port=port,
    )
    try:
        (root / "gonogo.toml").write_text(text, encoding="utf-8")
        (root / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    except OSError as exc:
        raise DemoError(
            f"cannot write the demo project in {root}: {exc.strerror or exc}",
            hint="name a folder you can write to with --keep",
        ) from None


def _cli(root: Path, *args: str) -> tuple[int, str]:
    """Run a gonogo command on the demo project; its output is returned, not printed."""
    from gonogo.cli.main import main  # noqa: PLC0415 - the CLI imports this module

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = main(["--project", str(root), *args])
    close_workspaces()
    return code, buffer.getvalue()


def walk_gates(root: Path, say: Callable[[str], None]) -> list[dict[str, Any]]:
    """Release 2.0.0 through its readiness gate: check, sign, check again."""
    steps: list[dict[str, Any]] = []

    def run(title: str, expect: int, *args: str) -> None:
        code, text = _cli(root, *args)
        command = "gonogo " + " ".join(args)
        steps.append({"step": title, "command": command, "exit": code})
        say(f"{title}: {command} -> exit {code}")
        if code != expect:
            last = text.strip().splitlines()[-1] if text.strip() else "no output"
            raise DemoError(f"the demo's step {command!r} exited {code}: {last}")

    run("open release 2.0.0", 0, "release", "create", "2.0.0")
    run("check the readiness gate: no-go, nobody signed yet", 1, "check", "--gate", "readiness")
    run("engineering signs", 0, "signoff", "readiness", "--role", "engineering")
    run("check again: go", 0, "check", "--gate", "readiness")
    return steps


@contextlib.contextmanager
def _project(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        try:
            keep.mkdir(parents=True, exist_ok=True)
            taken = next(keep.iterdir(), None)
        except OSError as exc:
            raise UsageError(
                f"--keep {keep}: cannot use the folder: {exc.strerror or exc}",
                hint="name a new or empty folder you can write to",
            ) from None
        if taken is not None:
            # the demo writes gonogo.toml, CHANGELOG.md and a store: never over a project
            raise UsageError(
                f"--keep {keep} is not empty (it holds {taken.name})",
                hint="name a new or empty folder",
            )
        yield keep
        return
    root = Path(tempfile.mkdtemp(prefix="gonogo-demo-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_demo(
    *,
    healthy: bool = False,
    rps: float = 200.0,
    listener: Callable[[Tick], None] | None = None,
    say: Callable[[str], None] = lambda line: None,
    workdir: Path | None = None,
    seed: int = 7,
) -> DemoResult:
    """Run the whole demo; see the module docstring."""

    with _project(workdir) as root:
        port = _free_port()
        write_project(root, healthy=healthy, port=port)
        saved_user = os.environ.get("GONOGO_USER")
        os.environ["GONOGO_USER"] = DEMO_USER
        try:
            steps = walk_gates(root, say)
            return _rollout(root, port, healthy, rps, listener, say, steps, seed)
        finally:
            if saved_user is None:
                os.environ.pop("GONOGO_USER", None)
            else:
                os.environ["GONOGO_USER"] = saved_user


def _rollout(
    root: Path,
    port: int,
    healthy: bool,
    rps: float,
    listener: Callable[[Tick], None] | None,
    say: Callable[[str], None],
    steps: list[dict[str, Any]],
    seed: int,
) -> DemoResult:
    loaded = load_policy(find_policy(root))
    store = open_store(default_url(root / ".gonogo"))
    ws = Workspace(root=root, store=store, actor=DEMO_USER, policy=loaded, clock=SystemClock())
    plan = loaded.policy.rollout
    if plan is None:  # pragma: no cover - the demo's policy has one
        raise DemoError("the demo policy lost its [rollout] section")
    load = LoadGenerator(f"http://127.0.0.1:{port}/", rps, seed=seed)
    started = threading.Event()

    def on_tick(tick: Tick) -> None:
        if not started.is_set() and tick.record.components.get("router_url"):
            started.set()
            load.start()
        if listener is not None:
            listener(tick)

    with ws.transaction() as tx:
        record = state.create(tx, version="v2", baseline_version="v1", release="2.0.0", plan=plan)
    say(f"rollout #{record.id}: v2 over v1, {len(plan.steps)} canary steps, load {rps:g} rps")
    parts = parts_factory.build(plan, root / ".gonogo" / "rollouts" / str(record.id))
    try:
        final: RolloutRecord = Controller(ws, record, parts, listener=on_tick).run()
    finally:
        load.stop()
        deployer = parts.deployer
        stop_all = getattr(deployer, "stop_all", None)
        if callable(stop_all):
            stop_all()
        parts.close()
    with ws.store.read() as conn:
        story = state.timeline(conn, final)
    store.close()
    return DemoResult(
        outcome=final.state.value,
        healthy=healthy,
        steps=steps,
        rollout=final.to_json(),
        timeline=story,
        load=load.stats().to_json(),
    )
