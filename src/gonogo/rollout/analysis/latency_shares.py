"""The latency e-value: the canary's share of the requests slower than the baseline's quantile.

Lindon & Malek's conditional argument, the one behind the error test, applied to
latency. Each request goes to the canary with probability ``w``, its weight. Split the
requests of an observation at a threshold ``tau``, the baseline's ``p``-quantile as
estimated from the observations *before* it. Among the requests slower than ``tau``, the
canary's share is

    w P_c(X > tau) / (w P_c(X > tau) + (1 - w) P_b(X > tau)),

at most ``w`` unless the canary is more often slower than ``tau`` than the baseline is,
that is unless the canary is worse at the level ``tau`` stands for. Among the requests at
or below ``tau`` the canary's share is then at least ``w``. So two one-sided
beta-binomial mixtures (those of :func:`~gonogo.rollout.analysis.evalues.log_bb_e_upper`,
at one concentration), one on each side, are supermartingales
while the canary is not slower than the baseline around its ``p``-quantile; the two sides
hold different requests, so their product is one too, and by Ville's inequality it
reaches ``1/alpha`` with probability at most ``alpha``, however often it is looked at.

The threshold may move as the baseline's estimate improves (any threshold computed from
earlier observations keeps the argument), so the null is "not slower at any threshold
the test used": the baseline's ``p``-quantile and, while the baseline had few samples,
its neighbourhood. When both variants share one latency law it holds exactly, whatever
the thresholds. As for errors, the share changes with the weight, so a fresh e-process
starts at each step and the steps' values multiply.

Why this rather than comparing the two variants' confidence sequences: it needs no
search over a common quantile, spends the whole error budget on one statistic, and uses
both sides of the threshold. On the benchmark's scenarios it detects a tail-only shift
and a median shift about 1.5x sooner than the separation of the sequences did
(docs/rollout-analysis.md).
"""

from __future__ import annotations

import math
from bisect import bisect_right

from gonogo.rollout.analysis import evalues
from gonogo.rollout.analysis.histogram import NUM_BUCKETS, BucketCounts, LatencyHistogram
from gonogo.rollout.analysis.interface import Direction
from gonogo.rollout.analysis.latency_scores import MIX, Score, ScoreBins, score_for
from gonogo.rollout.analysis.odds import PairedOdds

#: baseline samples needed before the threshold is trusted and requests are counted
REF_MIN = 20
#: recompute the thresholds once the baseline grew by this fraction (placing them costs as
#: much as counting a few observations; a quantile from 4/5 of the data is as good a cut)
THRESHOLD_GROWTH = 0.25
#: prior concentration of the share mixtures: one, where the error test averages two (4
#: and 64): with the shares a quarter or an eighth of a level's e-value, averaging two
#: changed no detection time on the benchmark (60 runs of every latency scenario) and
#: cost a sixth of the judge's instructions while a latency shift is being detected at
#: 200 rps (7.0k per request instead of 5.8k)
CONCENTRATION = 16.0


class LevelShares:
    """Counts on both sides of one level's threshold, and the level's e-process: the
    shares' mixed with the rank scores' by the fixed weights
    :data:`~gonogo.rollout.analysis.latency_scores.MIX`."""

    def __init__(self, level: float, direction: Direction, bins: ScoreBins) -> None:
        self.level = level
        self.higher_worse = direction is Direction.HIGHER_IS_WORSE
        self.bins = bins  # the tracker's, shared by every level
        self.score = score_for(level)
        self.mix = MIX[self.score]
        """the rank scores in this level's e-value, with their weights"""
        self.shares_weight = 1.0 - sum(weight for _, weight in self.mix)
        self.threshold: int | None = None
        """bucket index of the baseline's quantile estimate (None: too few samples yet)"""
        self.worse = [0, 0]
        """this step's requests on the worse side: the canary's, all"""
        self.other = [0, 0]
        """this step's requests on the other side: the canary's, all"""
        self._weight: float | None = None
        self._odds: PairedOdds | None = None
        """while counts lag: the worse side's evidence given each batch's counted share
        (:mod:`gonogo.rollout.analysis.odds`)"""
        self._log_e_done = 0.0
        self._cache: tuple[tuple[int, int, int, int, int], float] = ((-1, -1, -1, -1, -1), 0.0)

    def begin_step(self, weight: float, *, lagging: bool = False) -> None:
        """Close the running e-process (its value multiplies in) and start a fresh one;
        ``lagging``: the step's counts lag, so each observation is weighed against the
        share of requests counted in it instead of against the weight."""
        self._log_e_done += self._log_e_step()
        self._weight = weight
        self.worse = [0, 0]
        self.other = [0, 0]
        self._cache = ((-1, -1, -1, -1, -1), 0.0)
        self._odds = PairedOdds() if lagging else None

    @property
    def batch_open(self) -> bool:
        """Whether, while counts lag, a batch has counts and is not closed yet."""
        return self._odds is not None and self._odds.open

    def threshold_moved(self) -> None:
        """While counts lag, batches split at the old threshold are not paired with
        batches split at the new one (the canary's counts would be weighed against the
        baseline's split elsewhere)."""
        if self._odds is not None:
            self._odds.restart()

    def counted(self, k_above: int, n_above: int, k_all: int, n_all: int) -> None:
        """One observation: the canary's and all requests above the threshold, and in all."""
        k_below, n_below = k_all - k_above, n_all - n_above
        if self.higher_worse:
            (k_worse, n_worse), (k_other, n_other) = (k_above, n_above), (k_below, n_below)
        else:
            (k_worse, n_worse), (k_other, n_other) = (k_below, n_below), (k_above, n_above)
        self.worse[0] += k_worse
        self.worse[1] += n_worse
        self.other[0] += k_other
        self.other[1] += n_other
        if self._odds is not None:
            # the worse side only: given the batch's counts the other side's canary count
            # is the batch's less this one, the same evidence again, not more of it
            self._odds.add(k_worse, k_all, n_worse - k_worse, n_all - k_all)

    def _log_e_step(self) -> float:
        w = self._weight
        if w is None:
            return 0.0
        key = (self.worse[0], self.worse[1], self.other[0], self.other[1], self.bins.version)
        if key == self._cache[0]:
            return self._cache[1]
        shares = self._log_shares_step(w)
        # while counts lag the rank scores are left out, so the shares carry all the weight
        # (the weights are fixed when the step begins, before any of its data)
        value = shares if self._odds is not None else self._mixed(shares)
        self._cache = (key, value)
        return value

    def _log_shares_step(self, w: float) -> float:
        if self._odds is not None:
            return self._odds.log_e()
        (k_worse, n_worse), (k_other, n_other) = self.worse, self.other
        # the canary over-represented on the worse side, the baseline on the other
        return _mixture(k_worse, n_worse, w) + _mixture(n_other - k_other, n_other, 1.0 - w)

    def _mixed(self, log_shares: float) -> float:
        """The step's e-value: the shares' and the rank scores', mixed with fixed weights."""
        terms = [(self.shares_weight, log_shares)]
        terms += [(weight, self._log_scores_step(kind)) for kind, weight in self.mix]
        return _log_weighted_sum_exp(terms)

    def _log_scores_step(self, kind: Score) -> float:
        if self._odds is not None:
            # the rank scores weigh each request against the weight itself; with counts
            # that lag they are left out
            return 0.0
        return self.bins.log_e_step(kind, self.higher_worse)

    def log_e(self) -> float:
        """log of the product of the steps' e-values so far."""
        return self._log_e_done + self._log_e_step()

    def log_e_bound(self) -> float:
        """A cheap upper bound on :meth:`log_e` (each side's likelihood ratio at its best)."""
        w = self._weight
        if w is None:
            return self._log_e_done
        if self._odds is not None:  # a few logarithms already
            return self.log_e()
        (k_worse, n_worse), (k_other, n_other) = self.worse, self.other
        shares = evalues.log_glr_upper(k_worse, n_worse, w) + evalues.log_glr_upper(
            n_other - k_other, n_other, 1.0 - w
        )
        # the same mixture, with the shares at their best
        return self._log_e_done + self._mixed(shares)

    def describe(self) -> str:
        """This step's shares and rank-score evidence in words."""
        (k_worse, n_worse), (k_other, n_other) = self.worse, self.other
        side = "slower" if self.higher_worse else "faster"
        scores = ", ".join(
            f"{kind.value} {math.exp(min(self._log_scores_step(kind), 700.0)):.3g}"
            for kind, _ in self.mix
        )
        return (
            f"{k_worse} of {n_worse} requests {side} than the baseline's "
            f"p{self.level * 100:g} were the canary's, {k_other} of {n_other} on the other "
            f"side; this step's rank-score e-values: {scores}"
        )


def _log_weighted_sum_exp(terms: list[tuple[float, float]]) -> float:
    """log(sum of weight * e^value) over (weight, value) pairs whose weights sum to 1."""
    top = max(value for _, value in terms)
    return top + math.log(sum(weight * math.exp(value - top) for weight, value in terms))


def _mixture(successes: int, trials: int, p: float) -> float:
    if trials == 0:
        return 0.0
    return evalues.log_bb_e_upper(successes, trials, p, CONCENTRATION)


class SharesTracker:
    """Every tracked level's counts, updated in one pass over each observation's buckets."""

    def __init__(self) -> None:
        self._levels: dict[tuple[float, bool], LevelShares] = {}
        self._seen = 0  # baseline total when the thresholds were last computed
        self._cuts: list[int] = []  # the distinct thresholds, sorted
        self._placed: list[tuple[LevelShares, int]] = []  # each level and its cut's index
        self.bins = ScoreBins()  # the rank scores' counts, shared by every level
        self._merged: list[int] = []  # the levels' and the bins' cuts together, sorted
        self._gap_at = [0] * NUM_BUCKETS  # each bucket's gap between merged cuts
        self._gap_of: list[int] = [0]  # per merged gap: the level gap ...
        self._bin_of: list[int] = [0]  # ... and the score bin

    def track(self, level: float, direction: Direction) -> LevelShares:
        """The counts for ``level`` (shared by every test that asks for the same one)."""
        key = (level, direction is Direction.HIGHER_IS_WORSE)
        found = self._levels.get(key)
        if found is None:
            found = self._levels[key] = LevelShares(level, direction, self.bins)
            self._seen = 0  # a new level needs its threshold
        return found

    def begin_step(self, weight: float, *, lagging: bool = False) -> None:
        """A new weight: every level starts a fresh e-process (``lagging``: its counts
        lag, see :meth:`LevelShares.begin_step`)."""
        for shares in self._levels.values():
            shares.begin_step(weight, lagging=lagging)  # each closes its step with the bins'
        self.bins.begin_step(weight)

    def _place(self, reference: BucketCounts) -> None:
        """Each level's threshold, the reference's quantile at that level, and its cut.

        The worse side never includes the threshold's own bucket: requests above it when
        higher is worse, below it when lower is worse (a cut one bucket lower).
        """
        self._seen = reference.total
        cuts, bin_cuts = self._cuts, self.bins.cuts
        self.bins.place(reference)
        for shares in self._levels.values():
            moved = reference.find(max(1, math.ceil(shares.level * reference.total)))
            if moved != shares.threshold:
                shares.threshold = moved
                shares.threshold_moved()
        self._cuts = sorted({_cut(s) for s in self._levels.values() if s.threshold is not None})
        self._placed = [
            (s, self._cuts.index(_cut(s))) for s in self._levels.values() if s.threshold is not None
        ]
        if self._cuts != cuts or self.bins.cuts != bin_cuts:  # quantiles often stay put
            self._merge()

    def _merge(self) -> None:
        """One sorted list of the levels' and the score bins' cuts, so that a bucket needs
        one search: between two neighbouring merged cuts no cut of either kind lies, so
        every bucket there has the same level gap and the same bin."""
        merged = sorted({*self._cuts, *self.bins.cuts})
        lows = [-1, *merged]  # the bucket just below each merged gap
        self._merged = merged
        self._gap_of = [bisect_right(self._cuts, low) for low in lows]
        self._bin_of = [bisect_right(self.bins.cuts, low) for low in lows]
        # every bucket's merged gap (the number of merged cuts below it), so that counting
        # an observation costs one lookup and one addition per bucket
        gap_at: list[int] = []
        start = 0
        for gap, cut in enumerate(merged):
            gap_at += [gap] * (cut + 1 - start)
            start = max(start, cut + 1)
        gap_at += [len(merged)] * (NUM_BUCKETS - start)
        self._gap_at = gap_at

    def count(
        self, baseline: LatencyHistogram, canary: LatencyHistogram, reference: BucketCounts
    ) -> bool:
        """Count one observation against thresholds from ``reference`` (earlier data only);
        False when it is not counted (no thresholds yet)."""
        if not self._levels or reference.total < REF_MIN:
            return False
        # while counts lag, between batches only: one batch's counts are split at one place
        if reference.total > self._seen * (1 + THRESHOLD_GROWTH) and not any(
            shares.batch_open for shares in self._levels.values()
        ):
            self._place(reference)
        above_canary, above_all, n_canary, n_all = self._tally(baseline, canary)
        self.bins.counted(n_all)
        for shares, index in self._placed:
            shares.counted(above_canary[index], above_all[index], n_canary, n_all)
        return True

    def _tally(
        self, baseline: LatencyHistogram, canary: LatencyHistogram
    ) -> tuple[list[int], list[int], int, int]:
        """Per cut, the canary's and all requests above it, then the canary's and all
        requests; the score bins' counts are added to on the way."""
        # each variant's requests per merged gap: between two neighbouring merged cuts
        gap_at, size = self._gap_at, len(self._merged) + 1
        per_canary = [0] * size
        for bucket, count in canary.counts.items():
            per_canary[gap_at[bucket]] += count
        per_baseline = [0] * size
        for bucket, count in baseline.counts.items():
            per_baseline[gap_at[bucket]] += count
        # ... then per level gap (gap g: above cuts[:g], at or below cuts[g:]) and score bin
        levels = len(self._cuts)
        level_canary, level_all = [0] * (levels + 1), [0] * (levels + 1)
        every, mine, gap_of, bin_of = self.bins.all, self.bins.canary, self._gap_of, self._bin_of
        for gap in range(size):
            k = per_canary[gap]
            n = k + per_baseline[gap]
            if n:
                level = gap_of[gap]
                level_canary[level] += k
                level_all[level] += n
                slot = bin_of[gap]
                every[slot] += n
                mine[slot] += k
        # a request in bucket b is above every threshold t with t < b
        above_canary, above_all = [0] * levels, [0] * levels
        k_run = n_run = 0
        for index in range(levels - 1, -1, -1):
            k_run += level_canary[index + 1]
            n_run += level_all[index + 1]
            above_canary[index], above_all[index] = k_run, n_run
        return above_canary, above_all, k_run + level_canary[0], n_run + level_all[0]


def _cut(shares: LevelShares) -> int:
    """Requests in buckets above the cut are on the "above" side."""
    threshold = shares.threshold if shares.threshold is not None else 0
    return threshold if shares.higher_worse else threshold - 1
