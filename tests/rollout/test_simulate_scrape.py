"""`rollout simulate` with scraped counts (`scrape_interval_s`): the judge sees what a
Prometheus source would, is told the lag, and keeps its false-rollback rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from gonogo.rollout.analysis.interface import Decision, Observation, Step
from gonogo.rollout.analysis.sequential import SequentialJudge
from gonogo.rollout.analysis.simulate import run_once, simulate
from gonogo.rollout.analysis.traffic import TrafficModel
from tests.rollout.helpers import LOGNORMAL, binomial_tolerance, scenario


@dataclass
class Recording:
    """The sequential judge, with every step and observation it was given kept."""

    judge: SequentialJudge = field(default_factory=SequentialJudge)
    steps: list[Step] = field(default_factory=list)
    seen: list[Observation] = field(default_factory=list)
    name: ClassVar[str] = "recording"

    def begin_step(self, step: Step) -> None:
        self.steps.append(step)
        self.judge.begin_step(step)

    def observe(self, observation: Observation) -> Decision:
        self.seen.append(observation)
        return self.judge.observe(observation)


def test_each_variant_is_read_as_of_its_own_last_scrape() -> None:
    lagging = scenario(rps=200, interval_s=5, scrape_interval_s=15, duration_s=300)
    together = scenario(rps=200, interval_s=5, duration_s=300)
    runs = []
    for case in (lagging, together):
        recording = Recording()
        run_once(case, "sequential", 0, TrafficModel.of(case), recording)
        runs.append(recording)
    scraped, read_together = runs

    assert [s.count_lag_s for s in scraped.steps] == [15.0]
    assert [s.count_lag_s for s in read_together.steps] == [0.0]
    # a scrape every 15 s read every 5 s: two reads in three see nothing new of a variant
    moved = [
        sum(o.baseline.requests > 0 for o in scraped.seen),
        sum(o.canary.requests > 0 for o in scraped.seen),
    ]
    assert all(abs(count - len(scraped.seen) / 3) <= 1 for count in moved)
    assert all(o.baseline.requests > 0 and o.canary.requests > 0 for o in read_together.seen)
    # what is read is what was served, up to each variant's last scrape: 200 rps for
    # 300 s, less at most the last 15 s of each variant
    got = [sample for o in scraped.seen for sample in (o.baseline, o.canary)]
    assert all(sample.latency.total == sample.requests for sample in got)
    assert 200 * (300 - 15) - 1000 <= sum(sample.requests for sample in got) <= 200 * 300 + 1000


def test_a_scenario_without_scrapes_runs_as_it_always_did() -> None:
    """Drawing the scrape phases only when there are scrapes keeps other runs seeded alike."""
    plain = scenario(rps=200, canary={"error_rate": 0.03})
    zero = scenario(rps=200, canary={"error_rate": 0.03}, scrape_interval_s=0)
    model = TrafficModel.of(plain)

    assert [run_once(plain, "sequential", i, model).at for i in range(5)] == [
        run_once(zero, "sequential", i, model).at for i in range(5)
    ]


@pytest.mark.slow
def test_healthy_canaries_read_a_scrape_apart_are_not_rolled_back_across_steps() -> None:
    """Each step's first reads carry requests served at the previous weight, as they do
    live; neither they nor the lag make the judge blame a healthy canary."""
    runs = 100
    healthy = scenario(
        rps=1000, steps=[5, 20, 50], step_s=300, duration_s=900, interval_s=5, scrape_interval_s=15
    )
    report = simulate(healthy, "sequential", runs)

    assert report.false_rollback_rate <= binomial_tolerance(0.01, runs)
    assert report.promoted_rate >= 0.9


@pytest.mark.slow
def test_a_regression_read_a_scrape_apart_is_still_caught() -> None:
    slower = {"latency": {**LOGNORMAL, "median_ms": LOGNORMAL["median_ms"] * 1.2}}
    regressed = scenario(
        rps=1000, steps=[20], duration_s=300, interval_s=5, scrape_interval_s=15, canary=slower
    )
    report = simulate(regressed, "sequential", 20)

    assert report.detection_rate == 1.0
    assert report.false_rollback_rate == 0.0
    assert report.mean_detection_s is not None and report.mean_detection_s <= 60
