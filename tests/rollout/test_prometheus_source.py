"""The Prometheus source against a real Prometheus scraping real sample services.

One Prometheus (config generated in a temp dir and checked with promtool) scrapes a fast
v1 and a slow v2 every second; the tests send known numbers of requests to each and
poll the source until Prometheus has scraped them all.
"""

from __future__ import annotations

import http.server
import math
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gonogo.rollout.analysis.histogram import NUM_BUCKETS, bucket_of, upper_edge
from gonogo.rollout.analysis.interface import VariantSample
from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import SourceError
from gonogo.rollout.source.interface import MetricSource, Snapshot
from gonogo.rollout.source.prometheus import (
    DEFAULT_SCRAPE_INTERVAL_S,
    PrometheusSource,
    PrometheusSourceConfig,
    histogram_from_buckets,
    scrape_intervals,
)
from tests.rollout.nginx_prom_fixtures import (
    LOOPBACK,
    ExternalNginx,
    Processes,
    PrometheusServer,
    Sample,
    free_port,
    wait_until,
)


@dataclass(frozen=True)
class Profile:
    """How a sample service behaves and how many requests the test sends it."""

    version: str
    error_rate: float
    latency_ms: float
    requests: int
    seed: int


FAST = Profile("v1", error_rate=0.1, latency_ms=3.0, requests=200, seed=1)
SLOW = Profile("v2", error_rate=0.3, latency_ms=60.0, requests=120, seed=2)


@dataclass
class Scraped:
    """Two sample services, what the test's client saw from each, and Prometheus."""

    fast: Sample
    slow: Sample
    codes: dict[str, Counter[int]]
    prometheus: PrometheusServer
    processes: Processes


def _send(sample: Sample, count: int) -> Counter[int]:
    """Status codes of ``count`` requests, sent by four clients in parallel."""

    def batch(size: int) -> Counter[int]:
        codes: Counter[int] = Counter()
        with httpx.Client(timeout=30) as client:
            for _ in range(size):
                codes[client.get(sample.url).status_code] += 1
        return codes

    with ThreadPoolExecutor(max_workers=4) as pool:
        return sum(pool.map(batch, [count // 4] * 3 + [count - 3 * (count // 4)]), Counter())


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    with Processes() as processes:
        fast, slow = (
            processes.sample(
                p.version, error_rate=p.error_rate, latency_ms=p.latency_ms, sigma=0.1, seed=p.seed
            )
            for p in (FAST, SLOW)
        )
        prometheus = PrometheusServer(tmp_path_factory.mktemp("prometheus"), processes)
        prometheus.start([f"{LOOPBACK}:{fast.port}", f"{LOOPBACK}:{slow.port}"])
        codes = {"v1": _send(fast, FAST.requests), "v2": _send(slow, SLOW.requests)}
        yield Scraped(fast, slow, codes, prometheus, processes)


def _source(scraped: Scraped, **settings: object) -> PrometheusSource:
    config = PrometheusSourceConfig.model_validate({"url": scraped.prometheus.url, **settings})
    source = PrometheusSource(config)
    source.bind(
        Backend(Variant.BASELINE, "v1", scraped.fast.url),
        Backend(Variant.CANARY, "v2", scraped.slow.url),
    )
    return source


def _complete(source: PrometheusSource) -> Snapshot:
    """A snapshot once Prometheus has scraped every request the fixture sent."""
    latest: list[Snapshot] = []

    def scraped_all() -> bool:
        latest.append(source.snapshot())
        return (
            latest[-1].of(Variant.BASELINE).requests == FAST.requests
            and latest[-1].of(Variant.CANARY).requests == SLOW.requests
        )

    wait_until(scraped_all, "Prometheus to scrape every request sent")
    return latest[-1]


def test_totals_and_errors_per_version_equal_what_the_services_counted(scraped: Scraped) -> None:
    source = _source(scraped)
    assert isinstance(source, MetricSource)
    snapshot = _complete(source)

    for variant, sample in ((Variant.BASELINE, scraped.fast), (Variant.CANARY, scraped.slow)):
        totals = snapshot.of(variant)
        seen = scraped.codes[sample.version]
        counted = sample.counted()
        assert totals.requests == sum(seen.values()) == sum(counted.values())
        assert totals.errors == seen[500] == counted.get("500", 0)
        assert totals.latency.total == totals.requests
    assert snapshot.of(Variant.CANARY).errors > 0
    source.close()


def test_latency_quantiles_tell_a_slow_service_from_a_fast_one(scraped: Scraped) -> None:
    source = _source(scraped)
    snapshot = _complete(source)
    fast_p50 = snapshot.of(Variant.BASELINE).latency.quantile(0.5)
    slow_p50 = snapshot.of(Variant.CANARY).latency.quantile(0.5)
    assert fast_p50 is not None and slow_p50 is not None
    # 3 ms and 60 ms medians, read at the upper edge of their Prometheus bucket
    assert 3.0 <= fast_p50 <= 30.0, fast_p50
    assert 60.0 <= slow_p50 <= 200.0, slow_p50
    source.close()


def test_extra_metrics_come_as_moments_from_sum_and_count_queries(scraped: Scraped) -> None:
    selector = 'sample_request_duration_seconds_{part}{{version="{{version}}"}}'
    source = _source(
        scraped,
        metrics={
            "duration_ms": {
                "sum": f"sum({selector.format(part='sum')}) * 1000",
                "count": f"sum({selector.format(part='count')})",
            }
        },
    )
    snapshot = _complete(source)
    fast = snapshot.of(Variant.BASELINE).metrics["duration_ms"]
    slow = snapshot.of(Variant.CANARY).metrics["duration_ms"]
    assert fast.count == FAST.requests and slow.count == SLOW.requests
    assert 2.0 <= fast.mean <= 30.0, fast.mean
    assert 50.0 <= slow.mean <= 200.0, slow.mean
    source.close()


def test_a_version_without_traffic_reads_as_zero_not_as_an_error(scraped: Scraped) -> None:
    source = _source(scraped)
    source.bind(
        Backend(Variant.BASELINE, "v1", scraped.fast.url),
        Backend(Variant.CANARY, 'v9 "never deployed"', "http://127.0.0.1:1"),
    )
    assert source.snapshot().of(Variant.CANARY) == VariantSample()
    source.close()


def test_bad_promql_is_one_line_naming_the_query_and_prometheus_message(scraped: Scraped) -> None:
    source = _source(scraped, queries={"errors": 'sum(rate(sample_requests_total{version="x"}'})
    with pytest.raises(SourceError) as caught:
        source.snapshot()
    message = str(caught.value)
    assert message.startswith("query errors failed: bad_data: ")
    assert "parse error" in message
    assert "\n" not in message
    source.close()


def test_a_range_vector_query_is_refused_with_a_reason(scraped: Scraped) -> None:
    source = _source(
        scraped, queries={"requests": 'sample_requests_total{version="{version}"}[1m]'}
    )
    with pytest.raises(SourceError, match="query requests returned a matrix result"):
        source.snapshot()
    source.close()


def test_the_lag_is_the_scrape_interval_the_server_is_configured_with(scraped: Scraped) -> None:
    """The fixture's Prometheus scrapes every second; a policy's own value wins."""
    source = _source(scraped)
    assert source.lag_s == 1.0
    told = _source(scraped, scrape_interval_s=20)
    assert told.lag_s == 20.0
    for each in (source, told):
        each.close()


@pytest.mark.parametrize(
    "answer",
    [
        '{"status": "error", "errorType": "not_found", "error": "no such API"}',
        '{"status": "success", "data": {"yaml": "global: [unclosed"}}',
        '{"status": "success", "data": {"yaml": "scrape_configs: 7"}}',
    ],
)
def test_a_server_that_does_not_give_its_configuration_gets_prometheus_default(
    answer: str,
) -> None:
    """A query service without Prometheus' status API, or one that answers it oddly: a
    tiny loopback server stands in for it (a real Prometheus always answers)."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Answers)
    server.body = answer.encode()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://{LOOPBACK}:{server.server_address[1]}"
    source = PrometheusSource(PrometheusSourceConfig(url=url))
    try:
        assert source.lag_s == DEFAULT_SCRAPE_INTERVAL_S == 60.0
    finally:
        source.close()
        server.shutdown()
        server.server_close()


def test_every_job_counts_with_its_own_interval_or_the_global_one() -> None:
    config = {
        "global": {"scrape_interval": "30s"},
        "scrape_configs": [
            {"job_name": "a"},
            {"job_name": "b", "scrape_interval": "2m"},
            {"job_name": "c", "scrape_interval": "1m30s"},
            {"job_name": "d", "scrape_interval": "500ms"},
            {"job_name": "e", "scrape_interval": "soon"},  # not a duration: the global one
        ],
    }
    assert scrape_intervals(config) == [30.0, 30.0, 120.0, 90.0, 0.5, 30.0]
    # no global interval: Prometheus' own default for a job without one
    assert scrape_intervals({"scrape_configs": [{"job_name": "a"}]}) == [60.0]
    assert scrape_intervals("not a configuration") == []


def test_an_unreachable_prometheus_is_one_line() -> None:
    config = PrometheusSourceConfig(url=f"http://user:secret@{LOOPBACK}:{free_port()}/prom")
    source = PrometheusSource(config)
    source.bind(
        Backend(Variant.BASELINE, "v1", "http://127.0.0.1:1"),
        Backend(Variant.CANARY, "v2", "http://127.0.0.1:2"),
    )
    with pytest.raises(SourceError) as caught:
        source.snapshot()
    message = str(caught.value)
    assert message.startswith(f"prometheus at http://{LOOPBACK}:")
    assert "is unreachable: " in message and "Connection refused" in message
    assert "secret" not in message and "\n" not in message
    source.close()


def test_a_bearer_token_from_the_environment_reaches_prometheus_behind_a_proxy(
    scraped: Scraped, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real nginx in front of the real Prometheus lets only one bearer token through."""
    token = "s3cr3t-token-value"
    proxy = ExternalNginx(tmp_path / "auth-proxy", scraped.processes)
    proxy.include_dir.mkdir(parents=True)
    port = free_port()
    (proxy.include_dir / "auth.conf").write_text(
        "server {\n"
        f"    listen {LOOPBACK}:{port};\n"
        f'    if ($http_authorization != "Bearer {token}") {{ return 401; }}\n'
        f"    location / {{ proxy_pass {scraped.prometheus.url}; }}\n"
        "}\n"
    )
    proxy.start()
    url = f"http://{LOOPBACK}:{port}"
    wait_until(lambda: _status(url) == 401, "the auth proxy to answer")

    with pytest.raises(SourceError, match="environment variable PROM_TOKEN is not set"):
        _source_with_env(scraped, url, {})

    monkeypatch.setenv("PROM_TOKEN", token)
    allowed = _source(scraped, url=url, bearer_token_env="PROM_TOKEN")
    assert _complete(allowed).of(Variant.BASELINE).requests == FAST.requests
    refused = _source_with_env(scraped, url, {"PROM_TOKEN": "wrong"})
    with pytest.raises(SourceError) as caught:
        refused.snapshot()
    assert "answered HTTP 401" in str(caught.value)
    assert "wrong" not in str(caught.value)  # the token never appears in a message
    for each in (allowed, refused):
        each.close()


def _source_with_env(scraped: Scraped, url: str, environ: dict[str, str]) -> PrometheusSource:
    config = PrometheusSourceConfig(url=url, bearer_token_env="PROM_TOKEN")
    source = PrometheusSource(config, environ=environ)
    source.bind(
        Backend(Variant.BASELINE, "v1", scraped.fast.url),
        Backend(Variant.CANARY, "v2", scraped.slow.url),
    )
    return source


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def test_snapshot_before_bind_is_an_error() -> None:
    source = PrometheusSource(PrometheusSourceConfig(url="http://127.0.0.1:9"))
    with pytest.raises(SourceError, match="no variants yet"):
        source.snapshot()
    source.close()


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"queries": {"requests": 'sum(x{env="{env}"})'}}, r"queries\.requests\n.*\{env\}"),
        ({"metrics": {"cpu": {"sum": "{host}", "count": "x"}}}, r"metrics\.cpu\.sum\n.*\{host\}"),
        ({"url": "prometheus:9090"}, "url must be an http"),
        # the API path is appended to the url: a query would swallow it
        ({"url": "http://127.0.0.1:9090/?token=x"}, "url must not have a query"),
        ({"headers": {"Authorization": "Bearer x"}}, "use bearer_token_env"),
        ({"bearer_token_env": "not a name"}, "should match pattern"),
        ({"timeout_s": 0}, "greater than 0"),
        # past a day a socket timeout overflows the platform's time type
        ({"timeout_s": 1e12}, "timeout_s\n.*less than or equal to 86400"),
        ({"timeout_s": float("inf")}, "timeout_s\n.*finite number"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_config_problems_name_the_key(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        PrometheusSourceConfig.model_validate({"url": "http://127.0.0.1:9090", **settings})


def test_cumulative_buckets_land_at_the_upper_edge_of_each_prometheus_bucket() -> None:
    cumulative = {0.005: 10.0, 0.01: 30.0, 0.025: 30.0, 0.05: 35.0, math.inf: 37.0}
    histogram = histogram_from_buckets(cumulative, 1000.0)
    assert dict(histogram.items()) == {
        bucket_of(5.0): 10,
        bucket_of(10.0): 20,
        bucket_of(50.0): 5,
        NUM_BUCKETS - 1: 2,
    }
    assert histogram.total == 37
    p50 = histogram.quantile(0.5)
    assert p50 is not None and 9.9 <= p50 <= upper_edge(bucket_of(10.0))


def test_shrinking_counters_and_millisecond_edges_are_handled() -> None:
    # a series scraped later than the next one can look like a shrinking cumulative count
    histogram = histogram_from_buckets({1.0: 5.0, 2.0: 4.0, 4.0: 9.0}, 1.0)
    assert dict(histogram.items()) == {bucket_of(1.0): 5, bucket_of(4.0): 4}
    assert histogram_from_buckets({}, 1.0).total == 0


class _Answers(http.server.BaseHTTPRequestHandler):
    """Answers every query with the server's ``body``: JSON of the wrong shape."""

    def do_GET(self) -> None:
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize(
    "result",
    [
        '{"resultType": "vector", "result": [1, 2]}',
        '{"resultType": "vector", "result": [{"metric": "x", "value": [1, "2"]}]}',
        '{"resultType": "vector", "result": [{"metric": {}, "value": {"1": "2"}}]}',
        '{"resultType": "vector", "result": [{"metric": {}, "value": [1, "2", 3]}]}',
        '{"resultType": "scalar", "result": "12"}',
    ],
)
def test_an_answer_of_the_wrong_shape_is_one_line_not_a_crash(result: str) -> None:
    """A real Prometheus never answers like this: a tiny loopback server stands in for a
    proxy or another service at the configured address. Such an answer used to escape as
    an AttributeError or KeyError, killing the controller with the canary's share set."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Answers)
    server.body = ('{"status": "success", "data": ' + result + "}").encode()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    source = PrometheusSource(
        PrometheusSourceConfig(url=f"http://{LOOPBACK}:{server.server_address[1]}")
    )
    source.bind(
        Backend(Variant.BASELINE, "v1", "http://127.0.0.1:1"),
        Backend(Variant.CANARY, "v2", "http://127.0.0.1:2"),
    )
    try:
        with pytest.raises(SourceError) as caught:
            source.snapshot()
    finally:
        source.close()
        server.shutdown()
        server.server_close()
    message = str(caught.value)
    assert message.startswith("query requests: unreadable s"), message
    assert "\n" not in message
