"""The root finders behind the confidence bounds: always on the rejected side, and as close
to the boundary as a long bisection gets."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.rollout.analysis import evalues, roots
from gonogo.rollout.analysis.roots import XTOL


def _bisection(g: Callable[[float], float], outside: float, inside: float) -> float:
    """The reference: 80 halvings of [outside, inside], keeping the rejected end."""
    for _ in range(80):
        middle = (outside + inside) / 2
        if g(middle) >= 0:
            outside = middle
        else:
            inside = middle
    return outside


def _share_excess(
    k: int, n: int, threshold: float, concentration: float
) -> Callable[[float], float]:
    """The share bounds' function: the beta-binomial log e-value at logit(p), less the threshold."""

    def excess(t: float) -> float:
        return evalues.log_bb_e(k, n, evalues.expit(t), concentration) - threshold

    return excess


def _glr_excess(k: int, n: int, threshold: float) -> Callable[[float], tuple[float, float]]:
    """The likelihood ratio's log at logit(p), less the threshold, and its derivative."""

    def excess(t: float) -> tuple[float, float]:
        p = evalues.expit(t)
        return evalues.log_glr(k, n, p) - threshold, n * p - k

    return excess


shares = st.tuples(st.integers(2, 3000), st.floats(0.001, 0.999)).map(
    lambda pair: (max(1, min(pair[0] - 1, round(pair[0] * pair[1]))), pair[0])
)
thresholds = st.floats(min_value=1.0, max_value=15.0)


@given(shares, thresholds, st.sampled_from([4.0, 16.0, 64.0]), st.booleans())
@settings(max_examples=150, deadline=None)
def test_brent_returns_a_rejected_point_next_to_the_boundary_a_bisection_finds(
    share: tuple[int, int], threshold: float, concentration: float, upper: bool
) -> None:
    k, n = share
    g = _share_excess(k, n, threshold, concentration)
    outside = evalues.logit(1 - 1e-12 if upper else 1e-12)
    inside = evalues.logit(k / n)
    if g(outside) < 0:  # nothing rejected on this side
        return
    found = roots.crossing(g, outside, inside)
    assert g(found) >= 0
    assert g(found + (-XTOL if upper else XTOL)) < 0  # a kept point within the tolerance
    assert found == pytest.approx(_bisection(g, outside, inside), abs=2 * XTOL)


@given(shares, thresholds, st.floats(-0.5, 0.5), st.booleans())
@settings(max_examples=150, deadline=None)
def test_a_start_on_either_side_of_the_boundary_finds_the_same_bound(
    share: tuple[int, int], threshold: float, offset: float, upper: bool
) -> None:
    """A previous look's bound (slightly off either way) only saves evaluations."""
    k, n = share
    g = _share_excess(k, n, threshold, 4.0)
    outside = evalues.logit(1 - 1e-12 if upper else 1e-12)
    inside = evalues.logit(k / n)
    if g(outside) < 0:
        return
    cold = roots.crossing(g, outside, inside)
    warm = roots.crossing(g, outside, inside, start=cold + offset)
    assert g(warm) >= 0
    assert warm == pytest.approx(cold, abs=2 * XTOL)


def test_a_jump_is_found_to_the_tolerance_on_its_rejected_side() -> None:
    """No interpolation helps with a step; the bisection steps still close in on it."""

    def step(t: float) -> float:
        return 1.0 if t < 0.3 else -1.0

    found = roots.crossing(step, -20.0, 5.0)
    assert found < 0.3
    assert 0.3 - found <= XTOL


def test_a_bracket_without_a_crossing_is_refused() -> None:
    with pytest.raises(ValueError, match="crossing needs"):
        roots.crossing(lambda t: -1.0, 0.0, 1.0)


@given(shares, thresholds, st.booleans(), st.booleans())
@settings(max_examples=150, deadline=None)
def test_newton_on_a_convex_function_stays_on_the_rejected_side(
    share: tuple[int, int], threshold: float, upper: bool, near_start: bool
) -> None:
    k, n = share
    g = _glr_excess(k, n, threshold)
    outside = evalues.logit(1 - 1e-9 if upper else 1e-12)
    inside = evalues.logit(k / n)
    start = inside + (1.0 if upper else -1.0) if near_start else None
    found = roots.convex_crossing(g, outside, start=start)
    if g(outside)[0] < 0:
        assert found is None
        return
    assert found is not None
    assert g(found)[0] >= 0
    assert g(found + (-XTOL if upper else XTOL))[0] < 0
    reference = _bisection(lambda t: g(t)[0], outside, inside)
    assert found == pytest.approx(reference, abs=2 * XTOL)


def test_the_likelihood_ratio_bound_is_where_its_ratio_reaches_the_threshold() -> None:
    threshold = math.log(400)
    low, high = evalues.glr_bounds(30, 3000, threshold)
    for bound in (low, high):
        assert evalues.log_glr(30, 3000, bound) >= threshold
        assert evalues.log_glr(30, 3000, bound) == pytest.approx(threshold, abs=1e-5)
