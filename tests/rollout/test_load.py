"""The demo's load generator against real sample-service processes and the builtin router."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import pytest

from gonogo.rollout.deploy.interface import Variant
from gonogo.rollout.load import LoadError, LoadGenerator, LoadStats
from gonogo.rollout.route.builtin import BuiltinRouter
from tests.rollout.services import Services, free_port

DEADLINE_S = 60.0


@pytest.fixture
def services() -> Iterator[Services]:
    """Sample services started by one test, stopped after it."""
    with Services() as running:
        yield running


def wait_for(load: LoadGenerator, condition: Callable[[LoadStats], bool]) -> LoadStats:
    """Poll the generator's counts until ``condition`` holds (generous deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        stats = load.stats()
        if condition(stats):
            return stats
        time.sleep(0.05)
    raise AssertionError(f"condition not reached within {DEADLINE_S} s: {load.stats()}")


def assert_balanced(stats: LoadStats) -> None:
    """Every arrival is sent or dropped; every request sent has finished one way."""
    assert stats.arrivals == stats.sent + stats.dropped
    assert stats.sent == stats.answered + stats.transport_errors + stats.cancelled
    assert stats.in_flight == 0


def test_the_generator_offers_roughly_its_target_rate(services: Services) -> None:
    target = services.start("v1", "--latency-ms", "1")
    with LoadGenerator(target.url + "/", 80, seed=7) as load:
        wait_for(load, lambda s: s.arrivals >= 160)
    stats = load.stats()
    assert_balanced(stats)
    # Poisson arrivals on the generator's own clock: a broad range, never a duration
    assert 0.5 <= stats.arrivals / (80 * stats.elapsed_s) <= 1.5
    assert stats.by_class.get("2xx", 0) == stats.answered >= 100
    assert stats.transport_errors == 0


def test_answers_are_counted_by_status_class(services: Services) -> None:
    target = services.start("v2", "--error-rate", "1", "--latency-ms", "1")
    with LoadGenerator(target.url + "/", 50, seed=1) as load:
        wait_for(load, lambda s: s.answered >= 20)
    stats = load.stats()
    assert_balanced(stats)
    assert stats.by_class.keys() == {"5xx"}
    assert stats.to_json()["by_class"] == {"5xx": stats.answered}


def test_a_dead_target_only_adds_transport_errors() -> None:
    load = LoadGenerator(f"http://127.0.0.1:{free_port()}/", 100, seed=2).start()
    try:
        wait_for(load, lambda s: s.transport_errors >= 20)
        assert load.running
    finally:
        stats = load.stop()
    assert not load.running
    assert_balanced(stats)
    assert stats.answered == 0
    assert stats.transport_errors == stats.sent - stats.cancelled


def test_the_routers_counters_match_the_answers_the_generator_got(services: Services) -> None:
    v1 = services.start("v1", "--latency-ms", "1")
    v2 = services.start("v2", "--latency-ms", "1")
    with BuiltinRouter() as router:
        router.configure(v1.backend(Variant.BASELINE), v2.backend(Variant.CANARY), 25)
        with LoadGenerator(router.url + "/", 80, seed=3) as load:
            wait_for(load, lambda s: s.answered >= 100)
        stats = load.stats()
        routed = sum(sample.requests for sample in router.totals().values())
    assert_balanced(stats)
    assert routed == stats.answered


def test_concurrency_is_bounded_and_the_excess_dropped(services: Services) -> None:
    slow = services.start("v1", "--latency-ms", "20000", "--sigma", "0")
    load = LoadGenerator(slow.url + "/", 50, seed=4, concurrency=2, timeout_s=1).start()
    try:
        stats = wait_for(load, lambda s: s.dropped >= 10)
        assert stats.in_flight <= 2
    finally:
        final = load.stop()
    assert_balanced(final)
    assert final.answered == 0  # every request outlived its one-second timeout


def test_stop_is_harmless_before_start_and_twice(services: Services) -> None:
    target = services.start("v1", "--latency-ms", "1")
    load = LoadGenerator(target.url + "/", 50, seed=5)
    assert load.stop() == LoadStats()
    load.start()
    wait_for(load, lambda s: s.answered >= 5)
    first = load.stop()
    assert load.stop() == first
    assert first.to_json()["answered"] >= 5


@pytest.mark.parametrize(
    ("url", "rps", "settings", "message"),
    [
        ("localhost:8080", 10, {}, "not an http"),
        ("http://", 10, {}, "not an http"),
        ("http://127.0.0.1:1/", 0, {}, "not a positive number"),
        ("http://127.0.0.1:1/", math.nan, {}, "not a positive number"),
        ("http://127.0.0.1:1/", 10, {"concurrency": 0}, "below 1"),
        ("http://127.0.0.1:1/", 10, {"timeout_s": -1}, "timeout"),
    ],
)
def test_bad_settings_are_one_clear_error(
    url: str, rps: float, settings: dict[str, int], message: str
) -> None:
    with pytest.raises(LoadError, match=message):
        LoadGenerator(url, rps, **settings)
