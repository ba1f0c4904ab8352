"""A rollout end to end on the infrastructure a team runs: nginx splits the traffic and the
judge reads Prometheus.

``gonogo rollout start`` runs the sample service's variants with the ``local`` deployer,
its own nginx (managed mode, on the project's front port) and the ``prometheus`` source
with its default queries, against a real Prometheus that scrapes the variants' /metrics
every second. The deployer picks the variants' ports, so the test publishes them, as a
team's service registry would, to a file Prometheus watches (file-based service
discovery); a staging gate of the policy waits until Prometheus scrapes both variants, so
every canary decision rests on Prometheus' numbers. No test asserts a duration.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gonogo.cli.main import main
from gonogo.rollout.route.nginx import NginxRouter, NginxRouterConfig
from gonogo.rollout.source.prometheus import PrometheusQueries
from gonogo.rollout.state import RolloutRecord, RolloutState
from tests.rollout.nginx_prom_fixtures import Processes, PrometheusServer
from tests.rollout.processes import refuses
from tests.rollout.rollouts import ERRORS_ONLY, RolloutProject, rollout_project, weights

__all__ = ["rollout_project"]

pytestmark = pytest.mark.slow

#: the staging gate: Prometheus scrapes the baseline and the canary (``up`` is 1) before
#: the canary takes traffic; without it the first intervals would see no canary at all
SCRAPED_GATE = '''\
"""Exit 0 once the Prometheus at argv[1] scrapes both variants of the rollout."""
import json
import os
import sys
import time
import urllib.parse
import urllib.request

prometheus = sys.argv[1]
instances = [
    urllib.parse.urlsplit(os.environ[name]).netloc
    for name in ("GONOGO_BASELINE_URL", "GONOGO_CANARY_URL")
]
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def up(instance):
    query = urllib.parse.urlencode({"query": f'up{{instance="{instance}"}}'})
    with direct.open(f"{prometheus}/api/v1/query?{query}", timeout=5) as answer:
        result = json.load(answer)["data"]["result"]
    return any(sample["value"][1] == "1" for sample in result)


deadline = time.monotonic() + 60
while not all(up(instance) for instance in instances):
    if time.monotonic() > deadline:
        sys.exit(f"Prometheus at {prometheus} does not scrape {instances} after 60s")
    time.sleep(0.2)
print(f"Prometheus scrapes {instances}")
'''


@dataclass
class Monitored:
    """A rollout project routed by its own nginx and judged from a real Prometheus."""

    project: RolloutProject
    prometheus: PrometheusServer
    targets: Path
    """Prometheus' file-SD file: the variants' ``host:port``"""
    nginx_dir: Path

    def write(self, **settings: Any) -> None:
        """The project's policy with the nginx router, the prometheus source and the gate."""
        gate = self.project.root / "scripts" / "prometheus_scrapes.py"
        gate.parent.mkdir(exist_ok=True)
        gate.write_text(SCRAPED_GATE, encoding="utf-8")
        self.project.write(
            router=f'type = "nginx"\nport = {self.project.port}\n'
            f"state_dir = {json.dumps(str(self.nginx_dir))}",
            # Prometheus scrapes every second, and the source reads that from its
            # configuration: each variant's counts trail by at most that
            source=f'type = "prometheus"\nurl = "{self.prometheus.url}"\ntimeout_s = 5',
            staging_run=[sys.executable, str(gate), self.prometheus.url],
            interval=0.5,
            **settings,
        )

    def start(self, version: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
        """``gonogo rollout start -f json`` with the variants published to Prometheus."""
        with discovering(self.project, self.targets):
            code = main(
                [
                    "--project",
                    str(self.project.root),
                    "rollout",
                    "start",
                    "--version",
                    version,
                    "--baseline",
                    "v1",
                    "-f",
                    "json",
                ]
            )
        return code, json.loads(capsys.readouterr().out)

    def canary_requests_through_nginx(self) -> int:
        """Requests nginx's access log shows it sent to the canary."""
        lines = (self.nginx_dir / "access.log").read_text(encoding="utf-8").splitlines()
        return sum(json.loads(line)["variant"] == "canary" for line in lines)


def instances(record: RolloutRecord | None) -> list[str]:
    """``host:port`` of every variant the deployer runs now, from the store."""
    deployer = (record.components.get("deployer") or {}) if record is not None else {}
    variants = deployer.get("variants", {})
    return sorted(urlsplit(variant["url"]).netloc for variant in variants.values())


def publish(targets: Path, found: list[str]) -> None:
    """Rewrite the file-SD file atomically (Prometheus must never read half of it)."""
    temporary = targets.with_suffix(".tmp")
    temporary.write_text(json.dumps([{"targets": found}]), encoding="utf-8")
    temporary.replace(targets)


@contextlib.contextmanager
def discovering(project: RolloutProject, targets: Path) -> Iterator[None]:
    """Keep Prometheus' targets equal to the variants the deployer runs, while inside."""
    stop = threading.Event()

    def follow() -> None:
        published: list[str] = []
        while not stop.wait(0.2):
            found = instances(project.record())
            if found != published:
                publish(targets, found)
                published = found

    thread = threading.Thread(target=follow, name="file-sd", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def monitored(
    rollout_project: RolloutProject, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Monitored]:
    """A Prometheus discovering targets from a file; the managed nginx stopped afterwards."""
    root = tmp_path_factory.mktemp("monitoring")
    targets = root / "targets.json"
    publish(targets, [])
    nginx_dir = root / "nginx"
    with Processes() as processes:
        prometheus = PrometheusServer(root / "prometheus", processes)
        prometheus.root.mkdir()
        prometheus.start([], file_sd=targets)
        try:
            yield Monitored(rollout_project, prometheus, targets, nginx_dir)
        finally:
            # the managed nginx is a daemon that outlives its controller, by design
            NginxRouter(NginxRouterConfig(state_dir=nginx_dir)).stop()


def decisions(story: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline's decisions (every one but "continue")."""
    return [entry for entry in story if entry["event"] == "rollout.decision"]


def assert_from_prometheus(decision: dict[str, Any], monitored: Monitored) -> None:
    """The decision names the prometheus source, its address and the queries it ran."""
    source = decision["source"]
    assert source["type"] == "prometheus"
    assert source["url"] == monitored.prometheus.url
    assert source["queries"] == PrometheusQueries().model_dump()


def test_a_regressed_canary_measured_by_prometheus_is_rolled_back_through_nginx(
    monitored: Monitored, capsys: pytest.CaptureFixture[str]
) -> None:
    monitored.write(
        weights=(20, 50),
        max_dwell=60,
        canary={"v2": ["--error-rate", "0.5"]},
        metrics=ERRORS_ONLY,
    )
    monitored.project.load()

    code, report = monitored.start("v2", capsys)

    record = monitored.project.record()
    assert record is not None
    assert record.state is RolloutState.ROLLED_BACK, record.reason
    assert (code, report["outcome"]) == (1, "rolled_back")
    assert record.weight == 0.0
    assert record.components["router_url"] == monitored.project.url
    story = monitored.project.timeline()
    assert weights(story) == [20.0, 0.0]
    verdicts = decisions(story)
    assert [d["action"] for d in verdicts] == ["rollback"], record.reason
    rollback = verdicts[0]
    # the canary's errors, not its share of the traffic: nginx splits exactly
    assert (rollback["basis"], rollback["decision"]["metric"]) == ("regression", "errors"), (
        rollback["reason"]
    )
    assert_from_prometheus(rollback, monitored)
    canary, baseline = rollback["totals"]["canary"], rollback["totals"]["baseline"]
    assert canary["requests"] > 0
    assert canary["error_rate"] > 0.3  # v2 fails half its requests
    assert baseline["error_rate"] < 0.1
    assert canary["p50_ms"] is not None  # latency from Prometheus' histogram buckets
    # what Prometheus counted for the canary, nginx routed to it first
    assert canary["requests"] <= monitored.canary_requests_through_nginx()
    assert story[-1]["event"] == "rollout.rolled_back"
    assert refuses(record.components["canary"]["url"])  # the deployer took it down
    assert monitored.project.audit_ok()


def test_a_healthy_canary_measured_by_prometheus_is_promoted_through_nginx(
    monitored: Monitored, capsys: pytest.CaptureFixture[str]
) -> None:
    monitored.write(weights=(20, 50), warmup=2, max_inconclusive=3, metrics=ERRORS_ONLY)
    monitored.project.load()

    code, report = monitored.start("v2", capsys)

    record = monitored.project.record()
    assert record is not None
    assert record.state is RolloutState.PROMOTED, record.reason
    assert (code, report["outcome"]) == (0, "promoted")
    story = monitored.project.timeline()
    assert weights(story) == [20.0, 50.0, 100.0]
    verdicts = decisions(story)
    assert "rollback" not in [d["action"] for d in verdicts]  # a rerun step may happen
    promotions = [d for d in verdicts if d["action"] == "promote_step"]
    assert len(promotions) == 2
    for promotion in promotions:
        assert_from_prometheus(promotion, monitored)
        assert promotion["totals"]["canary"]["requests"] > 0
    assert promotions[-1]["totals"]["canary"]["requests"] <= (
        monitored.canary_requests_through_nginx()
    )
    assert story[-1]["event"] == "rollout.promoted"
    assert monitored.project.audit_ok()
