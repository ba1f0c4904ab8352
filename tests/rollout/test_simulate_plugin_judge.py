"""``gonogo rollout simulate --judge NAME`` runs a judge another package installs.

The plugin is a real installed distribution (see :mod:`tests.rollout.plugins`); its
judges record the plans they were built from and the steps they were given, so the
tests see that the simulator built them as a live rollout would and followed their
decisions.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from gonogo.cli.main import main
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.judges import judge_type
from gonogo.rollout.plan import default_metric_plans
from tests.helpers import Run
from tests.rollout.plugins import install_plugin, uninstall_plugin

PLUGIN = """
from typing import ClassVar

from gonogo.rollout.analysis.interface import Action, Basis, Decision, Observation, Step
from gonogo.rollout.judges import JudgeType
from gonogo.rollout.plan import RolloutPlan

#: every plan a judge was built from, and every step a judge began, in order
PLANS: list[RolloutPlan] = []
STEPS: list[Step] = []


class Hasty:
    name: ClassVar[str] = "acme-hasty"

    def begin_step(self, step: Step) -> None:
        STEPS.append(step)

    def observe(self, observation: Observation) -> Decision:
        return Decision(Action.ROLLBACK, Basis.REGRESSION, "hasty", observation.at)


class Patient:
    name: ClassVar[str] = "acme-patient"

    def __init__(self, plan: RolloutPlan) -> None:
        self.plan = plan
        self.step: Step | None = None

    def begin_step(self, step: Step) -> None:
        STEPS.append(step)
        self.step = step

    def observe(self, observation: Observation) -> Decision:
        assert self.step is not None
        if self.step.dwell(observation.at) < self.plan.steps[self.step.index].min_dwell_s:
            return Decision(Action.CONTINUE, Basis.COLLECTING, "waiting", observation.at)
        return Decision(Action.PROMOTE_STEP, Basis.NON_INFERIOR, "done", observation.at)


class Flaky(Hasty):
    name: ClassVar[str] = "acme-flaky"

    def observe(self, observation: Observation) -> Decision:
        raise RuntimeError("lost its model")


def _built(judge, plan):
    PLANS.append(plan)
    return judge


HASTY = JudgeType(lambda plan: _built(Hasty(), plan))
PATIENT = JudgeType(lambda plan: _built(Patient(plan), plan))
FLAKY = JudgeType(lambda plan: _built(Flaky(), plan))
"""

ENTRY_POINTS = """
[gonogo.judges]
acme-hasty = acme_judges:HASTY
acme-patient = acme_judges:PATIENT
acme-flaky = acme_judges:FLAKY
"""

NULL = """
name = "null"
seed = 11
duration_s = 60
rps = 40
interval_s = 2
alpha = 0.05
steps = [5, 25, 100]
step_s = 30
warmup_s = 4
min_dwell_s = 10

[baseline]
error_rate = 0.01
latency = { dist = "lognormal", median_ms = 80, sigma = 0.5 }

[canary]
error_rate = 0.01
latency = { dist = "lognormal", median_ms = 80, sigma = 0.5 }
"""

REGRESSED = NULL.replace('name = "null"', 'name = "errors-5x"').replace(
    "[canary]\nerror_rate = 0.01", "[canary]\nerror_rate = 0.05"
)


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The ``acme-judges`` distribution installed for this test only; its module."""
    install_plugin(tmp_path / "site", "acme_judges", PLUGIN, ENTRY_POINTS, monkeypatch)
    yield importlib.import_module("acme_judges")
    uninstall_plugin("acme_judges", monkeypatch)


def _simulate(
    capsys: pytest.CaptureFixture[str], path: Path, judge: str, *args: str, text: str = NULL
) -> Run:
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    code = main(["rollout", "simulate", str(path), "--judge", judge, *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def test_a_plugin_judge_that_rolls_back_at_once_fails_every_healthy_run(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _simulate(capsys, tmp_path / "s.toml", "acme-hasty", "--runs", "4", "--format", "json")

    assert result.code == 0, result.err
    report = result.json()
    assert report["schema"] == "gonogo.rollout.simulation/v1"
    assert report["scenario"] == "null"
    assert report["judge"] == "acme-hasty"
    assert report["runs"] == 4
    assert report["false_rollback_rate"] == 1.0
    assert report["detection_rate"] is None
    assert report["promoted_rate"] == 0.0
    assert report["inconclusive_rate"] == 0.0
    # one fresh judge per run, each of which saw the first step begin and nothing more
    assert len(acme.PLANS) == 4
    assert [(s.index, s.weight, s.started_at) for s in acme.STEPS] == [(0, 0.05, 0.0)] * 4


def test_the_plugin_judge_is_built_from_the_plan_the_scenario_stands_for(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _simulate(capsys, tmp_path / "s.toml", "acme-hasty", "--runs", "1")

    assert result.code == 0, result.err
    assert "scenario null: no regression (canary equals baseline); judge acme-hasty, 1 runs" in (
        result.out
    )
    [plan] = acme.PLANS
    assert plan.judge == "acme-hasty"
    assert plan.alpha == 0.05
    assert plan.interval_s == 2
    # a weight of 100 ends the analysis: it is no step
    assert [s.weight for s in plan.steps] == [5, 25]
    assert {(s.warmup_s, s.min_dwell_s, s.max_dwell_s) for s in plan.steps} == {(4, 10, 30)}
    assert plan.metrics == default_metric_plans()
    assert plan.guardrails == ()


def test_a_plugin_judge_s_promotions_move_the_run_through_the_steps(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _simulate(
        capsys, tmp_path / "s.toml", "acme-patient", "--runs", "3", "--format", "json"
    )

    assert result.code == 0, result.err
    report = result.json()
    assert (report["judge"], report["runs"]) == ("acme-patient", 3)
    assert report["promoted_rate"] == 1.0
    assert report["false_rollback_rate"] == 0.0
    # each step held for the scenario's min_dwell_s, read by the judge from its plan
    begun = [(s.index, s.weight, s.started_at, s.min_dwell_s) for s in acme.STEPS]
    assert begun == [(0, 0.05, 0.0, 10.0), (1, 0.25, 10.0, 10.0)] * 3


def test_a_plugin_judge_s_rollbacks_after_the_onset_are_detections(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _simulate(
        capsys,
        tmp_path / "s.toml",
        "acme-hasty",
        "--runs",
        "2",
        "--format",
        "json",
        text=REGRESSED,
    )

    assert result.code == 0, result.err
    report = result.json()
    assert report["scenario"] == "errors-5x"
    assert report["detection_rate"] == 1.0
    assert report["false_rollback_rate"] == 0.0
    assert report["mean_detection_s"] == 2.0  # at the first observation, one interval_s in


def test_an_unknown_judge_is_one_line_naming_the_installed_ones_and_the_oracle(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _simulate(capsys, tmp_path / "s.toml", "psychic", "--runs", "1")

    assert result.code == 2
    assert result.assert_one_error_line() == (
        "gonogo: error: --judge: unknown type 'psychic'; known types: acme-flaky, "
        "acme-hasty, acme-patient, mannwhitney, oracle, sequential, threshold, "
        "or install the plugin that provides it"
    )
    assert result.out == ""


def test_the_oracle_stays_simulation_only(acme: ModuleType) -> None:
    with pytest.raises(RolloutError, match=r"^rollout\.judge: unknown type 'oracle'") as caught:
        judge_type("oracle")
    assert "oracle" not in str(caught.value).partition("known types:")[2]


def test_a_scenario_no_plan_could_say_is_one_line_for_a_plugin_judge(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = NULL.replace("alpha = 0.05", "alpha = 0.6")

    result = _simulate(capsys, tmp_path / "s.toml", "acme-hasty", "--runs", "1", text=text)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "scenario null: the judge 'acme-hasty' is built from a rollout plan" in line
    assert "alpha: Input should be less than 0.5" in line
    assert acme.PLANS == []
    # the built-in judges need no plan: they still take it
    builtin = _simulate(capsys, tmp_path / "s.toml", "oracle", "--runs", "1", text=text)
    assert builtin.code == 0, builtin.err


def test_a_plugin_judge_that_raises_is_one_line_naming_it(
    acme: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _simulate(capsys, tmp_path / "s.toml", "acme-flaky", "--runs", "1")

    assert result.code == 2
    assert result.assert_one_error_line() == (
        "gonogo: error: the judge 'acme-flaky' failed: RuntimeError: lost its model; "
        "it comes from a plugin: fix or reinstall the package that provides it"
    )
