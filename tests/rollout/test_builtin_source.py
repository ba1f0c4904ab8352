"""The builtin metric source reads what a real builtin router measured."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import SourceError
from gonogo.rollout.route.builtin import BuiltinRouter
from gonogo.rollout.source.builtin import BuiltinSource, BuiltinSourceConfig
from gonogo.rollout.source.interface import MetricSource, Snapshot
from tests.rollout.services import SampleService, fetch, sample_service

BASELINE, CANARY = Variant.BASELINE, Variant.CANARY


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[SampleService, SampleService]]:
    """A v1 baseline and a v2 canary that fails one request in five."""
    with (
        sample_service("v1", "--latency-ms", "1") as v1,
        sample_service("v2", "--latency-ms", "1", "--error-rate", "0.2", "--seed", "3") as v2,
    ):
        yield v1, v2


@pytest.fixture
def routed(pair: tuple[SampleService, SampleService]) -> Iterator[BuiltinSource]:
    """A source bound to v1/v2 over a router that sends them 30% canary traffic."""
    v1, v2 = pair
    with BuiltinRouter() as router:
        router.configure(v1.backend(BASELINE), v2.backend(CANARY), 30)
        source = BuiltinSource(router)
        source.bind(v1.backend(BASELINE), v2.backend(CANARY))
        yield source


def test_the_builtin_source_implements_the_metric_source_interface(
    routed: BuiltinSource,
) -> None:
    assert isinstance(routed, MetricSource)
    assert routed.name == "builtin"


def test_the_totals_equal_the_routers_counters(routed: BuiltinSource) -> None:
    fetch(routed.router.url, 100)
    snapshot = routed.snapshot()
    counters = routed.router.totals()
    assert snapshot.of(BASELINE) == counters[BASELINE, "v1"]
    assert snapshot.of(CANARY) == counters[CANARY, "v2"]
    assert snapshot.of(BASELINE).requests == 70
    assert snapshot.of(CANARY).requests == 30
    assert snapshot.of(CANARY).latency.total == 30


def test_the_canarys_errors_show_under_the_canary(routed: BuiltinSource) -> None:
    statuses = [r.status_code for r in fetch(routed.router.url, 100)]
    snapshot = routed.snapshot()
    assert snapshot.of(BASELINE).errors == 0
    assert snapshot.of(CANARY).errors == statuses.count(500)
    assert snapshot.of(CANARY).errors > 0


def test_the_totals_only_increase_while_traffic_flows(routed: BuiltinSource) -> None:
    done = threading.Event()

    def traffic() -> None:
        try:
            for _ in range(6):
                fetch(routed.router.url, 20)
        finally:
            done.set()

    sender = threading.Thread(target=traffic)
    sender.start()
    snapshots: list[Snapshot] = []
    while not done.is_set():
        snapshots.append(routed.snapshot())
        done.wait(0.01)
    sender.join()
    snapshots.append(routed.snapshot())
    for earlier, later in itertools.pairwise(snapshots):
        assert later.at >= earlier.at
        for variant in (BASELINE, CANARY):
            before, after = earlier.of(variant), later.of(variant)
            assert after.requests >= before.requests
            assert after.errors >= before.errors
            assert all(after.latency.counts.get(i, 0) >= c for i, c in before.latency.items())
    final = snapshots[-1]
    assert final.of(BASELINE).requests + final.of(CANARY).requests == 120


def test_a_new_canary_version_starts_from_zero(
    routed: BuiltinSource, pair: tuple[SampleService, SampleService]
) -> None:
    v1, v2 = pair
    fetch(routed.router.url, 10)
    v3 = Backend(CANARY, "v3", v2.url)
    routed.router.configure(v1.backend(BASELINE), v3, 30)
    routed.bind(v1.backend(BASELINE), v3)
    snapshot = routed.snapshot()
    assert snapshot.of(CANARY).requests == 0
    assert snapshot.of(BASELINE).requests == 7


def test_a_router_that_is_not_running_is_a_source_error(
    pair: tuple[SampleService, SampleService],
) -> None:
    v1, v2 = pair
    router = BuiltinRouter()
    source = BuiltinSource.from_config(BuiltinSourceConfig(), router)
    source.bind(v1.backend(BASELINE), v2.backend(CANARY))
    with pytest.raises(SourceError, match="not running"):
        source.snapshot()
    router.configure(v1.backend(BASELINE), v2.backend(CANARY), 0)
    assert source.snapshot().of(CANARY).requests == 0
    router.close()
    with pytest.raises(SourceError, match="not running"):
        source.snapshot()
    source.close()


def test_an_unbound_source_is_a_source_error(routed: BuiltinSource) -> None:
    unbound = BuiltinSource(routed.router)
    with pytest.raises(SourceError, match="bind it"):
        unbound.snapshot()


def test_the_config_has_no_keys_but_its_type() -> None:
    assert BuiltinSourceConfig.model_validate({"type": "builtin"}).type == "builtin"
    with pytest.raises(ValidationError):
        BuiltinSourceConfig.model_validate({"type": "builtin", "url": "http://x"})
    with pytest.raises(ValidationError):
        BuiltinSourceConfig.model_validate({"type": "prometheus"})
