"""The e-processes are nonnegative martingales under the null and keep their error rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from gonogo.rollout.analysis import evalues
from gonogo.rollout.analysis.metrics import rate_bounds
from gonogo.rollout.analysis.roots import XTOL
from tests.rollout.helpers import binomial_tolerance


def _log_mix(p: float, log_success: float, log_failure: float) -> float:
    """log(p * e^a + (1 - p) * e^b): the expected next e-value, in logs (no overflow)."""
    top = max(log_success, log_failure)
    return top + math.log(p * math.exp(log_success - top) + (1 - p) * math.exp(log_failure - top))


probabilities = st.floats(min_value=0.01, max_value=0.99)
concentrations = st.floats(min_value=0.5, max_value=100.0)


@given(st.integers(0, 400), st.integers(0, 400), probabilities, concentrations)
@settings(max_examples=200, deadline=None)
def test_the_mixture_e_process_is_a_martingale_under_the_null(
    k: int, extra: int, p: float, c: float
) -> None:
    n = k + extra
    now = evalues.log_bb_e(k, n, p, c)
    expected_next = _log_mix(
        p, evalues.log_bb_e(k + 1, n + 1, p, c), evalues.log_bb_e(k, n + 1, p, c)
    )
    assert expected_next == pytest.approx(now, rel=1e-9, abs=1e-9)


@given(st.integers(0, 200), st.integers(0, 200), probabilities, concentrations)
@settings(max_examples=200, deadline=None)
def test_the_one_sided_mixture_is_a_martingale_under_the_null(
    k: int, extra: int, p: float, c: float
) -> None:
    n = k + extra
    now = evalues.log_bb_e_upper(k, n, p, c)
    expected_next = _log_mix(
        p, evalues.log_bb_e_upper(k + 1, n + 1, p, c), evalues.log_bb_e_upper(k, n + 1, p, c)
    )
    assert expected_next == pytest.approx(now, rel=1e-7, abs=1e-7)


@given(
    st.floats(min_value=1e-4, max_value=0.9999),
    st.floats(min_value=0.05, max_value=5000.0),
    st.floats(min_value=0.05, max_value=5000.0),
)
@settings(max_examples=200, deadline=None)
def test_the_incomplete_beta_matches_scipy(x: float, a: float, b: float) -> None:
    expected = special.betainc(a, b, x)
    got = math.exp(evalues.log_betainc(x, a, b))
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-300)


def _crossing_rate(table: np.ndarray, p: float, runs: int, length: int, seed: int) -> float:
    """Fraction of Bernoulli(p) paths whose e-value ever reaches the threshold (table: crossed)."""
    rng = np.random.default_rng(seed)
    paths = np.cumsum(rng.random((runs, length)) < p, axis=1)
    steps = np.arange(1, length + 1)
    return float(table[paths, steps].any(axis=1).mean())


@pytest.mark.parametrize("p", [0.05, 0.5])
def test_looking_after_every_event_keeps_false_alarms_below_alpha(p: float) -> None:
    alpha, length, runs = 0.05, 300, 4000
    log_threshold = math.log(1 / alpha)
    crossed = np.zeros((length + 1, length + 1), dtype=bool)
    for n in range(1, length + 1):
        for k in range(n + 1):
            # the judge's error e-process: the mean of two one-sided mixtures; and the
            # two-sided mixture on its own, each at alpha/2
            mean_upper = _log_mix(
                0.5, evalues.log_bb_e_upper(k, n, p, 4.0), evalues.log_bb_e_upper(k, n, p, 64.0)
            )
            either = max(mean_upper, evalues.log_bb_e(k, n, p, 25.0))
            crossed[k, n] = either >= log_threshold + math.log(2)

    rate = _crossing_rate(crossed, p, runs, length, seed=11)

    assert rate <= binomial_tolerance(alpha, runs)


def test_the_share_confidence_sequence_covers_the_truth_at_every_look() -> None:
    alpha, p, length, runs = 0.05, 0.2, 200, 1000
    rng = np.random.default_rng(5)
    paths = np.cumsum(rng.random((runs, length)) < p, axis=1)
    missed = 0
    for path in paths[:, ::10]:
        for look, k in enumerate(path, start=1):
            low, high = evalues.share_bounds(int(k), look * 10, math.log(1 / alpha), 4.0)
            if not low <= p <= high:
                missed += 1
                break

    assert missed / runs <= binomial_tolerance(alpha, runs)


@given(st.integers(1, 3000), probabilities, st.integers(0, 3000), st.integers(0, 3000))
@settings(max_examples=100, deadline=None)
def test_the_warm_started_count_bounds_match_the_full_search(
    n: int, p: float, guess_low: int, guess_high: int
) -> None:
    threshold = math.log(200)
    full = evalues.count_bounds(n, p, threshold, 25.0)
    near = evalues.count_bounds_near(n, p, threshold, 25.0, (guess_low, guess_high))
    assert near == full
    low, high = full
    assert evalues.log_bb_e(low, n, p, 25.0) < threshold
    assert evalues.log_bb_e(high, n, p, 25.0) < threshold
    assert low == 0 or evalues.log_bb_e(low - 1, n, p, 25.0) >= threshold
    assert high == n or evalues.log_bb_e(high + 1, n, p, 25.0) >= threshold


def test_the_msprt_keeps_false_alarms_below_alpha_and_detects_a_shift() -> None:
    alpha, runs, looks, batch = 0.05, 1000, 100, 10
    rng = np.random.default_rng(8)
    threshold = math.log(1 / alpha)
    tau2 = 0.25

    def crossed(shift: float) -> float:
        x = rng.normal(shift, 1.0, (runs, looks * batch))
        n = np.arange(1, looks * batch + 1)
        means = np.cumsum(x, axis=1) / n
        hits = 0
        for row in means:
            for look in range(batch - 1, looks * batch, batch):
                variance = 1.0 / (look + 1)
                if evalues.normal_mixture_log_e(float(row[look]), variance, tau2) >= threshold:
                    hits += 1
                    break
        return hits / runs

    assert crossed(0.0) <= binomial_tolerance(alpha, runs)
    assert crossed(0.3) >= 0.95


def test_the_msprt_radius_is_where_the_e_value_reaches_the_threshold() -> None:
    variance, tau2, threshold = 0.04, 1.0, math.log(100)
    radius = evalues.normal_mixture_radius(variance, tau2, threshold)
    assert evalues.normal_mixture_log_e(radius, variance, tau2) == pytest.approx(threshold)


@given(st.integers(0, 2000), st.integers(0, 2000), probabilities, concentrations)
@settings(max_examples=200, deadline=None)
def test_the_likelihood_ratio_bound_is_never_below_the_mixtures(
    k: int, extra: int, p: float, c: float
) -> None:
    """The judge skips the exact e-value while this cheap bound is far below its threshold."""
    n = k + extra
    assert evalues.log_glr_upper(k, n, p) >= evalues.log_bb_e_upper(k, n, p, c) - 1e-9
    assert evalues.log_glr(k, n, p) >= evalues.log_bb_e(k, n, p, c) - 1e-9


@given(st.integers(0, 500), st.integers(1, 5000))
@settings(max_examples=100, deadline=None)
def test_the_cheap_rate_bounds_lie_inside_the_mixture_bounds(k: int, n: int) -> None:
    """So a gap they leave above the tolerance is certainly above it."""
    k = min(k, n)
    cheap_low, cheap_high = evalues.glr_bounds(k, n, math.log(200))
    low, high = rate_bounds(k, n, math.log(200))
    assert low <= cheap_low + 1e-6 and cheap_high <= high + 1e-6


@given(
    st.integers(0, 3000),
    st.integers(0, 3000),
    st.floats(min_value=1.0, max_value=15.0),
    st.floats(min_value=0.5, max_value=2.0),
)
@settings(max_examples=150, deadline=None)
def test_the_share_bounds_sit_just_outside_the_kept_shares_wherever_the_search_starts(
    k: int, extra: int, threshold: float, scale: float
) -> None:
    """Each end is rejected, a share XTOL (in logit) inside it is kept, and a start from
    an earlier look's bounds (``scale``: how far they moved) finds the same ends."""
    n = k + extra
    if n == 0:
        return
    low, high = evalues.share_bounds(k, n, threshold, 4.0)
    for end, inward in ((low, XTOL), (high, -XTOL)):
        if end in (0.0, 1.0):
            continue
        # rejected, up to rounding: the search evaluates the logit it returns the expit
        # of, and near 0 or 1 that round trip moves the e-value by ~1e-13
        assert evalues.log_bb_e(k, n, end, 4.0) >= threshold - 1e-9
        kept = evalues.expit(evalues.logit(end) + inward)
        assert evalues.log_bb_e(k, n, kept, 4.0) < threshold
    guess = (min(low * scale, 0.999), min(high * scale, 0.999))
    warm = evalues.share_bounds(k, n, threshold, 4.0, guess)
    assert warm == pytest.approx((low, high), rel=3 * XTOL, abs=1e-300)
