"""A metric source whose totals go down: the interval is not counted, never counted twice.

A Prometheus query that sums a variant's series (``sum(requests_total{version=...})``)
goes down when one of them leaves the sum: a replica restarted or was scaled in. What
was served in between cannot be told from the totals; counting the new total as the
interval's increment would count every other replica's history again, a flood of
"canary requests" that reads as a wrong traffic split.

No test here runs several replicas behind a real Prometheus: the sum that shrinks is
played by a metric-source plugin (a real installed distribution, as in
test_broken_components.py) built on the builtin source, which from its tenth read on
leaves out half of what the canary had served by then, as a replica that left the sum
would. Everything else is real: sample-service processes, the builtin router,
generated load, the SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gonogo.cli.main import main
from gonogo.rollout.state import RolloutState
from tests.rollout.plugins import install_plugin, uninstall_plugin
from tests.rollout.rollouts import ERRORS_ONLY, RolloutProject, rollout_project, weights

__all__ = ["rollout_project"]

pytestmark = pytest.mark.slow

PLUGIN = """
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gonogo.rollout.analysis.interface import VariantSample
from gonogo.rollout.components import ComponentType
from gonogo.rollout.deploy.interface import Variant
from gonogo.rollout.source.builtin import BuiltinSource
from gonogo.rollout.source.interface import Snapshot


class ShrinkingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["shrinking"]
    drops: int = 1


class ShrinkingSource(BuiltinSource):
    name = "shrinking"

    def __init__(self, router, drops):
        super().__init__(router)
        self.reads = 0
        self.drops = drops
        self.gone = (0, 0)

    def snapshot(self):
        snapshot = super().snapshot()
        self.reads += 1
        canary = snapshot.of(Variant.CANARY)
        if 10 <= self.reads < 10 + 2 * self.drops and self.reads % 2 == 0:
            # a replica leaves the sum, taking half of what was served so far with it
            self.gone = (canary.requests // 2, canary.errors // 2)
        requests, errors = self.gone
        shrunk = VariantSample(
            canary.requests - requests, canary.errors - errors, canary.latency, canary.metrics
        )
        return Snapshot(snapshot.at, {**snapshot.totals, Variant.CANARY: shrunk})


SOURCE = ComponentType(
    lambda: ShrinkingConfig, lambda c, x: ShrinkingSource(x.router, c.drops)
)
"""

ENTRY_POINTS = """
[gonogo.sources]
shrinking = shrinking_source:SOURCE
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``shrinking-source`` distribution installed for one test."""
    install_plugin(tmp_path / "site", "shrinking_source", PLUGIN, ENTRY_POINTS, monkeypatch)
    yield tmp_path / "site"
    uninstall_plugin("shrinking_source", monkeypatch)


def _start(project: RolloutProject) -> int:
    project.load()
    return main(
        ["--project", str(project.root), "rollout", "start", "--version", "v2", "--baseline", "v1"]
    )


def test_an_interval_whose_total_went_down_is_not_counted_and_the_rollout_goes_on(
    rollout_project: RolloutProject, site: Path
) -> None:
    rollout_project.write(
        weights=(20,), metrics=ERRORS_ONLY, min_dwell=8, max_dwell=60, source='type = "shrinking"'
    )

    code = _start(rollout_project)

    record = rollout_project.record()
    assert record is not None
    assert record.state is RolloutState.PROMOTED, record.reason
    assert code == 0
    story = rollout_project.timeline()
    decisions = [e for e in story if e["event"] == "rollout.decision"]
    skipped = [d for d in decisions if "totals went down" in d["reason"]]
    assert len(skipped) == 1, [d["reason"] for d in decisions]
    assert skipped[0]["action"] == "inconclusive"  # not counted, never healthy
    assert "the canary's totals went down" in skipped[0]["reason"]
    assert all(d["basis"] != "traffic_split" for d in decisions)
    # the canary's history is never counted twice: what the decisions say it served is
    # no more than its share of what was sent (the builtin router splits exactly)
    promoted = [d for d in decisions if d["action"] == "promote_step"][-1]
    sent = rollout_project.loads[0].stats().sent
    assert promoted["totals"]["canary"]["requests"] <= 0.2 * sent + 5
    assert rollout_project.audit_ok()


def test_totals_that_keep_going_down_roll_back_past_the_source_limit(
    rollout_project: RolloutProject, site: Path
) -> None:
    rollout_project.write(
        weights=(20,),
        metrics=ERRORS_ONLY,
        min_dwell=60,
        max_dwell=90,
        max_source_errors=0,
        source='type = "shrinking"',
    )

    code = _start(rollout_project)

    record = rollout_project.record()
    assert record is not None
    assert code == 1
    assert record.state is RolloutState.ROLLED_BACK
    assert "metric source unreadable once (limit 0)" in (record.reason or "")
    assert "totals went down" in (record.reason or "")
    assert weights(rollout_project.timeline())[-1] == 0.0
