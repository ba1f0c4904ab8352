"""The sequential judge: rollbacks with numbers, early promotion, warm-up, no traffic."""

# ruff: noqa: S311 - seeded pseudo-random traffic, not cryptography

from __future__ import annotations

import math
import random

import pytest

from gonogo.rollout.analysis.guardrails import Guardrail
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    Judge,
    JudgeError,
    JudgeKind,
    MetricKind,
    Moments,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.metrics import MetricSpec
from gonogo.rollout.analysis.quantiles import LatencyStore, QuantileTest
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.analysis.simulate import simulate
from gonogo.rollout.analysis.srm import SrmAction, SrmCheck
from tests.rollout.helpers import binomial_tolerance, lognormal, observation, scenario

ERRORS_ONLY = SequentialConfig(metrics=(MetricSpec("errors", MetricKind.ERRORS),))


def _feed(
    judge: SequentialJudge,
    rng: random.Random,
    seconds: int,
    *,
    p_base: float,
    p_canary: float,
    rps: int = 200,
    weight: float = 0.1,
    start: float = 0.0,
    latency: bool = False,
    shift: float = 1.0,
) -> Decision:
    decision: Decision | None = None
    for second in range(1, seconds + 1):
        n_c = sum(rng.random() < weight for _ in range(rps))
        n_b = rps - n_c
        e_c = sum(rng.random() < p_canary for _ in range(n_c))
        e_b = sum(rng.random() < p_base for _ in range(n_b))
        decision = judge.observe(
            observation(
                start + second,
                base=(n_b, e_b),
                canary=(n_c, e_c),
                base_latency=lognormal(rng, n_b) if latency else None,
                canary_latency=lognormal(rng, n_c, 80 * shift) if latency else None,
            )
        )
        if decision.action is not Action.CONTINUE:
            return decision
    assert decision is not None
    return decision


def test_a_clear_5x_error_regression_rolls_back_with_its_numbers() -> None:
    judge = SequentialJudge()
    judge.begin_step(Step(0, 0.1, 0.0, max_dwell_s=3600))

    decision = _feed(judge, random.Random(1), 600, p_base=0.01, p_canary=0.05, latency=True)

    assert decision.action is Action.ROLLBACK
    assert decision.basis is Basis.REGRESSION
    assert decision.metric == "errors"
    # m/alpha, alpha less the 5% the sample-ratio check may spend
    assert decision.e_value is not None and decision.threshold is not None
    # (errors and the latency group: m = 2)
    assert decision.e_value >= decision.threshold == pytest.approx(2 / (0.01 * 0.95))
    assert decision.lower is not None and decision.lower > 0
    assert "errors regressed: canary 0.0" in decision.reason
    assert "e-value" in decision.reason and ">= 210.5 (m=2, alpha=0.0095)" in decision.reason
    errors = next(f for f in decision.findings if f.metric == "errors")
    assert errors.canary is not None and errors.baseline is not None
    assert errors.canary > errors.baseline
    assert decision.to_json()["e_value"] == decision.e_value


def test_a_latency_shift_rolls_back_on_a_quantile_with_confidence_bounds() -> None:
    judge = SequentialJudge()
    judge.begin_step(Step(0, 0.2, 0.0, max_dwell_s=3600))

    decision = _feed(
        judge, random.Random(2), 900, p_base=0.0, p_canary=0.0, weight=0.2, latency=True, shift=1.5
    )

    assert decision.action is Action.ROLLBACK
    assert decision.metric is not None and decision.metric.startswith("latency_p")
    # the bounds are the quantile confidence sequences', wider than the test that decided:
    # they point the worse way, and may still reach a little below zero
    assert decision.lower is not None and decision.upper is not None
    assert decision.upper > 0.2 and decision.lower > -0.1
    assert "ms" in decision.reason
    # the default quantiles are one group: its e-value is their average, worse ones counted
    group = [f for f in decision.findings if f.group == "latency"]
    assert [f.metric for f in group] == ["latency_p50", "latency_p95", "latency_p99"]
    average = sum(f.e_value for f in group if f.worse) / 3
    assert decision.e_value == pytest.approx(average)
    assert decision.threshold is not None and average >= decision.threshold
    assert f"group latency e-value {average:.3g} (the mean of latency_p50 " in decision.reason
    assert decision.to_json()["findings"][1]["group"] == "latency"


def _latency_shift(judge: SequentialJudge, seconds: int, shift: float, seed: int) -> Decision:
    judge.begin_step(Step(0, 0.2, 0.0, max_dwell_s=3600))
    return _feed(
        judge,
        random.Random(seed),
        seconds,
        p_base=0.0,
        p_canary=0.0,
        weight=0.2,
        latency=True,
        shift=shift,
    )


def test_a_group_counts_once_in_m_and_rolls_back_on_its_average() -> None:
    quantiles = (0.5, 0.95, 0.99)
    grouped = tuple(
        MetricSpec(f"p{q * 100:g}", MetricKind.LATENCY, quantile=q, group="latency")
        for q in quantiles
    )
    alone = tuple(MetricSpec(f"p{q * 100:g}", MetricKind.LATENCY, quantile=q) for q in quantiles)
    errors = MetricSpec("errors", MetricKind.ERRORS)
    config = SequentialConfig(metrics=(errors, *grouped), srm=None)
    assert config.m == 2 and config.threshold == pytest.approx(200)
    assert config.families == (("errors", (0,)), ("latency", (1, 2, 3)))
    assert SequentialConfig(metrics=(errors, *alone), srm=None).threshold == pytest.approx(400)

    # the same data, judged with the quantiles as a group and as three metrics of their own
    together = _latency_shift(SequentialJudge(config), 900, 1.5, seed=7)
    apart = _latency_shift(SequentialJudge(SequentialConfig(metrics=alone, srm=None)), 900, 1.5, 7)
    assert together.action is apart.action is Action.ROLLBACK
    members = [f for f in together.findings if f.group == "latency"]
    assert together.e_value == pytest.approx(sum(f.e_value for f in members if f.worse) / 3)
    # alone, one metric's own e-value reached 3/alpha
    assert apart.e_value is not None and apart.e_value >= 300


def test_a_metric_of_a_group_not_pointing_worse_adds_nothing_to_its_group() -> None:
    # a canary 30% faster everywhere: however strong the evidence that it differs, none of
    # it may count towards rolling it back
    judge = SequentialJudge(
        SequentialConfig(
            metrics=tuple(
                MetricSpec(f"p{q * 100:g}", MetricKind.LATENCY, quantile=q, group="latency")
                for q in (0.5, 0.99)
            ),
            srm=None,
        )
    )
    judge.begin_step(Step(0, 0.2, 0.0, min_dwell_s=10_000, max_dwell_s=20_000))
    decision = _feed(
        judge, random.Random(8), 300, p_base=0.0, p_canary=0.0, weight=0.2, latency=True, shift=0.7
    )
    assert decision.basis is Basis.COLLECTING
    assert all(not f.worse for f in decision.findings)
    assert decision.e_value == pytest.approx(0.0)
    assert "largest e-value 0 (latency)" in decision.reason


def test_a_group_member_s_bounds_are_wider_so_that_all_bounds_hold_at_once() -> None:
    solo = (MetricSpec("p95", MetricKind.LATENCY, quantile=0.95),)
    trio = tuple(  # p95 first: the judge computes bounds in order until one is outside
        MetricSpec(name, MetricKind.LATENCY, quantile=q, group="latency")
        for name, q in (("p95", 0.95), ("p50", 0.5), ("p99", 0.99))
    )
    uppers = []
    for metrics in (solo, trio):
        judge = SequentialJudge(SequentialConfig(metrics=metrics, srm=None))
        judge.begin_step(Step(0, 0.5, 0.0, min_dwell_s=50, max_dwell_s=50))
        decision = _feed(
            judge, random.Random(9), 50, p_base=0.0, p_canary=0.0, weight=0.5, latency=True
        )
        assert decision.action is not Action.ROLLBACK
        uppers.append(next(f.upper for f in decision.findings if f.metric == "p95"))
    alone, together = uppers
    assert alone is not None and together is not None
    # the same data: in a group of three its bounds run at alpha / (2 * 3), not alpha / 2
    assert together > alone


def test_a_healthy_canary_is_promoted_early_once_every_bound_is_inside_its_tolerance() -> None:
    judge = SequentialJudge()
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=10_000))

    decision = _feed(
        judge, random.Random(3), 5000, p_base=0.0, p_canary=0.0, rps=400, weight=0.5, latency=True
    )

    assert decision.action is Action.PROMOTE_STEP
    assert decision.basis is Basis.NON_INFERIOR
    assert all(f.within_tolerance and f.upper is not None for f in decision.findings)
    assert "within tolerance" in decision.reason


def test_between_looks_a_decision_repeats_the_last_look_with_its_own_time_and_counts() -> None:
    judge = SequentialJudge()
    judge.begin_step(Step(0, 0.5, 0.0, min_dwell_s=5000, max_dwell_s=10_000))
    looked = _feed(
        judge, random.Random(5), 60, p_base=0.01, p_canary=0.01, weight=0.5, latency=True
    )
    assert looked.basis is Basis.COLLECTING
    canary = int(looked.reason.split("; ")[-1].split()[0])

    # two more requests: too few to look at the tests again
    quiet = judge.observe(observation(60.5, base=(1, 0), canary=(1, 0)))

    assert quiet.action is Action.CONTINUE and quiet.basis is Basis.COLLECTING
    assert quiet.at == 60.5
    assert quiet.reason.endswith(f"; {canary + 1} canary requests in step 0")
    assert quiet.findings == looked.findings and quiet.e_value == looked.e_value


@pytest.mark.parametrize("ending", ["promoted", "split"])
def test_a_decision_other_than_collecting_stands_until_the_next_look(ending: str) -> None:
    """A caller that keeps feeding observations after a step's end gets that end again, not
    the "collecting evidence" of an earlier look, while too few requests came to look."""
    if ending == "promoted":
        judge = SequentialJudge()
        judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=10_000))
        end = _feed(
            judge,
            random.Random(3),
            5000,
            p_base=0.0,
            p_canary=0.0,
            rps=400,
            weight=0.5,
            latency=True,
        )
        assert end.action is Action.PROMOTE_STEP
    else:  # the canary gets 8% of the requests at a weight of 5%
        judge = SequentialJudge(SequentialConfig(srm=SrmCheck(action=SrmAction.INCONCLUSIVE)))
        judge.begin_step(Step(0, 0.05, 0.0, max_dwell_s=3600))
        rng = random.Random(6)
        end = _feed(judge, rng, 600, p_base=0.0, p_canary=0.0, weight=0.08)
        assert end.basis is Basis.TRAFFIC_SPLIT

    again = judge.observe(observation(end.at + 0.5, base=(1, 0), canary=(1, 0)))

    assert (again.action, again.basis) == (end.action, end.basis)


def test_without_enough_evidence_the_step_ends_inconclusive_never_passed() -> None:
    judge = SequentialJudge()
    judge.begin_step(Step(0, 0.05, 0.0, max_dwell_s=60))

    decision = _feed(
        judge, random.Random(4), 60, p_base=0.01, p_canary=0.01, rps=20, weight=0.05, latency=True
    )

    assert decision.action is Action.INCONCLUSIVE
    assert decision.basis is Basis.INSUFFICIENT_EVIDENCE
    assert "maximum dwell of 60 s" in decision.reason


def test_no_traffic_is_inconclusive_and_distinct_from_no_errors() -> None:
    idle = SequentialJudge()
    idle.begin_step(Step(0, 0.1, 0.0, max_dwell_s=30))
    decisions = [idle.observe(observation(t)) for t in range(1, 31)]

    assert decisions[0].action is Action.CONTINUE
    assert decisions[0].basis is Basis.NO_TRAFFIC
    assert decisions[-1].action is Action.INCONCLUSIVE
    assert decisions[-1].basis is Basis.NO_TRAFFIC
    assert decisions[-1].reason.startswith("no traffic: no traffic at all")

    quiet = SequentialJudge(ERRORS_ONLY)
    quiet.begin_step(Step(0, 0.1, 0.0, max_dwell_s=30))
    last = None
    for t in range(1, 31):
        last = quiet.observe(observation(t, base=(90, 0), canary=(10, 0)))
    assert last is not None and last.basis is not Basis.NO_TRAFFIC
    assert last.action is not Action.PROMOTE_STEP
    assert "0 errors in 300 canary requests" in last.findings[0].detail


def test_warm_up_hides_a_cold_start_from_the_comparison_but_not_from_guardrails() -> None:
    judge = SequentialJudge(ERRORS_ONLY)
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=600, warmup_s=30))
    for t in range(1, 31):  # the canary fails half its requests while it warms up
        decision = judge.observe(observation(t, base=(50, 0), canary=(50, 25)))
        assert decision.action is Action.CONTINUE
        assert decision.basis is Basis.WARMING_UP

    guarded = SequentialJudge(
        SequentialConfig(
            metrics=ERRORS_ONLY.metrics, guardrails=(Guardrail("error_rate", max=0.05),)
        )
    )
    guarded.begin_step(Step(0, 0.5, 0.0, max_dwell_s=600, warmup_s=30))
    tripped = guarded.observe(observation(1, base=(50, 0), canary=(50, 25)))
    assert tripped.action is Action.ROLLBACK
    assert tripped.basis is Basis.GUARDRAIL
    assert tripped.metric == "error_rate"
    assert tripped.threshold == 0.05
    assert "0.5" in tripped.reason


def test_e_values_of_successive_steps_multiply() -> None:
    judge = SequentialJudge(ERRORS_ONLY)
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=1000))
    first = judge.observe(observation(1, base=(100, 2), canary=(100, 8)))
    judge.begin_step(Step(1, 0.25, 1.0, max_dwell_s=1000))
    carried = judge.observe(observation(2, base=(0, 0), canary=(0, 0)))

    assert first.findings[0].e_value > 1
    assert carried.findings[0].e_value == pytest.approx(first.findings[0].e_value)


def test_a_mean_metric_regression_is_caught_by_the_msprt() -> None:
    config = SequentialConfig(metrics=(MetricSpec("cpu_ms", MetricKind.MEAN, tolerance=0.1),))
    judge = SequentialJudge(config)
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=1000))
    rng = random.Random(6)
    decision = None
    for t in range(1, 200):
        base = Moments.of(rng.gauss(10, 2) for _ in range(20))
        cand = Moments.of(rng.gauss(12, 2) for _ in range(20))
        decision = judge.observe(
            Observation(
                t,
                VariantSample(20, 0, metrics={"cpu_ms": base}),
                VariantSample(20, 0, metrics={"cpu_ms": cand}),
            )
        )
        if decision.action is not Action.CONTINUE:
            break
    assert decision is not None and decision.action is Action.ROLLBACK
    assert decision.metric == "cpu_ms"
    cpu = decision.findings[0]
    assert cpu.canary is not None and cpu.baseline is not None
    assert cpu.canary > cpu.baseline


def test_the_latency_confidence_sequence_covers_the_true_quantile() -> None:
    alpha, runs, looks = 0.05, 300, 40
    missed = {0.5: 0, 0.99: 0}
    rng = random.Random(9)
    for _ in range(runs):
        store = LatencyStore()
        tests = {
            p: QuantileTest(MetricSpec("q", MetricKind.LATENCY, quantile=p), store) for p in missed
        }
        truth = {p: 80 * math.exp(0.5 * z) for p, z in ((0.5, 0.0), (0.99, 2.3263))}
        failed = set()
        for _ in range(looks):
            store.add(
                VariantSample(),
                VariantSample(
                    25,
                    0,
                    __import__(
                        "gonogo.rollout.analysis.histogram", fromlist=["x"]
                    ).LatencyHistogram.from_samples(lognormal(rng, 25)),
                ),
            )
            for p, test in tests.items():
                _, (low, high) = test.bounds(math.log(1 / alpha))
                if not low <= truth[p] <= high:
                    failed.add(p)
        for p in failed:
            missed[p] += 1
    for count in missed.values():
        assert count / runs <= binomial_tolerance(alpha, runs)


@pytest.mark.slow
def test_a_healthy_canary_is_rarely_rolled_back_although_judged_after_every_observation() -> None:
    alpha, runs = 0.05, 100
    report = simulate(
        scenario(alpha=alpha, rps=30, duration_s=200, step_s=200, steps=[20]),
        JudgeKind.SEQUENTIAL,
        runs,
    )
    assert report.false_rollback_rate <= binomial_tolerance(alpha, runs)
    assert report.detection_rate is None


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(JudgeError, match="errors in only"):
        VariantSample(requests=3, errors=4)
    with pytest.raises(JudgeError, match="not between 0 and 1"):
        Step(0, 1.0, 0.0, max_dwell_s=60)
    with pytest.raises(JudgeError, match="begin_step"):
        SequentialJudge().observe(observation(1))
    with pytest.raises(JudgeError, match="alpha"):
        SequentialConfig(alpha=0)
    with pytest.raises(JudgeError, match="group 'errors' has the name of a metric outside it"):
        SequentialConfig(
            metrics=(
                MetricSpec("errors", MetricKind.ERRORS),
                MetricSpec("p99", MetricKind.LATENCY, quantile=0.99, group="errors"),
            )
        )
    assert isinstance(SequentialJudge(), Judge)
