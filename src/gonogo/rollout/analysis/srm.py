"""Sample-ratio mismatch (SRM): does the canary get the share of requests it was given?

Every comparison the sequential judge makes rests on the router doing what it was told:
the error and latency tests compare the canary's share of the errors (of the slow
requests) with its configured weight ``w``, and the error bounds behind early promotion
are computed against ``w``. When the canary's actual
share of requests is not ``w`` (a router that did not apply the weight, a sticky split,
a canary whose requests are lost before they are counted, a load balancer ejecting a
failing canary), those comparisons are biased in a direction nobody knows.

The test: each request goes to the canary with probability ``w``, so given the total the
canary's count is Binomial(n, w). Lindon & Malek's Dirichlet-multinomial mixture for two
arms (a beta-binomial) gives an e-process against that. Optionally the null is widened
to shares within a relative ``tolerance`` of ``w``:

    E = mean_c [ B(a + k, b + n - k) / B(a, b) ] / max_{p in H0} p^k (1 - p)^(n - k),
    a = c*w, b = c*(1 - w), H0 = [w (1 - tolerance), w (1 + tolerance)]

For any true share ``p`` in H0 the denominator is at least ``p^k (1-p)^(n-k)``, so ``E``
is at most a mixture of likelihood ratios: a nonnegative martingale under the null, and
by Ville's inequality it reaches ``1/alpha_srm`` with probability at most ``alpha_srm``
however often it is looked at. A fresh e-process starts at each weight change and the
steps' values multiply, as for the error test. Observations inside a warm-up are not
counted: requests routed under the previous weight may still be landing.

The default tolerance is zero, on purpose: the share tests (errors, latency) compare
shares with ``w`` and a bias in the split biases them. This test sees every request
while they see only errors or slow requests, so it flags any bias long before the bias
could tip them; a tolerance would leave a bias that is never flagged but slowly tips
them. The routers gonogo drives split exactly (stride scheduling, ``split_clients`` to
0.01%, HTTPRoute weights to 0.01%), and offsets that do not grow (requests in flight
across a weight change) fade as the counts grow.

Counts that lag are another matter. A source that reads scraped counters (Prometheus)
sees each variant as of its own last scrape, up to ``L`` seconds (the scrape interval)
apart, and the step's counts run from its first read to its last, so each variant's
count covers between ``T - L`` and ``T + L`` of the step's ``T`` counted seconds. Early
in a step that offset is most of the counts ("the canary got 0 of 108 requests"), and
since the evidence of a fixed offset is largest while the counts are small, the check
would roll back a healthy canary in its first seconds. So the null also holds every
share the lag can explain, from ``w (T - L) / (w (T - L) + (1 - w)(T + L))`` to
``w (T + L) / (w (T + L) + (1 - w)(T - L))`` (every share while ``T <= L``), a band that
narrows as the step goes on; a router that does not split as told still stands out.
(While counts lag the share tests weigh each batch against the share of requests counted
in it, :mod:`~gonogo.rollout.analysis.odds`, so a split off its weight does not bias
them then.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from gonogo.rollout.analysis import evalues
from gonogo.rollout.analysis.interface import JudgeError
from gonogo.rollout.analysis.lag import CountLag, Surge

#: prior concentrations of the share mixture: a gross mismatch (wrong weight) and a
#: moderate one (a few percent of the canary's requests lost), averaged
SRM_CONCENTRATIONS = (16.0, 1024.0)


class SrmAction(StrEnum):
    """What a detected mismatch does to the judge's decision."""

    ROLLBACK = "rollback"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class SrmCheck:
    """Settings of the sample-ratio check of the sequential judge.

    ``action``: roll back (the default) or end the step inconclusive. ``alpha_share``: the
    fraction of the judge's family-wise alpha the check may spend (a rolled-back healthy
    canary is a false rollback, so with ``rollback`` the metrics keep the rest).
    ``tolerance``: relative deviation of the share from the weight that is not a mismatch.
    """

    action: SrmAction = SrmAction.ROLLBACK
    alpha_share: float = 0.05
    tolerance: float = 0.0
    concentrations: tuple[float, ...] = SRM_CONCENTRATIONS

    def __post_init__(self) -> None:
        if not 0 < self.alpha_share < 1:
            raise JudgeError(f"srm alpha_share {self.alpha_share:g} is not between 0 and 1")
        if not 0 <= self.tolerance < 1:
            raise JudgeError(f"srm tolerance {self.tolerance:g} is not in [0, 1)")
        if not self.concentrations or min(self.concentrations) <= 0:
            raise JudgeError("srm concentrations must be positive")


class SampleRatioTest:
    """The canary's share of requests against its weight, one e-process per step."""

    def __init__(self, check: SrmCheck, lag: CountLag | None = None) -> None:
        """``lag``: the step's counted time and lag, kept by whoever counts (the judge)."""
        self.check = check
        self._log_e_done = 0.0
        self._weight: float | None = None
        self._canary = 0
        self._total = 0
        self._lag = lag if lag is not None else CountLag()
        self._surge = Surge()
        self._cache: tuple[int, int, float, float] = (-1, -1, 0.0, 0.0)

    def begin_step(self, weight: float) -> None:
        """Close the running e-process (its value multiplies in) and start a fresh one."""
        self._log_e_done += self._log_e_step()
        self._weight = weight
        self._canary = self._total = 0
        self._surge = Surge()

    def add(self, baseline_requests: int, canary_requests: int) -> None:
        """Count one observation's requests (while counts lag, and how busy their edges
        were: see :class:`~gonogo.rollout.analysis.lag.Surge`)."""
        self._canary += canary_requests
        self._total += baseline_requests + canary_requests
        lag = self._lag
        if lag.lag > 0 and self._weight is not None:
            lag.start, lag.end = self._surge.add(
                lag.at, lag.since, baseline_requests, canary_requests
            )

    def size(self) -> int:
        """Requests counted in this step."""
        return self._total

    @property
    def counts(self) -> tuple[int, int]:
        """This step's canary requests and all requests."""
        return self._canary, self._total

    @property
    def weight(self) -> float | None:
        """The weight the step was given."""
        return self._weight

    @property
    def lag_s(self) -> float:
        """How long one variant's counts may trail the other's in this step."""
        return self._lag.lag

    def null_range(self) -> tuple[float, float]:
        """The shares that count as matching the weight (given the tolerance and the lag)."""
        w = self._weight if self._weight is not None else 0.5
        tol = self.check.tolerance
        return self._lag.band(w * (1 - tol), min(w * (1 + tol), 1.0 - 1e-12))

    def _log_e_step(self) -> float:
        k, n, w = self._canary, self._total, self._weight
        if w is None or n == 0:
            return 0.0
        if self._cache[:3] == (k, n, self._lag.moment):
            return self._cache[3]
        low, high = self.null_range()
        nearest = min(max(k / n, low), high)
        log_null = (k * math.log(nearest) if k else 0.0) + (
            (n - k) * math.log1p(-nearest) if n - k else 0.0
        )
        logs = [
            evalues.log_beta(c * w + k, c * (1 - w) + n - k) - evalues.log_beta(c * w, c * (1 - w))
            for c in self.check.concentrations
        ]
        top = max(logs)
        log_mixture = top + math.log(sum(math.exp(v - top) for v in logs) / len(logs))
        value = log_mixture - log_null
        self._cache = (k, n, self._lag.moment, value)
        return value

    def log_e(self) -> float:
        """log of the product of the steps' e-values so far."""
        return self._log_e_done + self._log_e_step()

    def log_e_bound(self) -> float:
        """A cheap upper bound on :meth:`log_e` (the likelihood ratio at its best)."""
        k, n = self._canary, self._total
        if self._weight is None or n == 0:
            return self._log_e_done
        low, high = self.null_range()
        nearest = min(max(k / n, low), high)
        return self._log_e_done + evalues.log_glr(k, n, nearest)

    def share_bounds(self, log_threshold: float) -> tuple[float, float]:
        """A confidence sequence for this step's true canary share."""
        return evalues.share_bounds(self._canary, self._total, log_threshold, 16.0)
