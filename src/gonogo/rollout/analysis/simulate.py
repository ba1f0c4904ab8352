"""Run a judge on synthetic traffic, many seeded times, through the live judge interface.

Each run draws its traffic tick by tick (one observation per ``interval_s``) with a numpy
Generator seeded from the scenario's seed and the run's index, feeds the judge exactly
the :class:`~gonogo.rollout.analysis.interface.Observation` s a live rollout would, and
follows its decisions: promote moves to the next weight, rollback and inconclusive end
the run. The report counts outcomes and measures detection from the regression's onset.

A scenario with ``scrape_interval_s`` has its counts read as a Prometheus source reads
them: each variant's counters are scraped every ``scrape_interval_s`` at a phase of its
own (drawn per run), an observation carries what was scraped since the last one, and
every step tells the judge the lag (``Step.count_lag_s``). Scrapes land on whole
intervals: a scrape inside an interval takes the requests up to its end.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gonogo.rollout.analysis.guardrails import Guardrail
from gonogo.rollout.analysis.histogram import LatencyHistogram
from gonogo.rollout.analysis.interface import (
    Action,
    Judge,
    JudgeError,
    JudgeKind,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.kayenta import stats_modules
from gonogo.rollout.analysis.mannwhitney import MannWhitneyConfig, MannWhitneyJudge
from gonogo.rollout.analysis.oracle import OracleJudge, OracleTruth
from gonogo.rollout.analysis.scenario import Scenario
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.analysis.threshold import ThresholdConfig, ThresholdJudge
from gonogo.rollout.analysis.traffic import TrafficModel, log_ratio

SCHEMA = "gonogo.rollout.simulation/v1"


class Outcome(StrEnum):
    """How a simulated rollout ended."""

    ROLLED_BACK = "rolled_back"
    PROMOTED = "promoted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class RunResult:
    """One run: its outcome, when, and what it exposed; and what the judge cost."""

    outcome: Outcome
    at: float
    false_rollback: bool
    detection_s: float | None
    exposed_requests: int
    judge_cpu_s: float = 0.0
    """CPU seconds spent in the judge (begin_step and observe)"""
    observed_requests: int = 0
    """requests the observations fed to the judge carried"""


def make_judge(kind: JudgeKind | str, scenario: Scenario, model: TrafficModel) -> Judge:
    """The built-in judge ``kind`` configured for ``scenario`` (peers as documented)."""
    kind = builtin_kind(kind)
    if kind is JudgeKind.SEQUENTIAL:
        return SequentialJudge(SequentialConfig(alpha=scenario.alpha))
    if kind is JudgeKind.MANNWHITNEY:
        return MannWhitneyJudge(MannWhitneyConfig(bucket_s=max(10.0, scenario.interval_s)))
    if kind is JudgeKind.THRESHOLD:
        base = scenario.baseline.error_rate
        checks = (
            Guardrail("error_rate", max=max(2 * base, 0.0001), window_s=60.0, min_requests=1),
            Guardrail(
                "latency_p99", max=1.5 * model.baseline.quantile(0.99), window_s=60, min_requests=1
            ),
        )
        return ThresholdJudge(ThresholdConfig(checks=checks, interval_s=60.0, failure_limit=1))
    if kind is JudgeKind.ORACLE:
        return OracleJudge(oracle_truth(scenario, model), alpha=scenario.alpha)
    raise JudgeError(f"unknown judge {kind!r}")  # pragma: no cover - exhaustive above


def builtin_kind(name: str) -> JudgeKind:
    """The built-in judge ``name`` (any case); JudgeError naming them when it is none."""
    try:
        return JudgeKind(name.lower())
    except ValueError:
        known = ", ".join(JudgeKind)
        raise JudgeError(f"{name!r} is not a built-in judge ({known})") from None


def oracle_truth(scenario: Scenario, model: TrafficModel) -> OracleTruth:
    """What the oracle is told: the steady-state effect and its onset."""
    base, cand = scenario.baseline.error_rate, scenario.canary.error_rate
    ratio = cand / base if base > 0 else math.inf
    if base == cand:
        ratio = 1.0
    same_latency = scenario.baseline.latency == scenario.canary.latency
    ratios = None if same_latency else log_ratio(model.regressed, model.baseline)
    return OracleTruth(error_ratio=ratio, latency_log_ratio=ratios, onset_at=scenario.onset_s)


def run_once(
    scenario: Scenario,
    kind: JudgeKind | str,
    index: int,
    model: TrafficModel,
    judge: Judge | None = None,
) -> RunResult:
    """One seeded rollout (``judge``: a configured judge instead of the built-in ``kind``)."""
    np, _, _ = stats_modules()
    rng = np.random.default_rng([scenario.seed, index])
    judge = judge if judge is not None else make_judge(kind, scenario, model)
    dt = scenario.interval_s
    weights = [s / 100 for s in scenario.steps]
    onset = scenario.onset_s
    canary = scenario.canary
    clock = time.process_time
    spent = 0.0
    observed = 0

    def begin(i: int, at: float) -> None:
        nonlocal spent
        started = clock()
        judge.begin_step(
            Step(
                i,
                weights[i],
                at,
                scenario.step_s,
                scenario.warmup_s,
                scenario.min_dwell_s,
                count_lag_s=scenario.scrape_interval_s,
            )
        )
        spent += clock() - started

    def result(outcome: Outcome, at: float, false: bool, detection: float | None) -> RunResult:
        return RunResult(outcome, at, false, detection, exposed, spent, observed)

    step, started = 0, 0.0
    exposed = 0
    scraped = _Scraper.of(scenario, rng)
    if weights[0] >= 1.0:
        return result(Outcome.PROMOTED, 0.0, False, None)
    begin(0, 0.0)
    for tick in range(1, int(scenario.duration_s / dt + 1e-9) + 1):
        at = tick * dt
        middle = at - dt / 2
        total = int(rng.poisson(model.rate(scenario, middle) * dt))
        n_canary = int(rng.binomial(total, weights[step]))
        n_base = total - n_canary
        regressed = scenario.regressed and middle > onset
        cold = middle < canary.cold_start_s
        rate = canary.error_rate if regressed else scenario.baseline.error_rate
        law = _canary_law(model, regressed, cold)
        if cold:
            rate = min(1.0, rate * canary.cold_start_factor)
        if regressed or not scenario.regressed:
            exposed += n_canary
        observation = Observation(
            at,
            VariantSample(
                n_base,
                int(rng.binomial(n_base, scenario.baseline.error_rate)),
                model.baseline.sample(rng, n_base),
            ),
            VariantSample(n_canary, int(rng.binomial(n_canary, rate)), law.sample(rng, n_canary)),
        )
        if scraped is not None:
            observation = scraped.read(observation, dt)
        observed += total
        looked = clock()
        action = judge.observe(observation).action
        spent += clock() - looked
        if action is Action.ROLLBACK:
            false = not scenario.regressed or at <= onset
            return result(Outcome.ROLLED_BACK, at, false, None if false else at - onset)
        if action is Action.INCONCLUSIVE:
            return result(Outcome.INCONCLUSIVE, at, False, None)
        if action is Action.PROMOTE_STEP:
            step, started = step + 1, at
            if step >= len(weights) or weights[step] >= 1.0:
                return result(Outcome.PROMOTED, at, False, None)
            begin(step, at)
        elif at - started >= scenario.step_s + dt:  # a judge that never ends a step
            return result(Outcome.INCONCLUSIVE, at, False, None)
    return result(Outcome.INCONCLUSIVE, scenario.duration_s, False, None)


@dataclass
class _Unread:
    """One variant's requests counted but not yet read."""

    requests: int = 0
    errors: int = 0
    buckets: Counter[int] = field(default_factory=Counter)

    def add(self, sample: VariantSample) -> None:
        self.requests += sample.requests
        self.errors += sample.errors
        self.buckets.update(sample.latency.counts)

    def take(self) -> VariantSample:
        """The counts as a sample; none are left unread."""
        taken = VariantSample(self.requests, self.errors, LatencyHistogram(dict(self.buckets)))
        self.requests = self.errors = 0
        self.buckets = Counter()
        return taken


class _Scraper:
    """Both variants' counters as a scraping metric source reads them."""

    def __init__(self, every: float, phases: tuple[float, float]) -> None:
        self.every = every
        self.phases = phases
        self.unscraped = (_Unread(), _Unread())  # served, not scraped yet
        self.unread = (_Unread(), _Unread())  # scraped, not read yet

    @classmethod
    def of(cls, scenario: Scenario, rng: Any) -> _Scraper | None:
        every = scenario.scrape_interval_s
        if every <= 0:
            return None  # drawing nothing keeps the runs of other scenarios as they were
        baseline, canary = rng.uniform(0.0, every, size=2)
        return cls(every, (float(baseline), float(canary)))

    def read(self, served: Observation, dt: float) -> Observation:
        """What a read at the end of this interval sees: each variant's counts up to its
        last scrape that were not read before."""
        at = served.at
        out = []
        for variant, sample in enumerate((served.baseline, served.canary)):
            unscraped, unread = self.unscraped[variant], self.unread[variant]
            unscraped.add(sample)
            phase = self.phases[variant]
            if math.floor((at - phase) / self.every) > math.floor((at - dt - phase) / self.every):
                unread.add(unscraped.take())  # a scrape in this interval
            out.append(unread.take())
        return Observation(at, out[0], out[1])


def _canary_law(model: TrafficModel, regressed: bool, cold: bool) -> Any:
    if regressed:
        return model.regressed_cold if cold else model.regressed
    return model.healthy_cold if cold else model.baseline


@dataclass(frozen=True)
class SimulationReport:
    """The outcome counts and detection times of many runs."""

    scenario: str
    judge: str
    runs: int
    regressed: bool
    false_rollback_rate: float
    detection_rate: float | None
    mean_detection_s: float | None
    median_detection_s: float | None
    p95_detection_s: float | None
    mean_exposed_requests: float | None
    inconclusive_rate: float
    promoted_rate: float

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form."""
        return {
            "schema": SCHEMA,
            "scenario": self.scenario,
            "judge": self.judge,
            "runs": self.runs,
            "false_rollback_rate": self.false_rollback_rate,
            "detection_rate": self.detection_rate,
            "mean_detection_s": self.mean_detection_s,
            "median_detection_s": self.median_detection_s,
            "p95_detection_s": self.p95_detection_s,
            "mean_exposed_requests": self.mean_exposed_requests,
            "inconclusive_rate": self.inconclusive_rate,
            "promoted_rate": self.promoted_rate,
        }


def summarise(
    scenario: Scenario, kind: JudgeKind | str, results: list[RunResult]
) -> SimulationReport:
    """Rates and detection-time statistics of a list of runs, reported as the judge ``kind``."""
    np, _, _ = stats_modules()
    runs = len(results)
    detections = [r.detection_s for r in results if r.detection_s is not None]
    rolled = [r for r in results if r.outcome is Outcome.ROLLED_BACK]

    def stat(fn: Callable[[Any], Any]) -> float | None:
        return float(fn(np.asarray(detections))) if detections else None

    return SimulationReport(
        scenario=scenario.name,
        judge=str(kind),
        runs=runs,
        regressed=scenario.regressed,
        false_rollback_rate=sum(r.false_rollback for r in results) / runs,
        detection_rate=len(detections) / runs if scenario.regressed else None,
        mean_detection_s=stat(np.mean),
        median_detection_s=stat(np.median),
        p95_detection_s=stat(lambda a: np.percentile(a, 95)),
        mean_exposed_requests=(
            sum(r.exposed_requests for r in rolled) / len(rolled) if rolled else None
        ),
        inconclusive_rate=sum(r.outcome is Outcome.INCONCLUSIVE for r in results) / runs,
        promoted_rate=sum(r.outcome is Outcome.PROMOTED for r in results) / runs,
    )


def simulate(
    scenario: Scenario,
    kind: JudgeKind | str,
    runs: int,
    *,
    first_run: int = 0,
    on_run: Callable[[RunResult], None] | None = None,
    build: Callable[[], Judge] | None = None,
) -> SimulationReport:
    """``runs`` seeded runs of ``scenario`` with the built-in judge ``kind``.

    ``build``: a fresh judge for each run instead (``kind`` then only names it), as a live
    rollout builds one per rollout.
    """
    if runs < 1:
        raise JudgeError(f"--runs {runs}: need at least one run")
    if build is None:
        kind = builtin_kind(kind)
    model = TrafficModel.of(scenario)
    results = []
    for index in range(first_run, first_run + runs):
        judge = build() if build is not None else None
        result = run_once(scenario, kind, index, model, judge)
        results.append(result)
        if on_run is not None:
            on_run(result)
    return summarise(scenario, kind, results)
