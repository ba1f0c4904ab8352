"""`gonogo rollout` and `gonogo demo` on bad input, the plan's validation, the docs,
and the store-level pieces of the controller (lease, one active rollout, increments)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from gonogo.policy.load import find_policy, load_policy
from gonogo.rollout import components, plan, state
from gonogo.rollout.analysis.histogram import LatencyHistogram
from gonogo.rollout.analysis.interface import Moments, VariantSample
from gonogo.rollout.controller import increment
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.state import RolloutState
from gonogo.store.db import default_url, open_store
from gonogo.testing import FixedClock
from gonogo.workspace import Workspace
from tests.helpers import Project
from tests.rollout.rollouts import RolloutProject, rollout_project

__all__ = ["rollout_project"]

DOCS = Path(__file__).resolve().parents[2] / "docs"

NO_ROLLOUT_POLICY = """
version = 1
[project]
name = "p"
[owners]
operations = ["olga@example.com"]
[[gates]]
id = "g"
title = "G"
phase = 7
[[gates.criteria]]
id = "c"
check = "command"
params = { run = ["true"] }
"""


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    monkeypatch.setenv("GONOGO_USER", "olga@example.com")
    return Project(tmp_path, capsys, monkeypatch)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "bound"),
    [
        # SQLite holds 64-bit integers: a larger id or limit crashed the query
        (("rollout", "status", "--id", "99999999999999999999"), "9223372036854775807"),
        (("audit", "log", "--limit", "99999999999999999999"), "9223372036854775807"),
        (("rollout", "simulate", "s.toml", "--runs", "99999999999"), "1000000"),
    ],
)
def test_numbers_beyond_what_can_be_done_are_one_line(
    project: Project, args: tuple[str, ...], bound: str
) -> None:
    project.policy(NO_ROLLOUT_POLICY)
    result = project.run(*args)
    assert result.code == 2
    assert f"less than or equal to {bound}" in one_line(result.err)


def test_start_without_a_rollout_plan_says_so_in_one_line(project: Project) -> None:
    project.policy(NO_ROLLOUT_POLICY)
    result = project.run("rollout", "start", "--version", "v2", "--baseline", "v1")
    assert result.code == 2
    assert "the policy has no [rollout] section" in one_line(result.err)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '[rollout.router]\ntype = "carrier-pigeon"',
            "rollout.router: unknown type 'carrier-pigeon'",
        ),
        (
            '[rollout.deployer]\ntype = "local"\ncommand = "serve"\ncolour = 1',
            "rollout.deployer.colour",
        ),
        (
            '[rollout.deployer]\ntype = "local"\ncommand = "serve"\nhealth_timeout_s = inf',
            "rollout.deployer.health_timeout_s",
        ),
        (
            '[rollout.deployer]\ntype = "command"\ndeploy = "d"\nrollback = "r"\npromote = "p"\n'
            'timeout_s = 1e12\n[rollout.deployer.urls]\nbaseline = "http://127.0.0.1:1"\n'
            'canary = "http://127.0.0.1:2"',
            "rollout.deployer.timeout_s",
        ),
        (
            '[rollout.router]\ntype = "builtin"\nupstream_timeout_s = 1e12',
            "rollout.router.upstream_timeout_s",
        ),
        (
            '[rollout.source]\ntype = "builtin"\n'
            '[rollout.router]\ntype = "nginx"\nstate_dir = "/tmp/x"',
            "the builtin source reads the builtin router's measurements",
        ),
    ],
)
def test_bad_component_tables_are_refused_before_anything_runs(
    rollout_project: RolloutProject, project: Project, table: str, expected: str
) -> None:
    rollout_project.write()
    text = (rollout_project.root / "gonogo.toml").read_text(encoding="utf-8")
    for header in ("[rollout.router]", "[rollout.deployer]", "[rollout.source]"):
        if header in table:
            start = text.index(header)
            end = text.find("\n[", start + 1)
            text = text[:start] + text[end + 1 :] if end != -1 else text[:start]
    project.policy(text + "\n" + table + "\n")
    result = project.run("rollout", "start", "--version", "v2", "--baseline", "v1")
    assert result.code == 2
    assert expected in one_line(result.err)
    assert not (project.root / ".gonogo" / "rollouts").exists()


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "[[rollout.steps]]\nweight = 50\n[[rollout.steps]]\nweight = 20",
            "step weights must increase",
        ),
        ("[[rollout.steps]]\nweight = 100", "rollout.steps[0].weight"),
        # nginx and Gateway API split in hundredths of a percent: 0.004 would serve 0%
        ("[[rollout.steps]]\nweight = 0.004", "more than two decimals"),
        (
            "[[rollout.steps]]\nweight = 10\nmin_dwell_s = 50\nmax_dwell_s = 10",
            "min_dwell_s 50 exceeds",
        ),
        (
            '[[rollout.steps]]\nweight = 10\n[rollout.staging]\ngates = ["nope"]',
            "staging gate 'nope'",
        ),
        (
            '[[rollout.steps]]\nweight = 10\n[[rollout.metrics]]\nname = "p99"\nkind = "latency"',
            "needs a quantile",
        ),
        (
            '[[rollout.steps]]\nweight = 10\n[[rollout.guardrails]]\nmetric = "error_rate"',
            "neither max nor min",
        ),
        (
            '[[rollout.steps]]\nweight = 10\n[[rollout.metrics]]\nname = "errors"\nkind = "errors"'
            '\n[[rollout.metrics]]\nname = "p99"\nkind = "latency"\nquantile = 0.99'
            '\ngroup = "errors"',
            "group 'errors' has the name of a metric outside it",
        ),
        (
            '[[rollout.steps]]\nweight = 10\n[[rollout.metrics]]\nname = "p99"\nkind = "latency"'
            '\nquantile = 0.99\ngroup = "tail latency"',
            "rollout.metrics[0].group",
        ),
        # the first look would come after the step's end: the step could never be judged
        (
            "interval_s = 100\n[[rollout.steps]]\nweight = 10\nmax_dwell_s = 5",
            "interval_s 100 exceeds steps[0].max_dwell_s 5",
        ),
        # each analysis reads the source and writes the store: not in a tight loop
        (
            "interval_s = 0.001\n[[rollout.steps]]\nweight = 10",
            "rollout.interval_s: Input should be greater than or equal to 0.1",
        ),
    ],
)
def test_a_malformed_plan_names_the_key(project: Project, snippet: str, expected: str) -> None:
    project.policy(NO_ROLLOUT_POLICY + "\n[rollout]\n" + snippet + "\n")
    result = project.run("policy", "validate")
    assert result.code == 2
    assert expected in result.err
    assert "gonogo.toml:" in result.err


def test_start_needs_a_baseline_for_the_first_rollout(
    rollout_project: RolloutProject, project: Project
) -> None:
    rollout_project.write()
    project.policy((rollout_project.root / "gonogo.toml").read_text(encoding="utf-8"))
    result = project.run("rollout", "start", "--version", "v2")
    assert result.code == 2
    assert "no baseline version: nothing was promoted yet" in one_line(result.err)
    same = project.run("rollout", "start", "--version", "v1", "--baseline", "v1")
    assert "is the baseline itself" in one_line(same.err)


@pytest.mark.parametrize(
    ("option", "version"),
    [
        ("--version", "v\x1b[31m"),  # a terminal escape would reach every status and log
        ("--version", "v\x7f"),
        ("--version", "v\u2028"),  # a line separator
        ("--version", "-x"),  # read as an option by the deployer's command
        ("--baseline", "v1\x1b]0;x\x07"),
    ],
)
def test_an_unprintable_version_is_refused_before_anything_runs(
    rollout_project: RolloutProject, project: Project, option: str, version: str
) -> None:
    rollout_project.write()
    project.policy((rollout_project.root / "gonogo.toml").read_text(encoding="utf-8"))
    versions = {"--version": "v2", "--baseline": "v1", option: version}
    result = project.run("rollout", "start", *[x for pair in versions.items() for x in pair])
    assert result.code == 2
    line = one_line(result.err)
    assert f"{option} {version!r} is not a version" in line
    assert "\x1b" not in line and "\x7f" not in line
    assert not (project.root / ".gonogo" / "rollouts").exists()
    assert project.run("rollout", "status").code == 2  # no rollout was recorded


def test_a_stored_plan_is_read_back_even_if_checks_were_added_since() -> None:
    stored = {"steps": [{"weight": 10, "max_dwell_s": 5}], "interval_s": 100}
    with pytest.raises(ValueError, match="exceeds steps"):
        plan.RolloutPlan.model_validate(stored)
    read = plan.RolloutPlan.model_validate(stored, context={plan.STORED: True})
    assert read.interval_s == 100


@pytest.mark.parametrize("command", [["resume"], ["abort"], ["promote"]])
def test_commands_on_no_rollout_say_so(
    rollout_project: RolloutProject, project: Project, command: list[str]
) -> None:
    rollout_project.write()
    project.policy((rollout_project.root / "gonogo.toml").read_text(encoding="utf-8"))
    result = project.run("rollout", *command)
    assert result.code == 2
    assert "no rollout is under way" in one_line(result.err)
    status = project.run("rollout", "status")
    assert "no rollout yet" in one_line(status.err)


def workspace(root: Path, clock: FixedClock) -> Workspace:
    loaded = load_policy(find_policy(root))
    return Workspace(root, open_store(default_url(root / ".gonogo")), "olga", loaded, clock)


def test_only_one_rollout_is_under_way_and_a_live_lease_is_respected(
    rollout_project: RolloutProject,
) -> None:
    rollout_project.write()
    clock = FixedClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    ws = workspace(rollout_project.root, clock)
    the_plan = ws.require_policy().policy.rollout
    assert the_plan is not None
    with ws.transaction() as tx:
        first = state.create(tx, version="v2", baseline_version="v1", release=None, plan=the_plan)
    with pytest.raises(RolloutError, match="rollout #1 of v2 is pending"), ws.transaction() as tx:
        state.create(tx, version="v3", baseline_version="v1", release=None, plan=the_plan)
    with ws.transaction() as tx:
        held = state.claim(tx, first, "token-a")
    assert state.lease_holder_alive(held, clock.now())  # this very process holds it
    with pytest.raises(RolloutError, match="is driven by controller"), ws.transaction() as tx:
        state.claim(tx, held, "token-b")
    later = clock.now() + timedelta(seconds=state.LEASE_S + 1)
    assert not state.lease_holder_alive(held, later)  # a stale heartbeat can be taken over
    ws.store.close()


def test_increments_between_cumulative_totals_are_unknown_after_a_total_went_down() -> None:
    before = VariantSample(100, 5, LatencyHistogram({10: 60, 20: 40}))
    now = VariantSample(150, 6, LatencyHistogram({10: 80, 20: 70}))
    step = increment(now, before)
    assert step is not None
    assert (step.requests, step.errors) == (50, 1)
    assert dict(step.latency.counts) == {10: 20, 20: 30}
    # a restarted process, or a replica that left a Prometheus sum: what was served in
    # between cannot be told (the new total would count the other replicas' history again)
    assert increment(VariantSample(7, 0, LatencyHistogram({10: 7})), before) is None
    assert increment(VariantSample(160, 6, LatencyHistogram({10: 50, 20: 110})), before) is None
    fewer = VariantSample(150, 6, now.latency, {"cpu": Moments(1, 2.0, 4.0)})
    assert (
        increment(fewer, VariantSample(100, 5, before.latency, {"cpu": Moments(3, 6.0, 12.0)}))
        is None
    )


def plan_models() -> list[type[BaseModel]]:
    return [
        plan.RolloutPlan,
        plan.StagingPlan,
        plan.StepPlan,
        plan.MetricPlan,
        plan.GuardrailPlan,
    ]


@pytest.mark.parametrize("model", plan_models(), ids=lambda m: m.__name__)
def test_rollout_md_documents_every_key_of_the_plan(model: type[BaseModel]) -> None:
    text = (DOCS / "rollout.md").read_text(encoding="utf-8")
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert missing == []


def test_the_plan_example_in_rollout_md_is_a_valid_plan(tmp_path: Path) -> None:
    text = (DOCS / "rollout.md").read_text(encoding="utf-8")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = NO_ROLLOUT_POLICY.replace('id = "g"', 'id = "staging"') + "\n" + block
    (tmp_path / "gonogo.toml").write_text(policy, encoding="utf-8")
    loaded = load_policy(find_policy(tmp_path))
    assert loaded.policy.rollout is not None
    components.validate(loaded.policy.rollout)
    assert [s.weight for s in loaded.policy.rollout.steps] == [5, 25]


def test_the_rollout_states_are_the_documented_ones() -> None:
    text = (DOCS / "rollout.md").read_text(encoding="utf-8")
    for value in RolloutState:
        assert value.value in text


def test_demo_rejects_bad_options_in_one_line(project: Project) -> None:
    result = project.run("demo", "--rps", "5")
    assert result.code == 2
    assert "--rps" in result.err


def test_a_promotion_inside_the_absolute_tolerance_says_so_with_its_numbers() -> None:
    from gonogo.rollout.analysis.interface import Finding, MetricKind
    from gonogo.rollout.analysis.sequential import _promoted

    errors = Finding(
        "errors", MetricKind.ERRORS, 0.001, 0.0, 1.0, -1.0, math.inf, 0.5, False, True,
        "0 errors in 400 canary requests, 3 in 3000 baseline requests; "
        "rate difference at most 1.2%",
    )  # fmt: skip
    p50 = Finding("latency_p50", MetricKind.LATENCY, 8.0, 8.1, 1.0, -0.05, 0.12, 0.3, True, True)
    text = _promoted([errors, p50], 12.0)
    assert "unbounded" not in text
    assert "errors within its absolute tolerance (0 errors in 400 canary requests" in text
    assert "rate difference at most 1.2%" in text
    assert "latency_p50 at most +12.0% (tolerance 30%)" in text


def test_the_live_view_names_each_metric_s_group() -> None:
    from rich.console import Console

    from gonogo.cli.rollout_view import findings_table
    from gonogo.rollout.analysis.interface import Finding, MetricKind

    p95 = Finding(
        "latency_p95", MetricKind.LATENCY, 80.0, 95.0, 41.0, 0.02, 0.3, 0.2, True, False,
        group="latency",
    )  # fmt: skip
    errors = Finding("errors", MetricKind.ERRORS, 0.01, 0.01, 1.0, -0.2, 0.3, 0.5, False, True)
    table = findings_table({"decision": {"findings": [errors.to_json(), p95.to_json()]}})
    assert table is not None
    console = Console(record=True, width=120)
    console.print(table)
    lines = console.export_text().splitlines()
    assert any(line.startswith("latency_p95 [latency]") and "41" in line for line in lines)
    assert any(line.startswith("errors ") and "[" not in line.split()[0] for line in lines)


def _tick_record(version: str, reason: str) -> state.RolloutRecord:
    the_plan = plan.RolloutPlan.model_validate({"steps": [{"weight": 10}]})
    return state.RolloutRecord(
        1, version, "v1", None, RolloutState.ROLLED_BACK, 0, 0.0, None, 0, "d", the_plan, {},
        reason, None, None, "2026-01-01T00:00:00.000000Z", "olga", "2026-01-01T00:00:00.000000Z",
    )  # fmt: skip


def test_the_piped_view_keeps_each_change_on_one_line() -> None:
    import io

    from rich.console import Console

    from gonogo.cli.rollout_view import LiveView
    from gonogo.rollout.controller import Tick

    reason = "staging: the candidate could not be deployed: " + "x" * 200
    stream = io.StringIO()
    with LiveView(Console(file=stream, width=80), live=False) as view:
        view(Tick(_tick_record("v2", reason), "rollback", reason, {}))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the headline and the decision, however long
    assert lines[0].endswith("x" * 200)


def test_the_live_view_shows_brackets_in_versions_and_reasons_as_text() -> None:
    import io

    from rich.console import Console

    from gonogo.cli.rollout_view import LiveView
    from gonogo.rollout.controller import Tick

    # "[/]" was read as markup and crashed the terminal view; "[rollout.source]" vanished
    reason = "prometheus unreachable; check [rollout.source] url"
    stream = io.StringIO()
    console = Console(file=stream, width=200, force_terminal=True, color_system=None)
    with LiveView(console, live=True) as view:
        view(Tick(_tick_record("v[/]", reason)))
    shown = " ".join(stream.getvalue().split())  # a terminal may wrap
    assert "v[/] over v1" in shown
    assert "check [rollout.source] url" in shown
