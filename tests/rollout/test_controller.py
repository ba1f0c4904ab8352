"""The rollout controller end to end: real sample-service processes, the builtin router,
generated load, the project's real SQLite store, and real controller processes that get
killed and resumed. No test asserts a duration: they poll the store with deadlines."""

from __future__ import annotations

import json
import os
import signal
import xml.etree.ElementTree as ET

import pytest

from gonogo.cli.main import main
from gonogo.rollout.controller import CRASH_AT_ENV
from gonogo.rollout.state import RolloutState
from tests.rollout.processes import marked, refuses, running
from tests.rollout.rollouts import ERRORS_ONLY, USER, RolloutProject, rollout_project, weights

__all__ = ["rollout_project"]

pytestmark = pytest.mark.slow


def run(project: RolloutProject, *args: str) -> int:
    return main(["--project", str(project.root), *args])


def canary_pid(project: RolloutProject) -> int:
    record = project.record()
    assert record is not None
    return int(record.components["deployer"]["variants"]["canary"]["pid"])


def test_a_healthy_canary_is_promoted_step_by_step(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(weights=(20, 50), warmup=2, max_inconclusive=3)
    rollout_project.load()
    code = run(rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1")
    out = capsys.readouterr().out
    record = rollout_project.record()
    assert record is not None
    assert code == 0, out
    assert record.state is RolloutState.PROMOTED
    story = rollout_project.timeline()
    assert weights(story) == [20.0, 50.0, 100.0]
    events = [e["event"] for e in story]
    assert events[:3] == ["rollout.started", "rollout.staging", "rollout.canary"]
    assert events.count("rollout.step_passed") == 1
    assert events[-1] == "rollout.promoted"
    verdicts = [e["action"] for e in story if e["event"] == "rollout.decision"]
    assert "rollback" not in verdicts  # a loaded machine may re-run a step as inconclusive
    promotions = [e for e in story if e.get("action") == "promote_step"]
    assert len(promotions) == 2
    assert all(d["totals"]["canary"]["requests"] > 0 for d in promotions)
    assert rollout_project.audit_ok()


def test_the_next_rollout_takes_over_the_baseline_the_last_one_left_serving(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(
        weights=(20,),
        canary={"v2": ["--error-rate", "0.6"], "v3": ["--error-rate", "0.6"]},
        extra='[[rollout.guardrails]]\nmetric = "error_rate"\nmax = 0.3\nwindow_s = 5\n'
        "min_requests = 10\n",
    )
    rollout_project.load()

    assert run(rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1") == 1
    first = rollout_project.record()
    assert first is not None
    baseline = first.components["deployer"]["variants"]["baseline"]["pid"]
    assert run(rollout_project, "rollout", "start", "--version", "v3", "--baseline", "v1") == 1
    capsys.readouterr()

    second = rollout_project.record()
    assert second is not None and second.id == first.id + 1
    assert second.state is RolloutState.ROLLED_BACK
    # the same v1 process served both rollouts, and nothing else is left running
    assert second.components["deployer"]["variants"]["baseline"]["pid"] == baseline
    assert marked(rollout_project.token) == [baseline]


def test_a_regressed_canary_is_rolled_back_and_taken_down(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(
        weights=(20, 50),
        min_dwell=5,
        canary={"v2": ["--error-rate", "0.6"]},
        extra='[[rollout.guardrails]]\nmetric = "error_rate"\nmax = 0.3\nwindow_s = 5\n'
        "min_requests = 10\n",
    )
    rollout_project.load()
    code = run(
        rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1", "-f", "json"
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["schema"] == "gonogo.rollout/v1"
    assert report["outcome"] == "rolled_back"
    story = report["timeline"]
    assert weights(story) == [20.0, 0.0]
    decision = next(e for e in story if e["event"] == "rollout.decision")
    assert decision["action"] == "rollback"
    assert decision["totals"]["canary"]["error_rate"] > 0.3
    assert story[-1]["event"] == "rollout.rolled_back"
    record = rollout_project.record()
    assert record is not None and record.weight == 0.0
    assert refuses(record.components["canary"]["url"])  # the deployer took it down
    assert rollout_project.audit_ok()
    # the same story as Markdown and as an HTML page
    assert run(rollout_project, "rollout", "status", "-f", "markdown") == 0
    page = capsys.readouterr().out
    assert page.startswith("# Rollout #1: v2 over v1\n")
    assert "❌ **rolled back**: " in page
    assert "| canary | " in page and "| decision: rollback | 20 |" in page
    assert "| weight | 0 | 20% → 0% |" in page
    assert run(rollout_project, "rollout", "status", "-f", "html") == 0
    html = ET.fromstring(capsys.readouterr().out)  # noqa: S314 - our own output
    cells = [["".join(td.itertext()) for td in tr] for tr in html.iter("tr")]
    assert ["state", "rolled back"] in cells
    assert any(row[1:3] == ["decision: rollback", "20"] for row in cells)


def test_a_canary_that_dies_is_rolled_back(rollout_project: RolloutProject) -> None:
    rollout_project.write(weights=(20,), min_dwell=60, max_dwell=120)
    rollout_project.load()
    controller = rollout_project.spawn("rollout", "start", "--version", "v2", "--baseline", "v1")
    rollout_project.wait(lambda r: r.state is RolloutState.CANARY and r.weight == 20, "step 1")
    os.kill(canary_pid(rollout_project), signal.SIGKILL)
    controller.wait(timeout=120)
    record = rollout_project.record()
    assert record is not None
    assert controller.returncode == 1
    assert record.state is RolloutState.ROLLED_BACK
    assert record.reason is not None and "unhealthy" in record.reason
    assert weights(rollout_project.timeline())[-1] == 0.0


def test_no_traffic_is_inconclusive_and_never_promotes(rollout_project: RolloutProject) -> None:
    rollout_project.write(weights=(20,), min_dwell=0, max_dwell=1.5, max_inconclusive=1)
    code = run(rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1")
    record = rollout_project.record()
    assert record is not None
    assert code == 1
    assert record.state is RolloutState.ROLLED_BACK
    story = rollout_project.timeline()
    verdicts = [e for e in story if e["event"] == "rollout.decision"]
    assert [d["action"] for d in verdicts] == ["inconclusive", "inconclusive"]
    assert all(d["basis"] == "no_traffic" for d in verdicts)
    assert "no traffic" in (record.reason or "")
    assert 100.0 not in weights(story)


def test_a_failed_staging_gate_rolls_back_before_any_traffic(
    rollout_project: RolloutProject,
) -> None:
    rollout_project.write(staging_exit=1)
    rollout_project.load()
    code = run(rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1")
    record = rollout_project.record()
    assert record is not None
    assert code == 1
    assert record.state is RolloutState.ROLLED_BACK
    assert (record.reason or "").startswith("staging: staging gate staging failed")
    assert all(w == 0.0 for w in weights(rollout_project.timeline()))


def test_an_unreachable_metric_source_rolls_back_past_its_limit(
    rollout_project: RolloutProject,
) -> None:
    rollout_project.write(
        weights=(20,),
        source='type = "prometheus"\nurl = "http://127.0.0.1:9"\ntimeout_s = 1',
        max_source_errors=2,
    )
    rollout_project.load()
    code = run(rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1")
    record = rollout_project.record()
    assert record is not None
    assert code == 1
    assert "metric source unreadable 3 times in a row (limit 2)" in (record.reason or "")
    story = rollout_project.timeline()
    assert 100.0 not in weights(story)
    unread = [e for e in story if e["event"] == "rollout.decision"]
    assert [e["action"] for e in unread] == ["inconclusive"] * 3  # never healthy
    source = unread[0]["source"]  # each decision names what it measured and how
    assert source["url"] == "http://127.0.0.1:9"
    assert "sample_requests_total" in source["queries"]["requests"]


def test_abort_from_another_process_rolls_back_the_running_rollout(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(weights=(20,), min_dwell=60, max_dwell=120, warmup=2)
    rollout_project.load()
    controller = rollout_project.spawn("rollout", "start", "--version", "v2", "--baseline", "v1")
    rollout_project.wait(lambda r: r.state is RolloutState.CANARY and r.weight == 20, "step 1")
    assert run(rollout_project, "rollout", "abort") == 0
    controller.wait(timeout=120)
    record = rollout_project.record()
    assert record is not None
    assert record.state is RolloutState.ROLLED_BACK
    assert record.reason == "aborted by olga@example.com"
    events = [e["event"] for e in rollout_project.timeline()]
    assert "rollout.abort_requested" in events
    assert "rolled_back" in capsys.readouterr().out


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_killed_controller_is_resumed_and_finishes_the_rollout(
    rollout_project: RolloutProject, store: str, request: pytest.FixtureRequest
) -> None:
    """With the project's SQLite store, and with the team's shared PostgreSQL (a real
    server on loopback) holding the lease, the written-ahead weights and the audit chain."""
    if store == "postgresql":
        rollout_project.database_url = request.getfixturevalue("postgres_url")
    rollout_project.write(weights=(20, 50), min_dwell=2, metrics=ERRORS_ONLY)
    rollout_project.load()
    controller = rollout_project.spawn("rollout", "start", "--version", "v2", "--baseline", "v1")
    before = rollout_project.wait(
        lambda r: r.state is RolloutState.CANARY and r.weight == 20 and r.step == 0, "step 1"
    )
    controller.send_signal(signal.SIGKILL)
    controller.wait(timeout=30)
    pids = [v["pid"] for v in before.components["deployer"]["variants"].values()]
    assert all(running(pid) for pid in pids)  # the targets outlive their controller
    killed = rollout_project.record()
    assert killed is not None and killed.state is RolloutState.CANARY
    resumed = rollout_project.spawn("rollout", "resume")
    resumed.wait(timeout=180)
    record = rollout_project.record()
    assert record is not None
    assert resumed.returncode == 0, resumed.stderr.read() if resumed.stderr else ""
    assert record.state is RolloutState.PROMOTED
    story = rollout_project.timeline()
    assert "rollout.resumed" in [e["event"] for e in story]
    assert weights(story)[-2:] == [50.0, 100.0]
    assert rollout_project.audit_ok()
    # nothing of it in a SQLite file when the store is PostgreSQL
    assert (rollout_project.root / ".gonogo" / "state.db").exists() == (store == "sqlite")


def test_an_abort_whose_controller_was_killed_before_acting_is_done_on_resume(
    rollout_project: RolloutProject,
) -> None:
    """The controller reads the abort request and is killed before it acts: the request
    stays pending, and the resumed controller rolls back before touching the split."""
    rollout_project.write(weights=(20,), min_dwell=60, max_dwell=120, metrics=ERRORS_ONLY)
    rollout_project.load()
    controller = rollout_project.spawn(
        "rollout", "start", "--version", "v2", "--baseline", "v1",
        env={CRASH_AT_ENV: "abort-received"},
    )  # fmt: skip
    rollout_project.wait(lambda r: r.state is RolloutState.CANARY and r.weight == 20, "step 1")
    aborter = rollout_project.spawn("rollout", "abort", "--wait", "5")
    controller.wait(timeout=120)
    assert controller.returncode == 137
    _, err = aborter.communicate(timeout=120)
    assert aborter.returncode == 2  # nobody acted on it within its wait
    assert b"has not acted on the abort request" in err
    record = rollout_project.record()
    assert record is not None and record.state is RolloutState.CANARY

    assert run(rollout_project, "rollout", "resume") == 1

    record = rollout_project.record()
    assert record is not None
    assert record.state is RolloutState.ROLLED_BACK
    assert record.reason == f"aborted by {USER}"
    assert weights(rollout_project.timeline()) == [20.0, 0.0]  # never moved up again
    assert rollout_project.audit_ok()


RESUMED = "(finished after the controller was restarted)"


def test_a_rollback_a_killed_controller_had_begun_is_finished_on_resume(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed after sending the canary's traffic back and before taking it down: resume
    takes it down; it does not give the regressed canary its share again to judge anew."""
    rollout_project.write(weights=(20,), canary={"v2": ["--error-rate", "0.6"]})
    rollout_project.load()
    killed = rollout_project.start_and_crash("rolling-back")
    assert (killed.state, killed.weight) == (RolloutState.CANARY, 0.0)
    canary_url = killed.components["canary"]["url"]
    assert not refuses(canary_url)  # still up: the deployer's rollback never ran
    assert run(rollout_project, "rollout", "status") == 0
    shown = capsys.readouterr().out
    assert "  a rollback is under way (" in shown
    assert "gonogo rollout resume finishes it" in shown

    assert run(rollout_project, "rollout", "resume") == 1

    record = rollout_project.record()
    assert record is not None
    assert record.state is RolloutState.ROLLED_BACK
    assert (record.reason or "").endswith(RESUMED)
    assert "errors" in (record.reason or "")  # the first controller's reason, kept
    assert weights(rollout_project.timeline()) == [20.0, 0.0]
    assert refuses(canary_url)
    assert rollout_project.audit_ok()
    assert run(rollout_project, "rollout", "status") == 0
    assert "under way" not in capsys.readouterr().out  # finished: nothing left to do


def test_a_promotion_a_killed_controller_had_begun_is_finished_on_resume(
    rollout_project: RolloutProject,
) -> None:
    """Killed with all traffic on the canary and before the deployer's promote: resume
    promotes; it does not send traffic back to the last step's weight."""
    rollout_project.write(weights=(20,), metrics=ERRORS_ONLY)
    rollout_project.load()
    killed = rollout_project.start_and_crash("promoting")
    assert (killed.state, killed.weight) == (RolloutState.CANARY, 100.0)

    assert run(rollout_project, "rollout", "resume") == 0

    record = rollout_project.record()
    assert record is not None
    assert record.state is RolloutState.PROMOTED
    assert (record.reason or "").endswith(RESUMED)
    assert weights(rollout_project.timeline()) == [20.0, 100.0]
    assert rollout_project.audit_ok()


def test_a_crash_between_writing_ahead_and_routing_is_resumed_to_a_known_split(
    rollout_project: RolloutProject,
) -> None:
    rollout_project.write(weights=(20,), min_dwell=1, metrics=ERRORS_ONLY)
    rollout_project.load()
    crashed = rollout_project.spawn(
        "rollout",
        "start",
        "--version",
        "v2",
        "--baseline",
        "v1",
        env={CRASH_AT_ENV: "weight-written-ahead"},
    )
    crashed.wait(timeout=120)
    assert crashed.returncode == 137
    half = rollout_project.record()
    assert half is not None
    assert (half.state, half.weight, half.target_weight) == (RolloutState.CANARY, 0.0, 20.0)
    resumed = rollout_project.spawn("rollout", "resume")
    resumed.wait(timeout=180)
    record = rollout_project.record()
    assert record is not None
    assert record.state is RolloutState.PROMOTED
    assert record.target_weight is None
    assert weights(rollout_project.timeline()) == [20.0, 100.0]


def test_a_new_version_during_a_rollout_restarts_the_analysis(
    rollout_project: RolloutProject,
) -> None:
    rollout_project.write(weights=(20,), min_dwell=4, metrics=ERRORS_ONLY)
    rollout_project.load()
    controller = rollout_project.spawn("rollout", "start", "--version", "v2", "--baseline", "v1")
    rollout_project.wait(lambda r: r.state is RolloutState.CANARY and r.weight == 20, "step 1")
    assert run(rollout_project, "rollout", "start", "--version", "v3") == 0
    controller.wait(timeout=180)
    record = rollout_project.record()
    assert record is not None
    assert record.version == "v3"
    assert record.state is RolloutState.PROMOTED
    story = rollout_project.timeline()
    restart = next(e for e in story if e["event"] == "rollout.restarted")
    assert (restart["from_version"], restart["to_version"]) == ("v2", "v3")
    after = story[story.index(restart) :]
    assert weights(after) == [20.0, 100.0]


def test_status_and_watch_report_a_finished_rollout(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(weights=(20,), max_dwell=1.5, max_inconclusive=0)
    assert run(rollout_project, "rollout", "start", "--version", "v2", "--baseline", "v1") == 1
    capsys.readouterr()
    assert run(rollout_project, "rollout", "status") == 0
    text = capsys.readouterr().out
    assert "rollout #1: v2 over v1, rolled_back" in text
    assert "inconclusive: " in text
    assert run(rollout_project, "rollout", "watch") == 1
    assert "rolled_back" in capsys.readouterr().out
    assert run(rollout_project, "rollout", "status", "--all", "-f", "json") == 0
    listing = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in listing["rollouts"]] == ["rolled_back"]


def test_a_router_that_cannot_apply_the_split_rolls_back_and_reports_it(
    rollout_project: RolloutProject,
) -> None:
    """A real managed nginx whose master hangs (SIGSTOP) never confirms the reload that
    would give the canary its first share: the controller rolls back and says why."""
    state_dir = rollout_project.root / "nginx-state"
    rollout_project.write(
        weights=(20,),
        # the source is never read: the failure comes at the first weight change
        source='type = "prometheus"\nurl = "http://127.0.0.1:9"\ntimeout_s = 1',
    )
    policy = rollout_project.root / "gonogo.toml"
    text = policy.read_text(encoding="utf-8")
    router = text[text.index("[rollout.router]") : text.index("[rollout.source]")]
    policy.write_text(
        text.replace(
            router,
            f'[rollout.router]\ntype = "nginx"\nstate_dir = "{state_dir}"\n'
            f"port = {rollout_project.port}\ntimeout_s = 3\n\n",
        ),
        encoding="utf-8",
    )
    rollout_project.start_and_crash("staging-passed")
    master = int((state_dir / "nginx.pid").read_text(encoding="ascii").strip())
    os.kill(master, signal.SIGSTOP)
    try:
        resumed = rollout_project.spawn("rollout", "resume")
        resumed.wait(timeout=180)
    finally:
        os.kill(master, signal.SIGCONT)
        os.kill(master, signal.SIGQUIT)
    record = rollout_project.record()
    assert record is not None
    assert resumed.returncode == 1
    assert record.state is RolloutState.ROLLED_BACK
    assert "nginx did not confirm the reload" in (record.reason or "")
    assert all(w == 0.0 for w in weights(rollout_project.timeline()))


def test_watch_and_status_say_when_no_controller_drives_the_rollout(
    rollout_project: RolloutProject, capsys: pytest.CaptureFixture[str]
) -> None:
    """A killed controller leaves its rollout under way: watch used to wait for it forever."""
    rollout_project.write(weights=(20,), metrics=ERRORS_ONLY)
    rollout_project.start_and_crash("staging-passed")
    watcher = rollout_project.spawn("rollout", "watch")
    _, err = watcher.communicate(timeout=120)  # a hang fails here instead of forever
    assert watcher.returncode == 2
    last = err.decode().strip().splitlines()[-1]
    assert "rollout #1 of v2 is staging and no controller drives it" in last
    assert "gonogo rollout resume" in last
    assert run(rollout_project, "rollout", "status") == 0
    assert "stopped (last heartbeat" in capsys.readouterr().out
