"""Where an e-value crosses its threshold: the edges of the judge's confidence bounds.

A confidence bound is the boundary between the parameters an e-value rejects (its log at
or above the threshold) and those it keeps. Each search here works on ``g(x)``, the log
e-value minus the log threshold at the parameter ``x`` (the logit of a probability), from
a bracket whose ``outside`` end is rejected (``g >= 0``) and ``inside`` end kept
(``g < 0``), and returns a *rejected* point no farther than :data:`XTOL` from a kept one:
a bound is never narrower than the boundary (a confidence set read off it still holds),
and at most :data:`XTOL` wider in the search's coordinate.

* :func:`crossing`: Brent's method (secant and inverse quadratic steps, a bisection
  whenever they would not shrink the bracket fast enough) for any ``g``: about 6
  evaluations from a start near the crossing (the previous look's bound), 10-16 from a
  wide bracket, where a bisection to the same tolerance needs about 30.
* :func:`convex_crossing`: Newton's method from the rejected end for a convex ``g`` with
  its derivative: the tangent of a convex function lies below it, so every step lands on
  the rejected side, and it converges in a handful of steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: the largest distance, in the search's coordinate, between the point a search returns
#: and a kept point (in logit: about the relative error of a small bound)
XTOL = 1e-7
#: evaluations after which a search stops, at the rejected end of its bracket
MAX_EVALUATIONS = 100


def crossing(
    g: Callable[[float], float],
    outside: float,
    inside: float,
    *,
    start: float | None = None,
    g_outside: float | None = None,
    xtol: float = XTOL,
) -> float:
    """A point ``x`` with ``g(x) >= 0`` within ``xtol`` of one with ``g < 0``.

    ``g(outside) >= 0 > g(inside)``; ``g_outside``: ``g(outside)`` when already known;
    ``start``: a point between them likely near the crossing (a previous answer, a
    cheaper bound's), which narrows the bracket first. Brent's method as scipy's
    ``brentq`` runs it, on the classes "rejected" and "kept" instead of signs (so a zero
    counts as rejected), returning the rejected end of the final bracket.
    """
    x_pre, g_pre = outside, g(outside) if g_outside is None else g_outside
    x_cur, g_cur = inside, None
    if start is not None and min(outside, inside) < start < max(outside, inside):
        at_start = g(start)
        if at_start >= 0:
            x_pre, g_pre = start, at_start
        else:
            x_cur, g_cur = start, at_start
    if g_cur is None:
        g_cur = g(x_cur)
    if g_pre < 0 or g_cur >= 0:
        raise ValueError("crossing needs g(outside) >= 0 > g(inside)")
    x_blk, g_blk = x_pre, g_pre  # the end of the bracket across from x_cur
    s_pre = s_cur = x_cur - x_pre
    delta = xtol / 2
    for _ in range(MAX_EVALUATIONS):
        if (g_pre >= 0) != (g_cur >= 0):
            x_blk, g_blk = x_pre, g_pre
            s_pre = s_cur = x_cur - x_pre
        if abs(g_blk) < abs(g_cur):  # x_cur: the end nearer the crossing
            x_pre, x_cur, x_blk = x_cur, x_blk, x_cur
            g_pre, g_cur, g_blk = g_cur, g_blk, g_cur
        half = (x_blk - x_cur) / 2
        if abs(half) < delta:
            break
        s_pre, s_cur = _step(x_pre, g_pre, x_cur, g_cur, x_blk, g_blk, s_pre, s_cur, delta)
        x_pre, g_pre = x_cur, g_cur
        x_cur += s_cur if abs(s_cur) > delta else (delta if half > 0 else -delta)
        g_cur = g(x_cur)
    return x_cur if g_cur >= 0 else x_blk


def _step(
    x_pre: float,
    g_pre: float,
    x_cur: float,
    g_cur: float,
    x_blk: float,
    g_blk: float,
    s_pre: float,
    s_cur: float,
    delta: float,
) -> tuple[float, float]:
    """Brent's next step from ``x_cur`` (and the step before it): an interpolation when it
    promises to shrink the bracket fast enough, else half the bracket."""
    half = (x_blk - x_cur) / 2
    if abs(s_pre) > delta and abs(g_cur) < abs(g_pre):
        if x_pre == x_blk:  # secant
            trial = -g_cur * (x_cur - x_pre) / (g_cur - g_pre)
        else:  # inverse quadratic interpolation
            d_pre = (g_pre - g_cur) / (x_pre - x_cur)
            d_blk = (g_blk - g_cur) / (x_blk - x_cur)
            trial = -g_cur * (g_blk * d_blk - g_pre * d_pre) / (d_blk * d_pre * (g_blk - g_pre))
        if 2 * abs(trial) < min(abs(s_pre), 3 * abs(half) - delta):
            return s_cur, trial
    return half, half


def convex_crossing(
    g: Callable[[float], tuple[float, float]],
    outside: float,
    *,
    start: float | None = None,
    xtol: float = XTOL,
) -> float | None:
    """Newton's method from the rejected side, for a ``g`` convex from ``outside`` to the
    crossing: from ``start`` when ``g`` rejects it, else from ``outside``; None when
    ``g`` keeps ``outside`` too (no crossing to find).

    ``g`` returns its value and derivative. Each step goes to where the tangent crosses
    zero; the tangent lies below a convex function, so ``g`` stays >= 0 there and the
    steps approach the crossing from the rejected side only. Once a step is shorter than
    ``xtol``, one probe ``xtol`` farther shows a kept point that near (else the steps go
    on from the probe). Should rounding land a step on the kept side, Brent's method
    finishes inside that step.
    """
    value = -1.0
    if start is not None:
        x = start
        value, slope = g(x)
    if value < 0:
        x = outside
        value, slope = g(x)
        if value < 0:
            return None
    for _ in range(MAX_EVALUATIONS):
        if slope == 0:  # the minimum, and still rejected: no crossing on this side
            break
        step = -value / slope
        short = abs(step) < xtol
        nxt = x + (math.copysign(xtol, step) if short else step)
        value_next, slope_next = g(nxt)
        if value_next < 0:
            if short:
                break
            return crossing(lambda t: g(t)[0], x, nxt, g_outside=value, xtol=xtol)
        x, value, slope = nxt, value_next, slope_next
    return x
