"""Counts that lag: a source reading scraped counters sees each variant as of its own last
scrape. Told that counts lag, the sequential judge weighs each batch of counts against
the share of requests counted in it (gonogo.rollout.analysis.odds): it does not roll a
healthy canary back, promotes it on bounds the lag cannot bias, and catches a real
regression within a scrape or two of when counts read together would.

The traffic is simulated second by second (numpy, seeded); each variant's cumulative
counters (requests, errors, latency buckets) are read every 5 s as of its own last
scrape, every 15 s at its own phase, as Prometheus would serve them. The judge is the
real one; only the scraping is modelled, since what is tested is the arithmetic on
counts that lag, not Prometheus (the end-to-end test against a real Prometheus is
tests/rollout/test_nginx_prometheus_rollout.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gonogo.rollout.analysis.histogram import NUM_BUCKETS, LatencyHistogram
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.scenario import LatencySpec
from gonogo.rollout.analysis.sequential import SequentialJudge
from gonogo.rollout.analysis.traffic import LatencyLaw

SCRAPE_S = 15
READ_S = 5
RPS = 1000
SECONDS = 300


def _rollout(
    seed: int,
    *,
    weight: float,
    phases: tuple[int, int],
    lag_s: float,
    canary_median: float = 80.0,
    canary_errors: float = 0.01,
    incident_at: int | None = None,
    surge_at: int | None = None,
) -> Decision:
    """The judge's decision on ``SECONDS`` of scraped traffic (default metrics, the
    baseline failing 1% of requests; ``incident_at``: both variants fail 20% of their
    requests for 30 s from then; ``surge_at``: ten times the traffic for 30 s)."""
    rng = np.random.default_rng(seed)
    laws = (
        LatencyLaw.of(LatencySpec(dist="lognormal", median_ms=80.0, sigma=0.5)),
        LatencyLaw.of(LatencySpec(dist="lognormal", median_ms=canary_median, sigma=0.5)),
    )
    seconds = SECONDS + SCRAPE_S + 1
    totals = np.full(seconds, RPS)
    if surge_at is not None:
        totals[surge_at : surge_at + 30] *= 10
    canary = rng.binomial(totals, weight)
    counts = (totals - canary, canary)
    cumulative = []
    for n, law, errors in zip(counts, laws, (0.01, canary_errors), strict=True):
        per_second = np.zeros((seconds + 1, NUM_BUCKETS + 1), dtype=np.int64)
        for i in range(seconds):
            per_second[i + 1, :NUM_BUCKETS] = rng.multinomial(n[i], law.probs)
            shared = incident_at is not None and incident_at <= i < incident_at + 30
            per_second[i + 1, NUM_BUCKETS] = rng.binomial(n[i], 0.2 if shared else errors)
        cumulative.append(np.cumsum(per_second, axis=0))

    def scraped(variant: int, at: float) -> np.ndarray:
        last = phases[variant] + SCRAPE_S * math.floor((at - phases[variant]) / SCRAPE_S)
        row: np.ndarray = cumulative[variant][max(0, last)]
        return row

    def sample(delta: np.ndarray) -> VariantSample:
        buckets = np.flatnonzero(delta[:NUM_BUCKETS])
        counts = zip(buckets.tolist(), delta[buckets].tolist(), strict=True)
        histogram = LatencyHistogram(dict(counts))
        return VariantSample(int(delta[:NUM_BUCKETS].sum()), int(delta[NUM_BUCKETS]), histogram)

    judge = SequentialJudge()
    judge.begin_step(Step(0, weight, 0.0, max_dwell_s=SECONDS, count_lag_s=lag_s))
    before = [scraped(v, 0.0) for v in (0, 1)]
    at = 0.0
    while True:
        at += READ_S
        now = [scraped(v, at) for v in (0, 1)]
        decision = judge.observe(
            Observation(at, sample(now[0] - before[0]), sample(now[1] - before[1]))
        )
        before = now
        if decision.action is not Action.CONTINUE:
            return decision


@pytest.mark.slow
@pytest.mark.parametrize("phases", [(9, 2), (2, 9)])
@pytest.mark.parametrize("weight", [0.2, 0.5])
def test_a_healthy_canary_read_a_scrape_apart_is_promoted_not_rolled_back(
    weight: float, phases: tuple[int, int]
) -> None:
    decisions = [_rollout(seed, weight=weight, phases=phases, lag_s=SCRAPE_S) for seed in range(4)]

    assert all(d.action is Action.PROMOTE_STEP for d in decisions), [d.reason for d in decisions]
    assert all(d.basis is Basis.NON_INFERIOR for d in decisions)


@pytest.mark.slow
def test_blind_to_the_lag_the_judge_rolls_healthy_canaries_back() -> None:
    """What the lag does to a judge not told of it: the reason the step carries it."""
    decisions = [_rollout(seed, weight=0.5, phases=(9, 2), lag_s=0.0) for seed in range(4)]

    assert sum(d.action is Action.ROLLBACK for d in decisions) >= 2


@pytest.mark.slow
def test_told_too_short_a_lag_the_judge_may_doubt_the_split_but_never_blames_the_canary() -> None:
    """The comparisons do not depend on how long the lag is, only the split check does."""
    decisions = [_rollout(seed, weight=0.5, phases=(9, 2), lag_s=1.0) for seed in range(4)]

    assert all(d.basis is not Basis.REGRESSION for d in decisions), [d.reason for d in decisions]
    assert all(d.action is not Action.ROLLBACK or d.basis is Basis.TRAFFIC_SPLIT for d in decisions)


@pytest.mark.slow
def test_a_real_latency_regression_read_a_scrape_apart_is_rolled_back_within_a_few_scrapes() -> (
    None
):
    for seed, phases in ((0, (9, 2)), (1, (2, 9)), (2, (9, 2)), (3, (2, 9))):
        decision = _rollout(seed, weight=0.2, phases=phases, lag_s=SCRAPE_S, canary_median=96.0)
        assert decision.action is Action.ROLLBACK
        assert decision.basis is Basis.REGRESSION
        assert decision.metric is not None and decision.metric.startswith("latency_")
        # read together, these counts show the shift after about 10 s
        assert decision.at <= 10 + 3 * SCRAPE_S + READ_S


@pytest.mark.slow
def test_a_real_error_regression_read_a_scrape_apart_is_rolled_back_within_a_few_scrapes() -> None:
    for seed, phases in ((0, (9, 2)), (1, (2, 9)), (2, (9, 2)), (3, (2, 9))):
        decision = _rollout(seed, weight=0.2, phases=phases, lag_s=SCRAPE_S, canary_errors=0.02)
        assert decision.action is Action.ROLLBACK
        assert decision.basis is Basis.REGRESSION
        assert decision.metric == "errors"
        # read together, these counts show it after 10-20 s
        assert decision.at <= 10 + 3 * SCRAPE_S + READ_S


@pytest.mark.slow
@pytest.mark.parametrize("phases", [(9, 2), (2, 9)])
def test_an_incident_both_variants_share_is_not_blamed_on_the_canary(
    phases: tuple[int, int],
) -> None:
    """Both fail a fifth of their requests for 30 s, counted a scrape apart: whichever
    variant is scraped first, the canary is not rolled back for it."""
    decisions = [
        _rollout(seed, weight=0.2, phases=phases, lag_s=SCRAPE_S, incident_at=start)
        for seed, start in enumerate((12, 31, 47, 66))
    ]

    assert all(d.action is not Action.ROLLBACK for d in decisions), [d.reason for d in decisions]


@pytest.mark.slow
def test_a_traffic_surge_counted_for_one_variant_first_is_no_wrong_split() -> None:
    """Ten times the traffic for 30 s: the variant scraped first counts it first, which
    for a scrape looks like a split far off the weight."""
    decisions = [
        _rollout(seed, weight=0.2, phases=phases, lag_s=SCRAPE_S, surge_at=start)
        for seed, (phases, start) in enumerate(
            (((9, 2), 20), ((2, 9), 20), ((9, 2), 61), ((2, 9), 61), ((9, 2), 100), ((2, 9), 7))
        )
    ]

    assert all(d.action is not Action.ROLLBACK for d in decisions), [d.reason for d in decisions]
