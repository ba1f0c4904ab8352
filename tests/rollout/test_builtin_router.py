"""The builtin router against real sample-service processes on loopback.

The forwarding tests use the in-thread echo server from ``tests/rollout/services.py``
(a real HTTP server that answers with what it received) instead of a sample service,
because the sample service does not report the request it got.
"""

from __future__ import annotations

import gc
import json
import math
import socket
import threading
import time
from collections.abc import Iterator

import h11
import httpx
import pytest
from pydantic import ValidationError

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route import builtin
from gonogo.rollout.route.builtin import BuiltinRouter, BuiltinRouterConfig
from gonogo.rollout.route.interface import Router
from tests.rollout.services import (
    SampleService,
    Services,
    echo_server,
    fetch,
    port_is_free,
    sample_service,
    versions,
)

BASELINE, CANARY = Variant.BASELINE, Variant.CANARY


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[SampleService, SampleService]]:
    """A healthy v1 (baseline) and v2 (canary), shared by the module's tests."""
    with (
        sample_service("v1", "--latency-ms", "1") as v1,
        sample_service("v2", "--latency-ms", "1") as v2,
    ):
        yield v1, v2


@pytest.fixture
def services() -> Iterator[Services]:
    """Sample services started by one test, stopped after it."""
    with Services() as running:
        yield running


@pytest.fixture
def router() -> Iterator[BuiltinRouter]:
    """A builtin router on a free loopback port, closed after the test."""
    with BuiltinRouter() as proxy:
        yield proxy


def routed(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService], percent: float
) -> None:
    """Configure ``router`` with the shared pair at ``percent`` for the canary."""
    v1, v2 = pair
    router.configure(v1.backend(BASELINE), v2.backend(CANARY), percent)


def test_the_builtin_router_implements_the_router_interface(router: BuiltinRouter) -> None:
    router.start()  # before, ``url`` raises RouterError: Python 3.11's isinstance reads it
    assert isinstance(router, Router)
    assert router.name == "builtin"


@pytest.mark.parametrize(
    ("percent", "requests", "canary"),
    [(0, 100, 0), (1, 100, 1), (25, 100, 25), (100, 60, 60), (0.5, 200, 1), (2.5, 40, 1)],
)
def test_the_split_sends_exactly_the_canarys_share(
    router: BuiltinRouter,
    pair: tuple[SampleService, SampleService],
    percent: float,
    requests: int,
    canary: int,
) -> None:
    routed(router, pair, percent)
    seen = versions(fetch(router.url, requests))
    assert seen["v2"] == canary
    assert seen["v1"] == requests - canary


def test_one_percent_is_one_request_in_every_hundred(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 1)
    for _ in range(3):
        assert versions(fetch(router.url, 100))["v2"] == 1


def test_the_counters_match_what_clients_received(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 25)
    fetch(router.url, 200, concurrency=20)
    totals = router.totals()
    assert totals[BASELINE, "v1"].requests == 150
    assert totals[CANARY, "v2"].requests == 50
    assert totals[BASELINE, "v1"].errors == totals[CANARY, "v2"].errors == 0
    assert totals[BASELINE, "v1"].latency.total == 150
    assert totals[CANARY, "v2"].latency.total == 50


def test_set_weight_changes_the_split_live_on_the_same_address(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 0)
    url = router.url
    assert versions(fetch(url, 50))["v2"] == 0
    router.set_weight(50)
    assert router.url == url
    assert versions(fetch(url, 50))["v2"] == 25
    router.set_weight(100)
    assert versions(fetch(url, 20)) == {"v2": 20}
    router.set_weight(0)
    assert versions(fetch(url, 20)) == {"v1": 20}


def test_set_weight_applies_to_an_open_keep_alive_connection(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 0)
    with httpx.Client(trust_env=False, timeout=60) as client:
        before = [client.get(router.url).json()["version"] for _ in range(4)]
        router.set_weight(100)
        after = [client.get(router.url).json()["version"] for _ in range(4)]
    assert before == ["v1"] * 4
    assert after == ["v2"] * 4


def test_weight_reads_back_the_applied_split(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    assert router.weight() is None
    routed(router, pair, 5)
    assert router.weight() == 5.0
    router.set_weight(12.5)
    assert router.weight() == 12.5
    router.set_weight(0)
    assert router.weight() == 0.0
    router.close()
    assert router.weight() is None


def test_a_failing_canarys_errors_count_for_the_canary_only(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService], services: Services
) -> None:
    v1, _ = pair
    broken = services.start("v2", "--error-rate", "1", "--latency-ms", "1")
    router.configure(v1.backend(BASELINE), broken.backend(CANARY), 25)
    statuses = [r.status_code for r in fetch(router.url, 100)]
    assert statuses.count(500) == 25
    assert statuses.count(200) == 75
    totals = router.totals()
    assert (totals[CANARY, "v2"].requests, totals[CANARY, "v2"].errors) == (25, 25)
    assert (totals[BASELINE, "v1"].requests, totals[BASELINE, "v1"].errors) == (75, 0)


def test_a_slower_canary_has_a_higher_median_latency(
    router: BuiltinRouter, services: Services
) -> None:
    fast = services.start("v1", "--latency-ms", "2")
    slow = services.start("v2", "--latency-ms", "80")
    router.configure(fast.backend(BASELINE), slow.backend(CANARY), 50)
    fetch(router.url, 80)
    totals = router.totals()
    baseline_p50 = totals[BASELINE, "v1"].latency.quantile(0.5)
    canary_p50 = totals[CANARY, "v2"].latency.quantile(0.5)
    assert baseline_p50 is not None
    assert canary_p50 is not None
    assert canary_p50 > baseline_p50


def test_a_dead_canary_gives_clients_502_and_counts_as_canary_errors(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService], services: Services
) -> None:
    v1, _ = pair
    doomed = services.start("v2", "--latency-ms", "1")
    router.configure(v1.backend(BASELINE), doomed.backend(CANARY), 50)
    assert versions(fetch(router.url, 4)) == {"v1": 2, "v2": 2}
    doomed.stop()
    statuses = [r.status_code for r in fetch(router.url, 20)]
    assert statuses.count(502) == 10
    assert statuses.count(200) == 10
    totals = router.totals()
    assert (totals[CANARY, "v2"].requests, totals[CANARY, "v2"].errors) == (12, 10)
    assert (totals[BASELINE, "v1"].requests, totals[BASELINE, "v1"].errors) == (12, 0)


def test_an_upstream_slower_than_the_timeout_gives_504_and_a_canary_error(
    pair: tuple[SampleService, SampleService], services: Services
) -> None:
    v1, _ = pair
    stuck = services.start("v2", "--latency-ms", "20000", "--sigma", "0")
    with BuiltinRouter(upstream_timeout_s=0.5) as router:
        router.configure(v1.backend(BASELINE), stuck.backend(CANARY), 50)
        statuses = sorted(r.status_code for r in fetch(router.url, 4))
        totals = router.totals()
    assert statuses == [200, 200, 504, 504]
    assert (totals[CANARY, "v2"].requests, totals[CANARY, "v2"].errors) == (2, 2)


def test_counters_are_kept_per_variant_and_version(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    v1, v2 = pair
    router.configure(v1.backend(BASELINE), v2.backend(CANARY), 50)
    fetch(router.url, 10)
    router.configure(v1.backend(BASELINE), Backend(CANARY, "v3", v2.url), 50)
    fetch(router.url, 10)
    totals = router.totals()
    assert totals[CANARY, "v2"].requests == 5
    assert totals[CANARY, "v3"].requests == 5
    assert totals[BASELINE, "v1"].requests == 10
    assert router.read([(CANARY, "v9")])[CANARY, "v9"].requests == 0


def test_method_path_query_headers_and_body_are_forwarded() -> None:
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        front = router.url.removeprefix("http://")
        with httpx.Client(trust_env=False, timeout=60) as client:
            response = client.post(
                f"{router.url}/some/path?x=1&y=a%20b",
                content=b"hello body",
                headers={
                    "X-Custom": "42",
                    "Connection": "keep-alive, x-hop",
                    "X-Hop": "must not pass",
                    "Keep-Alive": "timeout=5",
                    "X-Echo-Status": "201",
                },
            )
    seen = response.json()
    headers = dict(seen["headers"])
    assert response.status_code == 201
    assert response.headers["x-echo"] == "yes"
    assert seen["method"] == "POST"
    assert seen["path"] == "/some/path?x=1&y=a%20b"
    assert seen["body"] == "hello body"
    assert headers["x-custom"] == "42"
    assert headers["host"] == front
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert "x-hop" not in headers
    assert "keep-alive" not in headers


def test_a_chunked_request_body_reaches_the_backend_whole() -> None:
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        with httpx.Client(trust_env=False, timeout=60) as client:
            response = client.put(f"{router.url}/up", content=iter([b"ab", b"cd", b"ef"]))
    seen = response.json()
    assert seen["method"] == "PUT"
    assert seen["body"] == "abcdef"
    assert dict(seen["headers"])["content-length"] == "6"


def test_a_chunked_answer_reaches_the_client_whole() -> None:
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        with httpx.Client(trust_env=False, timeout=60) as client:
            response = client.get(f"{router.url}/chunked")
    assert response.json()["path"] == "/chunked"
    assert response.headers["content-length"] == str(len(response.content))
    assert "transfer-encoding" not in response.headers


def test_a_backend_that_hangs_up_after_each_answer_still_serves_every_request() -> None:
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        with httpx.Client(trust_env=False, timeout=60) as client:
            statuses = [client.get(f"{router.url}/hangup").status_code for _ in range(10)]
        totals = router.totals()
    assert statuses == [200] * 10
    assert totals[BASELINE, "echo"].errors == 0


def test_a_head_request_gets_the_headers_without_a_body() -> None:
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        with httpx.Client(trust_env=False, timeout=60) as client:
            head = client.head(f"{router.url}/thing")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["x-echo"] == "yes"
    # the backend's length of the body it would send, not the 0 bytes the proxy sent
    assert int(head.headers["content-length"]) > 100


def test_a_client_waiting_for_100_continue_gets_it_and_its_body_forwarded() -> None:
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        port = int(router.url.rsplit(":", 1)[1])
        client = h11.Connection(h11.CLIENT)
        request = h11.Request(
            method="POST",
            target="/upload",
            headers=[("Host", "front"), ("Content-Length", "5"), ("Expect", "100-continue")],
        )
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(client.send(request))
            interim = client.next_event()
            while interim is h11.NEED_DATA:
                client.receive_data(sock.recv(65536))
                interim = client.next_event()
            assert isinstance(interim, h11.InformationalResponse)
            assert interim.status_code == 100
            sock.sendall(client.send(h11.Data(data=b"hello")) + client.send(h11.EndOfMessage()))
            status, body = _read_response(client, sock)
    assert status == 200
    seen = json.loads(body)
    assert seen["body"] == "hello"
    assert "expect" not in dict(seen["headers"])


def test_a_request_body_over_the_limit_gets_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtin, "MAX_BODY_BYTES", 1000)
    with echo_server() as echo, BuiltinRouter() as router:
        router.configure(echo.backend(BASELINE), None, 0)
        with httpx.Client(trust_env=False, timeout=60) as client:
            refused = client.post(router.url, content=b"x" * 1001)
            accepted = client.post(router.url, content=b"x" * 1000)
        totals = router.totals()
    assert refused.status_code == 413
    assert accepted.status_code == 200
    assert len(accepted.json()["body"]) == 1000
    assert totals[BASELINE, "echo"].requests == 1


def test_two_requests_on_one_client_connection_are_both_answered(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 0)
    port = int(router.url.rsplit(":", 1)[1])
    client = h11.Connection(h11.CLIENT)
    request = h11.Request(method="GET", target="/", headers=[("Host", "front")])
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        for _ in range(2):
            sock.sendall(client.send(request) + client.send(h11.EndOfMessage()))
            status, body = _read_response(client, sock)
            answers.append((status, json.loads(body)["version"]))
            client.start_next_cycle()
    assert answers == [(200, "v1"), (200, "v1")]


def test_an_http_1_0_client_without_a_host_header_is_served_and_closed(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 100)
    port = int(router.url.rsplit(":", 1)[1])
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while chunk := sock.recv(65536):  # the proxy closes after one answer
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert json.loads(body)["version"] == "v2"


def _read_response(client: h11.Connection, sock: socket.socket) -> tuple[int, bytes]:
    status, body = 0, b""
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return status, body
        else:
            raise AssertionError(f"unexpected {event!r}")


def test_a_malformed_request_gets_400(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    routed(router, pair, 0)
    port = int(router.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"this is not http\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert sum(sample.requests for sample in router.totals().values()) == 0


def test_an_unconfigured_router_answers_503(router: BuiltinRouter) -> None:
    router.start()
    with httpx.Client(trust_env=False, timeout=60) as client:
        assert client.get(router.url).status_code == 503
    assert router.weight() is None


def test_close_frees_the_port(pair: tuple[SampleService, SampleService]) -> None:
    router = BuiltinRouter()
    routed(router, pair, 10)
    url = router.url
    port = int(url.rsplit(":", 1)[1])
    with httpx.Client(trust_env=False, timeout=60) as client:
        assert client.get(url).status_code == 200  # leaves a keep-alive connection open
        router.close()
        router.close()  # idempotent
        with pytest.raises(httpx.TransportError):
            client.get(url)
    assert port_is_free(port)
    assert not router.running


def test_close_while_clients_keep_connecting_leaves_no_connection_behind(
    pair: tuple[SampleService, SampleService],
) -> None:
    """Connections accepted around the close are ended before the loop closes.

    A handler left pending would be collected later on a closed loop; pytest turns that
    (an unraisable exception, an unclosed transport) into a failure of this test.
    """
    router = BuiltinRouter()
    routed(router, pair, 10)
    port = int(router.url.rsplit(":", 1)[1])
    stop = threading.Event()
    opened: list[socket.socket] = []

    def connect_again_and_again() -> None:
        while not stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                continue  # refused once the router stopped listening
            opened.append(sock)

    clients = [threading.Thread(target=connect_again_and_again) for _ in range(4)]
    for client in clients:
        client.start()
    try:
        while len(opened) < 40:
            time.sleep(0.01)
        router.close()
    finally:
        stop.set()
        for client in clients:
            client.join(10)
        for sock in opened:
            sock.close()
    gc.collect()
    assert not router.running and port_is_free(port)


def test_a_closed_router_can_be_configured_again(
    pair: tuple[SampleService, SampleService],
) -> None:
    with BuiltinRouter() as router:
        routed(router, pair, 100)
        fetch(router.url, 3)
        router.close()
        routed(router, pair, 100)
        fetch(router.url, 3)
        assert router.totals()[CANARY, "v2"].requests == 6


def test_a_listen_address_in_use_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        router = BuiltinRouter("127.0.0.1", port)
        with pytest.raises(RouterError, match=f"cannot listen on 127.0.0.1:{port}"):
            router.start()
        assert not router.running


@pytest.mark.parametrize("percent", [-1, 100.5, math.nan, math.inf])
def test_a_share_outside_0_to_100_is_refused(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService], percent: float
) -> None:
    with pytest.raises(RouterError, match="not a percentage between 0 and 100"):
        routed(router, pair, percent)
    routed(router, pair, 10)
    with pytest.raises(RouterError, match="not a percentage between 0 and 100"):
        router.set_weight(percent)
    assert router.weight() == 10.0


def test_canary_traffic_without_a_canary_is_refused(
    router: BuiltinRouter, pair: tuple[SampleService, SampleService]
) -> None:
    v1, _ = pair
    with pytest.raises(RouterError, match="none is configured"):
        router.configure(v1.backend(BASELINE), None, 10)
    router.configure(v1.backend(BASELINE), None, 0)
    with pytest.raises(RouterError, match="none is configured"):
        router.set_weight(5)


def test_set_weight_before_configure_is_refused(router: BuiltinRouter) -> None:
    with pytest.raises(RouterError, match="call configure"):
        router.set_weight(5)


def test_a_backend_that_is_not_an_http_url_is_refused(router: BuiltinRouter) -> None:
    with pytest.raises(RouterError, match="not an http"):
        router.configure(Backend(BASELINE, "v1", "ftp://example.invalid"), None, 0)
    assert not router.running


def test_the_url_needs_a_started_router_when_the_port_is_picked() -> None:
    with pytest.raises(RouterError, match="no port yet"):
        _ = BuiltinRouter().url
    assert BuiltinRouter("::1", 8123).url == "http://[::1]:8123"
    assert BuiltinRouter("0.0.0.0", 8123).url == "http://127.0.0.1:8123"  # noqa: S104


def test_the_config_builds_a_router() -> None:
    config = BuiltinRouterConfig.model_validate(
        {"type": "builtin", "listen": "127.0.0.1:8088", "upstream_timeout_s": 2.5}
    )
    router = BuiltinRouter.from_config(config)
    assert (router.host, router.port, router.upstream_timeout_s) == ("127.0.0.1", 8088, 2.5)
    defaults = BuiltinRouter.from_config(BuiltinRouterConfig())
    assert (defaults.host, defaults.port, defaults.upstream_timeout_s) == ("127.0.0.1", 0, 30)


@pytest.mark.parametrize(
    "table",
    [
        {"type": "builtin", "listen": "8080"},
        {"type": "builtin", "listen": "localhost:http"},
        {"type": "builtin", "listen": "127.0.0.1:70000"},
        {"type": "builtin", "upstream_timeout_s": 0},
        {"type": "builtin", "weights": [1, 2]},
        {"type": "nginx"},
    ],
)
def test_a_bad_config_is_refused(table: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BuiltinRouterConfig.model_validate(table)
