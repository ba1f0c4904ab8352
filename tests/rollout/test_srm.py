"""The sample-ratio check: a traffic split that does not match the weight is caught and named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    JudgeError,
    MetricKind,
    Step,
)
from gonogo.rollout.analysis.lag import CountLag
from gonogo.rollout.analysis.metrics import MetricSpec
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.analysis.srm import SampleRatioTest, SrmAction, SrmCheck
from tests.rollout.helpers import binomial_tolerance, observation

ERRORS_ONLY = (MetricSpec("errors", MetricKind.ERRORS),)


def _split(
    judge: SequentialJudge,
    seconds: int,
    *,
    share: float,
    rps: int = 200,
    error_rate: float = 0.0,
    seed: int = 1,
    start: float = 0.0,
) -> list[Decision]:
    """Feed ``seconds`` observations in which the canary really gets ``share`` of the requests."""
    rng = np.random.default_rng(seed)
    decisions = []
    for second in range(1, seconds + 1):
        n_c = int(rng.binomial(rps, share))
        n_b = rps - n_c
        decision = judge.observe(
            observation(
                start + second,
                base=(n_b, int(rng.binomial(n_b, error_rate))),
                canary=(n_c, int(rng.binomial(n_c, error_rate))),
            )
        )
        decisions.append(decision)
        if decision.action is not Action.CONTINUE:
            break
    return decisions


def _crossed(check: SrmCheck, share: float, weight: float, runs: int, alpha: float) -> float:
    """Fraction of seeded runs whose e-value ever reaches 1/alpha, looked at every time."""
    rng = np.random.default_rng(7)
    threshold = math.log(1 / alpha)
    crossed = 0
    for _ in range(runs):
        test = SampleRatioTest(check)
        test.begin_step(weight)
        for n_c in rng.binomial(20, share, size=300):
            test.add(20 - int(n_c), int(n_c))
            # the bound is cheap and never below the e-value: look exactly when it matters
            if test.log_e_bound() >= threshold and test.log_e() >= threshold:
                crossed += 1
                break
    return crossed / runs


@pytest.mark.parametrize(("weight", "tolerance", "share"), [(0.05, 0.0, 0.05), (0.3, 0.1, 0.33)])
def test_a_split_that_matches_the_weight_is_rarely_flagged_though_checked_every_time(
    weight: float, tolerance: float, share: float
) -> None:
    alpha, runs = 0.05, 1000
    check = SrmCheck(tolerance=tolerance)

    rate = _crossed(check, share, weight, runs, alpha)  # share at the edge of the tolerance

    assert rate <= binomial_tolerance(alpha, runs)


def test_a_canary_getting_more_than_its_weight_rolls_back_naming_the_split() -> None:
    judge = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    judge.begin_step(Step(0, 0.05, 0.0, max_dwell_s=3600))

    decision = _split(judge, 600, share=0.08)[-1]

    assert decision.action is Action.ROLLBACK
    assert decision.basis is Basis.TRAFFIC_SPLIT
    assert decision.metric == "traffic_split"
    assert decision.reason.startswith("traffic split does not match the weight: the canary got")
    assert "at a weight of 5.00%" in decision.reason
    assert decision.lower is not None and decision.upper is not None
    assert 0.05 < decision.lower <= 0.08 <= decision.upper
    assert decision.threshold == pytest.approx(1 / (0.01 * 0.05))
    assert decision.e_value is not None and decision.threshold is not None
    assert decision.e_value >= decision.threshold


def test_a_starved_canary_is_flagged_rather_than_promoted() -> None:
    """A load balancer that ejects a failing canary leaves it a fraction of its weight."""
    judge = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    judge.begin_step(Step(0, 0.2, 0.0, max_dwell_s=3600))

    decisions = _split(judge, 600, share=0.12)

    assert all(d.action is not Action.PROMOTE_STEP for d in decisions)
    assert decisions[-1].basis is Basis.TRAFFIC_SPLIT
    assert decisions[-1].upper is not None and decisions[-1].upper < 0.2


def test_a_biased_split_is_blamed_on_the_split_not_on_the_canary() -> None:
    """Twice its weight and the same error rate: the error test alone would blame the canary."""
    unguarded = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY, srm=None))
    unguarded.begin_step(Step(0, 0.05, 0.0, max_dwell_s=3600))
    guarded = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    guarded.begin_step(Step(0, 0.05, 0.0, max_dwell_s=3600))

    wrong = _split(unguarded, 1800, share=0.1, error_rate=0.02)[-1]
    right = _split(guarded, 1800, share=0.1, error_rate=0.02)[-1]

    assert (wrong.action, wrong.basis, wrong.metric) == (
        Action.ROLLBACK,
        Basis.REGRESSION,
        "errors",
    )
    assert (right.action, right.basis) == (Action.ROLLBACK, Basis.TRAFFIC_SPLIT)
    assert right.at < wrong.at


def test_the_mismatch_can_end_the_step_inconclusive_instead() -> None:
    config = SequentialConfig(metrics=ERRORS_ONLY, srm=SrmCheck(action=SrmAction.INCONCLUSIVE))
    judge = SequentialJudge(config)
    judge.begin_step(Step(0, 0.05, 0.0, max_dwell_s=3600))

    decision = _split(judge, 600, share=0.08)[-1]

    assert decision.action is Action.INCONCLUSIVE
    assert decision.basis is Basis.TRAFFIC_SPLIT
    assert decision.reason.endswith("no comparison can be trusted")
    # a check that never rolls back spends none of the rollback budget
    assert config.threshold == pytest.approx(1 / 0.01)


def test_requests_during_a_warm_up_do_not_count_toward_the_split() -> None:
    judge = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    judge.begin_step(Step(0, 0.25, 0.0, max_dwell_s=3600, warmup_s=60))
    # the previous weight's requests still landing: 5% instead of 25%
    warm = _split(judge, 60, share=0.05)
    after = _split(judge, 600, share=0.25, start=60.0, seed=2)

    assert {d.basis for d in warm} == {Basis.WARMING_UP}
    assert all(d.basis is not Basis.TRAFFIC_SPLIT for d in after)


def test_the_check_can_be_turned_off_for_a_sticky_split() -> None:
    judge = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY, srm=None))
    judge.begin_step(Step(0, 0.05, 0.0, max_dwell_s=600))

    decisions = _split(judge, 600, share=0.08)

    assert all(d.basis is not Basis.TRAFFIC_SPLIT for d in decisions)
    assert SequentialConfig(metrics=ERRORS_ONLY, srm=None).threshold == pytest.approx(100)


def test_each_step_is_checked_against_its_own_weight_and_the_evidence_carries_over() -> None:
    test = SampleRatioTest(SrmCheck())
    test.begin_step(0.05)
    test.add(950, 60)  # a little more than 5%
    first = test.log_e()
    test.begin_step(0.25)
    assert test.log_e() == pytest.approx(first)
    test.add(750, 250)  # exactly 25%: evidence against a mismatch
    assert test.log_e() < first


def test_bad_settings_are_refused_with_a_clear_error() -> None:
    with pytest.raises(JudgeError, match="alpha_share"):
        SrmCheck(alpha_share=1.5)
    with pytest.raises(JudgeError, match="tolerance"):
        SrmCheck(tolerance=-0.1)
    with pytest.raises(JudgeError, match="concentrations"):
        SrmCheck(concentrations=())


def _scraped(judge: SequentialJudge, seconds: float, *, share: float) -> list[Decision]:
    """What a source reading scraped counters feeds the judge every 5 s: each variant's
    counter as of its own last scrape (every 15 s: the canary 2 s past, the baseline 9 s
    past), the canary really getting ``share`` of 150 requests a second."""

    def counter(at: float, phase: float, rate: float) -> int:
        return round(rate * max(0.0, phase + 15 * math.floor((at - phase) / 15)))

    rates = (150 * (1 - share), 150 * share)
    before = (counter(0, 9, rates[0]), counter(0, 2, rates[1]))
    decisions, at = [], 0.0
    while at < seconds:
        at += 5
        now = (counter(at, 9, rates[0]), counter(at, 2, rates[1]))
        decision = judge.observe(
            observation(at, base=(now[0] - before[0], 0), canary=(now[1] - before[1], 0))
        )
        before = now
        decisions.append(decision)
        if decision.action is not Action.CONTINUE:
            break
    return decisions


@pytest.mark.parametrize("weight", [0.05, 0.2, 0.5])
def test_counts_a_scrape_apart_are_no_mismatch_when_the_step_knows_the_lag(weight: float) -> None:
    """Prometheus sees each variant as of its own last scrape: early in a step one variant's
    count can be all the traffic. Told the lag, the check allows for it."""
    blind = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    blind.begin_step(Step(0, weight, 0.0, max_dwell_s=3600))
    told = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    told.begin_step(Step(0, weight, 0.0, max_dwell_s=3600, count_lag_s=15))

    assert _scraped(blind, 3600, share=weight)[-1].basis is Basis.TRAFFIC_SPLIT
    decisions = _scraped(told, 3600, share=weight)
    assert all(d.basis is not Basis.TRAFFIC_SPLIT for d in decisions)


def test_a_split_that_is_really_wrong_is_still_caught_through_the_lag() -> None:
    judge = SequentialJudge(SequentialConfig(metrics=ERRORS_ONLY))
    judge.begin_step(Step(0, 0.5, 0.0, max_dwell_s=3600, count_lag_s=15))

    decisions = _scraped(judge, 3600, share=0.4)

    assert decisions[-1].basis is Basis.TRAFFIC_SPLIT
    assert "allowing for counts up to 15 s apart" in decisions[-1].reason


def test_the_lag_widens_the_matching_shares_less_as_the_step_goes_on() -> None:
    counted = CountLag()
    test = SampleRatioTest(SrmCheck(), counted)
    counted.begin(10.0, 15.0)
    test.begin_step(0.2)
    counted.seen(20.0)
    test.add(800, 200)
    assert test.null_range() == (0.0, 1.0)  # 10 s counted: the lag explains any split
    counted.seen(40.0)
    test.add(1600, 400)
    early = test.null_range()
    for at in range(50, 320, 10):  # steady traffic: 100 requests a second
        counted.seen(float(at))
        test.add(800, 200)
    late = test.null_range()
    assert early[0] < late[0] < 0.2 < late[1] < early[1]
    # 300 s counted, 15 s of lag: each count covers 285 to 315 s
    assert late == pytest.approx(
        (0.2 * 285 / (0.2 * 285 + 0.8 * 315), 0.2 * 315 / (0.2 * 315 + 0.8 * 285))
    )


def test_a_surge_at_the_counts_edge_widens_the_matching_shares_until_both_have_it() -> None:
    """Ten times the traffic, counted for the canary a scrape before the baseline: the lag
    at the counts' end is worth ten times its seconds while the surge sits there."""
    counted = CountLag()
    test = SampleRatioTest(SrmCheck(), counted)
    counted.begin(0.0, 15.0)
    test.begin_step(0.2)
    for at in range(15, 300, 15):  # a scrape's worth of each variant at every read
        counted.seen(float(at))
        test.add(1200, 300)
    steady = test.null_range()
    assert (counted.start, counted.end) == (1.0, 1.0)
    counted.seen(300.0)
    test.add(1200, 3000)  # the canary's counter has the surge, the baseline's not yet
    surging = test.null_range()
    assert counted.start == 1.0
    # the canary's last increment alone, 3000 requests in 15 s (a burst: more than twice
    # its average), against its average over the step
    assert counted.end == pytest.approx(3000 / 15 / ((19 * 300 + 3000) / 300))
    counted.seen(315.0)
    test.add(12000, 300)  # the baseline's has it now, the canary's is past it
    for at in (330.0, 345.0, 360.0):
        counted.seen(at)
        test.add(1200, 300)
    after = test.null_range()

    assert surging[0] < steady[0] < 0.2 < steady[1] < surging[1]
    assert counted.end < 1.5  # past it: the step's average rose a little
    assert after[1] < surging[1]


def test_steady_traffic_read_slower_than_it_is_scraped_is_no_surge() -> None:
    """Reads every 20 s of scrapes every 15 s: increments of one scrape and of two, at a
    steady rate all the same."""
    counted = CountLag()
    test = SampleRatioTest(SrmCheck(), counted)
    counted.begin(0.0, 15.0)
    test.begin_step(0.5)
    for read in range(1, 46):
        scrapes = math.floor(read * 20 / 15) - math.floor((read - 1) * 20 / 15)
        counted.seen(read * 20.0)
        test.add(750 * scrapes, 750 * scrapes)
        if read > 3:
            assert counted.start <= 1.4
            assert counted.end <= 1.4
