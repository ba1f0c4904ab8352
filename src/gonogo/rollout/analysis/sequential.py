"""The default judge: sequential, anytime-valid, consulted after every observation.

Per metric an e-process (errors: the canary's share of errors; latency: its share of the
requests on each side of the baseline's quantile, with Howard & Ramdas confidence
sequences for the bounds, for one quantile or every quantile at once; means: the
normal-mixture mSPRT). With ``m`` metrics and a family-wise ``alpha``:

* roll back as soon as one e-process reaches ``m/alpha`` while its estimate points the worse
  way (by Ville's inequality and a union bound, a healthy canary is rolled back with
  probability at most ``alpha`` however often the judge looks). Metrics of one group
  (:attr:`MetricSpec.group`, by default latency p50/p95/p99) count once in ``m``: their
  e-values, each counted while its estimate points the worse way, are averaged (an average
  of e-processes is one), and the average is what reaches ``m/alpha``;
* hard guardrails trip at once, warm-up or not;
* promote the step early once the minimum dwell is over and every metric's confidence
  bound on degradation lies inside its tolerance (non-inferiority);
* otherwise hold until the maximum dwell, then report *inconclusive*: never an
  automatic pass. A step whose canary saw no traffic is inconclusive as "no traffic";
* before any comparison, check that the canary gets the share of requests its weight
  says (:mod:`~gonogo.rollout.analysis.srm`): a mismatch makes every comparison
  untrustworthy, so it rolls back (or, by setting, ends the step inconclusive) with basis
  ``traffic_split``, never promotes.

Observations inside a step's warm-up feed the guardrails only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import ClassVar

from gonogo.rollout.analysis.guardrails import Guardrail, GuardrailMonitor
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    Finding,
    JudgeError,
    MetricKind,
    Observation,
    Step,
)
from gonogo.rollout.analysis.lag import CountLag
from gonogo.rollout.analysis.metrics import (
    ErrorShareTest,
    MeanTest,
    MetricSpec,
    default_metrics,
    group_clash,
)
from gonogo.rollout.analysis.quantile_band import AllQuantilesTest
from gonogo.rollout.analysis.quantiles import LatencyStore, QuantileTest
from gonogo.rollout.analysis.srm import SampleRatioTest, SrmAction, SrmCheck

#: prior concentrations of the error-share mixture (averaged: robust to the effect size)
SHARE_CONCENTRATIONS = (4.0, 64.0)
#: nats below the threshold at which a test's likelihood-ratio bound counts as far from it
FAR_BELOW = 3.0
#: confidence bounds wait for at least this many more units (requests, errors, samples)
BOUNDS_FLOOR = 50
#: the tests are looked at again only once the step brought this many more requests (and
#: ``refresh_growth`` more): at a few requests per second a look per observation would cost
#: more than the requests it weighs, while waiting for this many delays a decision by a
#: few seconds where one takes minutes (at 5 rps, 50 cost the latency test 7% of its
#: detection time, 20 cost 2%)
LOOK_FLOOR = 20
#: an e-value far below its threshold is shown afresh once its counts grew by this fraction
FAR_GROWTH = 0.25
#: ... and by at least this many units
FAR_FLOOR = 20


def _grown(old: tuple[int, ...], new: tuple[int, ...], growth: float, floor: int) -> bool:
    """Whether any count grew by the fraction ``growth`` and by at least ``floor``."""
    factor = 1 + growth
    for before, after in zip(old, new, strict=True):
        if after > before * factor and after - before >= floor:
            return True
    return False


@dataclass(frozen=True)
class SequentialConfig:
    """Settings of the sequential judge."""

    alpha: float = 0.01
    metrics: tuple[MetricSpec, ...] = field(default_factory=default_metrics)
    guardrails: tuple[Guardrail, ...] = ()
    srm: SrmCheck | None = field(default_factory=SrmCheck)
    """the sample-ratio check (None: off, e.g. for a split that is sticky per client)"""
    share_concentrations: tuple[float, ...] = SHARE_CONCENTRATIONS
    refresh_growth: float = 0.01
    """recompute a test's e-value once any of its counts grew by this fraction"""
    bounds_growth: float = 0.05
    """recompute its confidence bounds (for early promotion) once they grew by this"""

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise JudgeError(f"alpha {self.alpha:g} is not between 0 and 1")
        if not self.metrics:
            raise JudgeError("the sequential judge needs at least one metric")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise JudgeError(f"metric names repeat: {', '.join(names)}")
        if not self.share_concentrations or min(self.share_concentrations) <= 0:
            raise JudgeError("share concentrations must be positive")
        clash = group_clash(self.metrics)
        if clash is not None:
            raise JudgeError(
                f"group {clash!r} has the name of a metric outside it",
                hint="rename the group or the metric",
            )

    @property
    def families(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """Each part of alpha: a group's name (or a lone metric's) and its metrics' indexes."""
        members: dict[str, list[int]] = {}
        for index, metric in enumerate(self.metrics):
            members.setdefault(metric.family, []).append(index)
        return tuple((name, tuple(indexes)) for name, indexes in members.items())

    @property
    def metrics_alpha(self) -> float:
        """The part of alpha the metrics share: all of it unless a mismatch rolls back."""
        if self.srm is not None and self.srm.action is SrmAction.ROLLBACK:
            return self.alpha * (1 - self.srm.alpha_share)
        return self.alpha

    @property
    def m(self) -> int:
        """How many parts alpha is cut into: groups, with each ungrouped metric one."""
        return len(self.families)

    @property
    def threshold(self) -> float:
        """The e-value that rolls back: m/alpha (alpha less the sample-ratio check's share)."""
        return self.m / self.metrics_alpha

    @property
    def srm_threshold(self) -> float:
        """The e-value at which the traffic split counts as mismatched."""
        share = self.srm.alpha_share if self.srm is not None else 1.0
        return 1.0 / (self.alpha * share)


Test = ErrorShareTest | QuantileTest | AllQuantilesTest | MeanTest


class SequentialJudge:
    """Anytime-valid canary analysis; see the module docstring."""

    name: ClassVar[str] = "sequential"

    def __init__(self, config: SequentialConfig | None = None) -> None:
        self.config = config or SequentialConfig()
        self._threshold = self.config.threshold
        self._log_threshold = math.log(self._threshold)
        self._log_srm_threshold = math.log(self.config.srm_threshold)
        self._guardrails = GuardrailMonitor(self.config.guardrails)
        self._latency = LatencyStore()
        # the step's counted time and the counts' lag, for the split check
        self._counted = CountLag()
        self._errors: list[ErrorShareTest] = []
        self._tests: list[Test] = []
        for spec in self.config.metrics:
            if spec.kind is MetricKind.ERRORS:
                test = ErrorShareTest(spec, self.config.share_concentrations)
                self._errors.append(test)
                self._tests.append(test)
            elif spec.all_quantiles:
                self._tests.append(AllQuantilesTest(spec, self._latency))
            elif spec.kind is MetricKind.LATENCY:
                self._tests.append(QuantileTest(spec, self._latency))
            else:
                self._tests.append(MeanTest(spec))
        self._families = self.config.families
        # a metric's confidence bounds run at alpha / (m * its group's size): all hold at once
        self._bounds_log_threshold = [self._log_threshold] * len(self._tests)
        self._family_of = [0] * len(self._tests)
        for number, (_, indexes) in enumerate(self._families):
            for index in indexes:
                self._bounds_log_threshold[index] += math.log(len(indexes))
                self._family_of[index] = number
        srm = self.config.srm
        self._srm = SampleRatioTest(srm, self._counted) if srm is not None else None
        self._srm_seen: tuple[int, float] = (-1, 0.0)
        self._step: Step | None = None
        self._step_requests = [0, 0]  # analysed baseline, canary requests in this step
        self._cache: dict[tuple[int, bool], tuple[tuple[int, ...], Finding]] = {}
        self._looked_at = 0  # the step's requests when the tests were last looked at
        self._held_back = 0  # the test whose bounds last kept the step from promoting
        self._quiet = False  # too few new requests since then to look again
        # the last "collecting evidence" decision and whether the minimum dwell was over:
        # while quiet, nothing it rests on can have changed (see :meth:`_decide`)
        self._collecting: tuple[Decision, str, bool] | None = None

    def begin_step(self, step: Step) -> None:
        """Start a step: fresh error e-processes (the old ones' values carry over)."""
        if self._step is not None and step.started_at < self._step.started_at:
            raise JudgeError(f"step {step.index} starts before step {self._step.index}")
        self._step = step
        self._step_requests = [0, 0]
        self._cache = {}
        self._looked_at = 0
        self._collecting = None
        self._srm_seen = (-1, 0.0)
        self._counted.begin(step.started_at, step.count_lag_s)
        for test in self._errors:
            test.begin_step(step.weight, lagging=step.count_lag_s > 0)
        self._latency.begin_step(step.weight, lagging=step.count_lag_s > 0)
        if self._srm is not None:
            self._srm.begin_step(step.weight)

    def observe(self, observation: Observation) -> Decision:
        """Update every test with one interval and decide."""
        step = self._step
        if step is None:
            raise JudgeError("observation before any step", hint="call begin_step first")
        tripped = self._guardrails.observe(observation)
        if tripped is not None:
            return tripped
        at = observation.at
        if step.warming(at):
            self._counted.skip(at)
            return Decision(
                Action.CONTINUE,
                Basis.WARMING_UP,
                f"warming up: comparisons start {step.warmup_s:g} s into step {step.index}",
                at,
            )
        self._step_requests[0] += observation.baseline.requests
        self._step_requests[1] += observation.canary.requests
        self._counted.seen(at)
        for errors in self._errors:
            errors.add(observation.baseline, observation.canary)
        if self._srm is not None:
            self._srm.add(observation.baseline.requests, observation.canary.requests)
        self._latency.add(observation.baseline, observation.canary)
        for test in self._tests:
            if isinstance(test, MeanTest):
                test.add(observation.baseline, observation.canary)
        return self._decide(step, at)

    def _finding(self, index: int, bounds: bool, force: bool) -> Finding:
        """A test's finding, recomputed only once its data grew enough (or when forced).

        E-processes stay valid however rarely they are looked at, so skipping a look while
        the data grew by less than ``refresh_growth`` delays a decision by at most that
        fraction of the data and keeps the cost per observation near constant; nor is any
        test looked at again before the step's requests grew by that fraction (and by
        :data:`LOOK_FLOOR`). While a cheap upper bound on the e-value (the likelihood ratio
        at its best) stays far below the threshold, no look could decide anything, and the
        e-value shown is refreshed after :data:`FAR_GROWTH` growth (and :data:`FAR_FLOOR`
        more units).
        Confidence bounds, needed only to promote, wait for ``bounds_growth`` and at least
        :data:`BOUNDS_FLOOR` more units.
        """
        cached = self._cache.get((index, bounds))
        if cached is not None and not force and self._quiet:
            return cached[1]
        test = self._tests[index]
        size = test.size()
        if cached is not None and not force:
            old_size, finding = cached
            if bounds:
                if not _grown(old_size, size, self.config.bounds_growth, BOUNDS_FLOOR):
                    return finding
            # the cheap bound is worth its logarithms only once the data grew enough
            elif not _grown(old_size, size, self.config.refresh_growth, 0) or (
                test.log_e_bound() < self._log_threshold - FAR_BELOW
                and not _grown(old_size, size, FAR_GROWTH, FAR_FLOOR)
            ):
                return finding
        finding = test.finding(self._bounds_log_threshold[index], bounds=bounds)
        self._cache[(index, bounds)] = (size, finding)
        return finding

    def _family_e(self, findings: list[Finding]) -> list[float]:
        """Each family's e-value: its metrics' average, each counting while it points worse."""
        return [
            sum(findings[i].e_value for i in indexes if findings[i].worse) / len(indexes)
            for _, indexes in self._families
        ]

    def _srm_log_e(self, srm: SampleRatioTest, force: bool) -> float:
        """The sample-ratio e-value, looked at as the tests are (see :meth:`_finding`)."""
        size = srm.size()
        seen, log_e = self._srm_seen
        growth = self.config.refresh_growth
        if not force and self._quiet:
            return log_e
        if not force and srm.log_e_bound() < self._log_srm_threshold - FAR_BELOW:
            growth = FAR_GROWTH
        if force or size > seen * (1 + growth):
            log_e = srm.log_e()
            self._srm_seen = (size, log_e)
        return log_e

    def _mismatch(
        self, srm: SampleRatioTest, step: Step, at: float, findings: list[Finding]
    ) -> Decision:
        """The decision for a traffic split that does not match the weight."""
        threshold = self.config.srm_threshold
        e_value = math.exp(min(srm.log_e(), 700.0))
        low, high = srm.share_bounds(math.log(threshold))
        canary, total = srm.counts
        rollback = srm.check.action is SrmAction.ROLLBACK
        tolerance = srm.check.tolerance
        reason = (
            f"traffic split does not match the weight: the canary got {canary} of {total} "
            f"requests in step {step.index} ({canary / total:.2%}, between {low:.2%} and "
            f"{high:.2%}) at a weight of {step.weight:.2%}"
            + (f" (tolerance {tolerance:.0%} of it)" if tolerance else "")
            + (
                f" (allowing for counts up to {srm.lag_s:g} s apart: a share from "
                "{:.2%} to {:.2%})".format(*srm.null_range())
                if srm.lag_s
                else ""
            )
            + f"; e-value {e_value:.3g} >= {threshold:.4g}; "
            + (
                "rolling back: the split is not the one approved"
                if rollback
                else "no comparison can be trusted"
            )
        )
        return Decision(
            action=Action.ROLLBACK if rollback else Action.INCONCLUSIVE,
            basis=Basis.TRAFFIC_SPLIT,
            reason=reason,
            at=at,
            metric="traffic_split",
            e_value=e_value,
            threshold=threshold,
            lower=low,
            upper=high,
            findings=tuple(findings),
        )

    def _decide(self, step: Step, at: float) -> Decision:
        thr = self._threshold
        over = step.dwell(at) >= step.max_dwell_s
        requests = self._step_requests[0] + self._step_requests[1]
        self._quiet = (
            requests <= self._looked_at * (1 + self.config.refresh_growth)
            or requests - self._looked_at < LOOK_FLOOR
        )
        if not self._quiet:
            self._looked_at = requests
        elif not over and self._collecting is not None:
            # nothing was looked at: every finding, the sample-ratio e-value and so the
            # outcome are those of the last decision; only its time and counts move on
            last, prefix, past_min = self._collecting
            if past_min or step.dwell(at) < step.min_dwell_s:
                count = self._step_requests[1]
                reason = f"{prefix}{count} canary requests in step {step.index}"
                return replace(last, reason=reason, at=at)
        self._collecting = None  # set again below if this decision is one
        count = len(self._tests)
        findings = [self._finding(i, bounds=False, force=over) for i in range(count)]
        # a mismatched split biases every comparison, so it is checked first
        srm = self._srm
        if srm is not None and self._srm_log_e(srm, over) >= self._log_srm_threshold:
            return self._mismatch(srm, step, at, findings)
        family_e = self._family_e(findings)
        top = max(range(len(family_e)), key=family_e.__getitem__)
        if family_e[top] >= thr:
            _, indexes = self._families[top]
            worse = [i for i in indexes if findings[i].worse]
            index = max(worse, key=lambda i: findings[i].e_value)
            worst = findings[index] = self._finding(index, bounds=True, force=True)
            reason = _regressed(worst, findings, indexes, family_e[top], self)
            return self._decision(
                Action.ROLLBACK, Basis.REGRESSION, reason, at, worst, findings, family_e[top]
            )
        dwell = step.dwell(at)
        if self._step_requests[1] == 0:
            total = "no traffic at all" if self._step_requests[0] == 0 else "no canary traffic"
            reason = f"{total} in step {step.index} after {dwell:.0f} s"
            action = Action.INCONCLUSIVE if over else Action.CONTINUE
            return self._decision(
                action, Basis.NO_TRAFFIC, f"no traffic: {reason}", at, None, findings
            )
        if dwell >= step.min_dwell_s:
            outside: Finding | None = None
            # the metric that held the promotion back last time most likely still does
            first = self._held_back
            for i in (first, *(j for j in range(count) if j != first)):
                findings[i] = self._finding(i, bounds=True, force=over)
                if not findings[i].within_tolerance:
                    outside = findings[i]
                    self._held_back = i
                    break
            if outside is None:
                return self._decision(
                    Action.PROMOTE_STEP,
                    Basis.NON_INFERIOR,
                    _promoted(findings, dwell),
                    at,
                    None,
                    findings,
                )
            if over:
                e_value = family_e[self._family_of[self._held_back]]
                return self._decision(
                    Action.INCONCLUSIVE,
                    Basis.INSUFFICIENT_EVIDENCE,
                    _undecided(outside, e_value, step, self),
                    at,
                    outside,
                    findings,
                    e_value,
                )
        name, indexes = self._families[top]
        strongest = findings[max(indexes, key=lambda i: findings[i].e_value)]
        prefix = f"collecting evidence: largest e-value {family_e[top]:.3g} ({name}) of {thr:.4g}; "
        reason = f"{prefix}{self._step_requests[1]} canary requests in step {step.index}"
        if over:
            return self._decision(
                Action.INCONCLUSIVE,
                Basis.INSUFFICIENT_EVIDENCE,
                reason,
                at,
                strongest,
                findings,
                family_e[top],
            )
        decision = self._decision(
            Action.CONTINUE, Basis.COLLECTING, reason, at, strongest, findings, family_e[top]
        )
        self._collecting = (decision, prefix, dwell >= step.min_dwell_s)
        return decision

    def _decision(
        self,
        action: Action,
        basis: Basis,
        reason: str,
        at: float,
        finding: Finding | None,
        findings: list[Finding],
        e_value: float | None = None,
    ) -> Decision:
        """``e_value``: what was weighed against the threshold (a group's average)."""
        if e_value is None and finding is not None:
            e_value = finding.e_value
        return Decision(
            action=action,
            basis=basis,
            reason=reason,
            at=at,
            metric=finding.metric if finding else None,
            e_value=e_value,
            threshold=self._threshold,
            lower=finding.lower if finding else None,
            upper=finding.upper if finding else None,
            findings=tuple(findings),
        )


def _pct(value: float | None) -> str:
    if value is None:
        return "?"
    return "unbounded" if math.isinf(value) else f"{value:+.1%}"


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def _regressed(
    finding: Finding,
    findings: list[Finding],
    family: tuple[int, ...],
    e_value: float,
    judge: SequentialJudge,
) -> str:
    config = judge.config
    evidence = f"e-value {e_value:.3g}"
    if finding.group is not None:
        members = ", ".join(
            f"{findings[i].metric} {findings[i].e_value if findings[i].worse else 0.0:.3g}"
            for i in family
        )
        evidence = f"group {finding.group} e-value {e_value:.3g} (the mean of {members})"
    return (
        f"{finding.metric} regressed: canary {_num(finding.canary)} vs baseline "
        f"{_num(finding.baseline)}, {evidence} >= {config.threshold:.4g} "
        f"(m={config.m}, alpha={config.metrics_alpha:g}); degradation between "
        f"{_pct(finding.lower)} and {_pct(finding.upper)}; {finding.detail}"
    )


def _promoted(findings: list[Finding], dwell: float) -> str:
    parts = []
    for f in findings:
        if f.upper is not None and f.upper <= f.tolerance:
            parts.append(f"{f.metric} at most {_pct(f.upper)} (tolerance {f.tolerance:.0%})")
        else:  # inside the absolute tolerance, not the relative one: say so with its numbers
            parts.append(f"{f.metric} within its absolute tolerance ({f.detail})")
    return f"every metric within tolerance after {dwell:.0f} s: " + "; ".join(parts)


def _undecided(finding: Finding, e_value: float, step: Step, judge: SequentialJudge) -> str:
    whose = "its" if finding.group is None else f"its group {finding.group}'s"
    return (
        f"inconclusive after the maximum dwell of {step.max_dwell_s:g} s in step {step.index}: "
        f"{finding.metric} may be {_pct(finding.upper)} worse (tolerance "
        f"{finding.tolerance:.0%}) and {whose} e-value {e_value:.3g} is below "
        f"{judge.config.threshold:.4g}; {finding.detail}"
    )
