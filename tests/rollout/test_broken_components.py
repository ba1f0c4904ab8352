"""A deployer, metric source or judge that raises what it should not: the rollout rolls back.

Components can come from other packages (entry points), and a bug in one raises whatever
it raises: a ``RuntimeError``, a ``ValueError`` from a JSON parser, a ``ZeroDivisionError``.
The controller treats that as a failure of the component's area and says which part
failed and what it raised, instead of crashing with traffic still on the canary.

The broken parts are a real installed distribution (a module and a ``.dist-info`` folder
on ``sys.path``, found by ``importlib.metadata``), built on the real local deployer, the
builtin router and source, and the sequential judge; they break only where the test says.
Everything else is real: sample-service processes, generated load, the SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gonogo.cli.main import main
from gonogo.rollout.state import RolloutState
from tests.rollout.plugins import install_plugin, uninstall_plugin
from tests.rollout.processes import marked
from tests.rollout.rollouts import ERRORS_ONLY, RolloutProject, rollout_project, weights

__all__ = ["rollout_project"]

pytestmark = pytest.mark.slow

PLUGIN = """
import os
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gonogo.rollout.analysis.sequential import SequentialJudge
from gonogo.rollout.components import ComponentType
from gonogo.rollout.deploy.local import LocalDeployer, LocalDeployerConfig
from gonogo.rollout.judges import JudgeType
from gonogo.rollout.source.builtin import BuiltinSource


class FlakyConfig(LocalDeployerConfig):
    type: Literal["flaky"] = "flaky"
    healthy_checks: int = 1_000_000


class FlakyDeployer(LocalDeployer):
    name = "flaky"

    def __init__(self, config, state_dir):
        super().__init__(config, state_dir)
        self.flaky = config
        self.checks = 0

    def health(self, variant):
        if variant == "canary":
            self.checks += 1
            if self.checks > self.flaky.healthy_checks:
                raise RuntimeError("lost track of the canary's pid")
        return super().health(variant)

    def attach(self, state):
        if os.environ.get("BROKEN_PARTS_ATTACH"):
            raise KeyError("pids")
        super().attach(state)


class GarbledConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["garbled"]


class GarbledSource(BuiltinSource):
    name = "garbled"

    def snapshot(self):
        raise ValueError("Expecting value: line 1 column 1 (char 0)")


class DividingJudge(SequentialJudge):
    name = "dividing"

    def observe(self, observation):
        return 1 / 0


DEPLOYER = ComponentType(lambda: FlakyConfig, lambda c, x: FlakyDeployer(c, x.state_dir))
SOURCE = ComponentType(lambda: GarbledConfig, lambda c, x: GarbledSource(x.router))
JUDGE = JudgeType(lambda plan: DividingJudge())
"""

ENTRY_POINTS = """
[gonogo.deployers]
flaky = broken_parts:DEPLOYER

[gonogo.sources]
garbled = broken_parts:SOURCE

[gonogo.judges]
dividing = broken_parts:JUDGE
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``broken-parts`` distribution installed for one test."""
    install_plugin(tmp_path / "site", "broken_parts", PLUGIN, ENTRY_POINTS, monkeypatch)
    yield tmp_path / "site"
    uninstall_plugin("broken_parts", monkeypatch)


def _use(project: RolloutProject, *, deployer: str = "", source: str = "", judge: str = "") -> None:
    """Swap the plan's deployer type (with extra keys), source table or judge."""
    policy = project.root / "gonogo.toml"
    text = policy.read_text(encoding="utf-8")
    if deployer:
        text = text.replace('[rollout.deployer]\ntype = "local"', f"[rollout.deployer]\n{deployer}")
    if source:
        text = text.replace('[rollout.source]\ntype = "builtin"', f"[rollout.source]\n{source}")
    if judge:
        text = text.replace('judge = "sequential"', f'judge = "{judge}"')
    policy.write_text(text, encoding="utf-8")


def _start(project: RolloutProject) -> int:
    return main(
        ["--project", str(project.root), "rollout", "start", "--version", "v2", "--baseline", "v1"]
    )


def _serving(project: RolloutProject) -> dict[str, int]:
    """The variants the deployer's saved state lists, with their pids."""
    record = project.record()
    assert record is not None
    variants = record.components["deployer"]["variants"]
    return {name: int(target["pid"]) for name, target in variants.items()}


def _rolled_back(project: RolloutProject, capsys: pytest.CaptureFixture[str]) -> str:
    """The rolled-back rollout's reason, after checking what every such rollback must do."""
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    assert "Traceback" not in captured.out + captured.err
    record = project.record()
    assert record is not None
    assert record.state is RolloutState.ROLLED_BACK, record.reason
    assert record.weight == 0.0
    assert weights(project.timeline())[-1:] == [0.0], record.reason
    assert project.audit_ok()
    return record.reason or ""


def test_a_deployer_whose_health_check_raises_rolls_the_canary_back(
    rollout_project: RolloutProject, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(weights=(20,), metrics=ERRORS_ONLY, min_dwell=60, max_dwell=120)
    _use(rollout_project, deployer='type = "flaky"\nhealthy_checks = 3')
    rollout_project.load()
    assert _start(rollout_project) == 1
    reason = _rolled_back(rollout_project, capsys)
    assert "the canary is unhealthy" in reason
    assert "the 'flaky' deployer failed: RuntimeError: lost track of the canary's pid" in reason
    # the rollback still took the canary down: only the baseline's process is left
    serving = _serving(rollout_project)
    assert list(serving) == ["baseline"]
    assert marked(rollout_project.token) == [serving["baseline"]]


def test_a_metric_source_that_raises_is_unreadable_and_rolls_back_past_its_limit(
    rollout_project: RolloutProject, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(weights=(20,), metrics=ERRORS_ONLY, max_source_errors=2)
    _use(rollout_project, source='type = "garbled"')
    rollout_project.load()
    assert _start(rollout_project) == 1
    reason = _rolled_back(rollout_project, capsys)
    assert "metric source unreadable 3 times in a row (limit 2)" in reason
    assert "the 'garbled' metric source failed: ValueError: Expecting value" in reason
    verdicts = [e["action"] for e in rollout_project.timeline() if e["event"] == "rollout.decision"]
    assert verdicts == ["inconclusive"] * 3  # never read as healthy


def test_a_judge_that_raises_rolls_back(
    rollout_project: RolloutProject, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rollout_project.write(weights=(20,), metrics=ERRORS_ONLY)
    _use(rollout_project, judge="dividing")
    rollout_project.load()
    assert _start(rollout_project) == 1
    reason = _rolled_back(rollout_project, capsys)
    assert reason.startswith(
        "the analysis failed: the 'dividing' judge failed: ZeroDivisionError: division by zero"
    )


def test_a_resumed_rollout_whose_deployer_cannot_find_its_targets_rolls_back(
    rollout_project: RolloutProject,
    site: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The controller is killed mid-step; on resume the deployer cannot adopt what it
    started, so nothing could check the canary's health: traffic goes back to 0%."""
    rollout_project.write(weights=(20,), metrics=ERRORS_ONLY, min_dwell=60, max_dwell=120)
    _use(rollout_project, deployer='type = "flaky"')
    record = rollout_project.start_and_crash("weight-applied")
    assert record.state is RolloutState.CANARY
    monkeypatch.setenv("BROKEN_PARTS_ATTACH", "1")
    code = main(["--project", str(rollout_project.root), "rollout", "resume"])
    assert code == 1
    reason = _rolled_back(rollout_project, capsys)
    assert reason.startswith(
        "the deployer could not adopt its targets: the 'flaky' deployer failed: KeyError: 'pids'"
    )
