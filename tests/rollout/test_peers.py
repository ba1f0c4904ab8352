"""The peers: Kayenta's Mann-Whitney judge, Argo/Flagger thresholds, the oracle SPRT."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gonogo.rollout.analysis.guardrails import Guardrail, GuardrailMonitor
from gonogo.rollout.analysis.interface import Action, Basis, JudgeKind, Step
from gonogo.rollout.analysis.kayenta import (
    Classification,
    KayentaDirection,
    ScoreClass,
    ScoredMetric,
    classify,
    classify_score,
    mann_whitney,
    summary_score,
)
from gonogo.rollout.analysis.mannwhitney import MannWhitneyJudge
from gonogo.rollout.analysis.oracle import OracleJudge, OracleTruth
from gonogo.rollout.analysis.simulate import simulate
from gonogo.rollout.analysis.threshold import ThresholdConfig, ThresholdJudge
from tests.rollout.helpers import observation, scenario


def test_the_mann_whitney_interval_and_estimate_on_known_samples() -> None:
    result = mann_whitney([10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0], 0.95)

    assert result.lower == pytest.approx(6.0)
    assert result.upper == pytest.approx(39.0)
    assert result.estimate == pytest.approx(22.5, abs=1e-3)
    assert 0 < result.p_value < 0.05


def test_the_estimate_is_close_to_the_hodges_lehmann_median_of_differences() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(12, 2, 80), rng.normal(10, 2, 60)
    result = mann_whitney(x.tolist(), y.tolist(), 0.98)
    hodges_lehmann = float(np.median(np.subtract.outer(x, y)))

    assert result.lower < hodges_lehmann < result.upper
    assert result.estimate == pytest.approx(hodges_lehmann, abs=0.05)


def test_metrics_are_classified_high_low_pass_or_nodata() -> None:
    rng = np.random.default_rng(1)
    low, high = rng.normal(10, 1, 30).tolist(), rng.normal(20, 1, 30).tolist()
    same = rng.normal(10, 1, 30).tolist()

    assert classify(low, high).classification is Classification.HIGH
    assert classify(high, low).classification is Classification.LOW
    assert classify(low, same).classification is Classification.PASS
    up = KayentaDirection.INCREASE
    assert classify(high, low, up).classification is Classification.PASS  # only increases count
    assert classify([], same).classification is Classification.NODATA
    assert classify([1.0, 2.0], [2.0, 1.0]).classification is Classification.PASS
    assert classify([1.0, 1.0], [1.0, 1.0, 1.0]).classification is Classification.PASS
    assert classify(low, [math.nan] * 3).classification is Classification.NODATA


def test_group_scores_are_weighted_and_a_critical_failure_scores_zero() -> None:
    def metric(
        name: str, group: str, label: Classification, critical: bool = False
    ) -> ScoredMetric:
        return ScoredMetric(name, group, label, critical)

    passing = [metric("a", "g1", Classification.PASS), metric("b", "g1", Classification.PASS)]
    failing = metric("c", "g2", Classification.HIGH)

    assert summary_score([*passing, failing], {"g1": 75.0, "g2": 25.0}) == 75.0
    assert summary_score([passing[0], failing], {}) == 50.0
    assert summary_score([metric("d", "g", Classification.NODATA)], {}) == 0.0
    assert summary_score([passing[0], metric("e", "g1", Classification.HIGH, True)], {}) == 0.0
    assert classify_score(96, 95, 75) is ScoreClass.PASS
    assert classify_score(80, 95, 75) is ScoreClass.MARGINAL
    assert classify_score(50, 95, 75) is ScoreClass.FAIL


def test_the_kayenta_judge_rolls_back_a_bad_canary_at_an_analysis_interval() -> None:
    judge = MannWhitneyJudge()
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=600))
    decisions = [
        judge.observe(observation(t, base=(100, 1), canary=(100, 20))) for t in range(1, 121)
    ]
    rollbacks = [d for d in decisions if d.action is Action.ROLLBACK]

    assert all(d.action is Action.CONTINUE for d in decisions[:59])
    assert rollbacks and rollbacks[0].at == 60.0
    assert rollbacks[0].basis is Basis.SCORE
    assert "score 0.0 (Fail)" in rollbacks[0].reason  # the latency group had no data
    assert rollbacks[0].metric == "error_rate"


def test_the_threshold_judge_rolls_back_only_past_its_failure_limit() -> None:
    config = ThresholdConfig(
        checks=(Guardrail("error_rate", max=0.05, min_requests=1),), interval_s=10, failure_limit=1
    )
    judge = ThresholdJudge(config)
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=100))
    decisions = [judge.observe(observation(t, base=(10, 0), canary=(10, 1))) for t in range(1, 21)]

    assert decisions[9].action is Action.CONTINUE  # first failed measurement: within the limit
    assert decisions[19].action is Action.ROLLBACK
    assert "2 failed measurements > failure limit 1" in decisions[19].reason


def test_the_threshold_judge_passes_a_clean_step_at_its_end_and_counts_missing_data() -> None:
    judge = ThresholdJudge(ThresholdConfig(interval_s=10, inconclusive_limit=1))
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=100))
    quiet = [judge.observe(observation(t)) for t in range(1, 21)]
    assert quiet[-1].action is Action.INCONCLUSIVE

    clean = ThresholdJudge(ThresholdConfig(interval_s=10))
    clean.begin_step(Step(0, 0.5, 0.0, max_dwell_s=30))
    ends = [
        clean.observe(observation(t, base=(10, 0), canary=(10, 0), canary_latency=[50.0] * 10))
        for t in range(1, 31)
    ]
    assert ends[-1].action is Action.PROMOTE_STEP


def test_the_oracle_adds_the_exact_log_likelihood_ratio_of_the_error_share() -> None:
    judge = OracleJudge(OracleTruth(error_ratio=3.0, latency_log_ratio=None), alpha=0.01)
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=1000))
    share = 0.75  # 0.5 * 3 / (0.5 * 3 + 0.5)
    per_canary, per_base = math.log(share / 0.5), math.log((1 - share) / 0.5)
    needed = math.ceil(math.log(100) / per_canary)
    decisions = [judge.observe(observation(t, canary=(1, 1))) for t in range(1, needed + 1)]

    assert [d.action for d in decisions[:-1]] == [Action.CONTINUE] * (needed - 1)
    assert decisions[-1].action is Action.ROLLBACK
    assert decisions[-1].e_value == pytest.approx(math.exp(needed * per_canary))
    fresh = OracleJudge(OracleTruth(error_ratio=3.0, latency_log_ratio=None), alpha=0.01)
    fresh.begin_step(Step(0, 0.5, 0.0, max_dwell_s=1000))
    fresh.observe(observation(1, canary=(1, 1)))
    mixed = fresh.observe(observation(2, base=(1, 1)))
    assert mixed.e_value == pytest.approx(math.exp(per_canary + per_base))


def test_the_oracle_waits_for_the_onset_and_promotes_when_nothing_is_wrong() -> None:
    late = OracleJudge(OracleTruth(error_ratio=100.0, latency_log_ratio=None, onset_at=50))
    late.begin_step(Step(0, 0.5, 0.0, max_dwell_s=100))
    assert late.observe(observation(10, canary=(50, 50))).action is Action.CONTINUE

    calm = OracleJudge(OracleTruth(error_ratio=1.0, latency_log_ratio=None))
    calm.begin_step(Step(0, 0.5, 0.0, max_dwell_s=5))
    assert [calm.observe(observation(t)).action for t in range(1, 6)][-1] is Action.PROMOTE_STEP


def test_a_guardrail_trips_on_p99_and_waits_for_enough_requests() -> None:
    monitor = GuardrailMonitor((Guardrail("latency_p99", max=2000.0, min_requests=20),))
    slow = [2500.0] * 5
    assert monitor.observe(observation(1, canary=(5, 0), canary_latency=slow)) is None
    tripped = monitor.observe(observation(2, canary=(20, 0), canary_latency=[2500.0] * 20))
    assert tripped is not None and tripped.metric == "latency_p99"
    assert tripped.lower is not None and tripped.lower > 2000


def test_old_observations_leave_the_guardrail_window() -> None:
    monitor = GuardrailMonitor((Guardrail("error_rate", max=0.05, window_s=10, min_requests=10),))
    assert monitor.observe(observation(1, canary=(10, 0))) is None
    assert monitor.observe(observation(20, canary=(10, 1))) is not None  # 10% of the last 10 s


@pytest.mark.slow
def test_in_simulation_every_judge_catches_a_5x_error_regression() -> None:
    bad = scenario(canary={"error_rate": 0.05}, rps=100, duration_s=600, step_s=600)
    for kind in JudgeKind:
        report = simulate(bad, kind, 5)
        assert report.detection_rate == 1.0, kind
        assert report.false_rollback_rate == 0.0
        assert report.mean_detection_s is not None and report.mean_detection_s > 0
