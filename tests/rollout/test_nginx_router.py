"""The nginx router against a real nginx and real sample-service processes on loopback.

Managed mode starts its own nginx master in the test's temp dir; external mode drives an
nginx the test runs itself, as a team would run theirs. Splits are measured from the
``version`` field of the answers, with tolerances wide enough for any honest hash.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route.interface import Router
from gonogo.rollout.route.nginx import NginxRouter, NginxRouterConfig
from gonogo.rollout.route.nginx_proc import alive
from tests.rollout.nginx_prom_fixtures import (
    LOOPBACK,
    ExternalNginx,
    Processes,
    Sample,
    established_to,
    free_port,
    versions,
    wait_until,
)


@pytest.fixture
def running() -> Iterator[Processes]:
    with Processes() as started:
        yield started


@pytest.fixture
def pair(running: Processes) -> tuple[Sample, Sample]:
    return running.sample("v1"), running.sample("v2")


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "nginx"
    yield directory
    NginxRouter(NginxRouterConfig(), directory).stop()  # whatever the test left running


def backends(pair: tuple[Sample, Sample]) -> tuple[Backend, Backend]:
    v1, v2 = pair
    return Backend(Variant.BASELINE, "v1", v1.url), Backend(Variant.CANARY, "v2", v2.url)


def test_split_follows_the_weight_at_0_20_and_100_percent(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    router = NginxRouter(NginxRouterConfig(), state_dir)
    assert isinstance(router, Router)
    baseline, canary = backends(pair)

    router.configure(baseline, canary, 0)
    assert set(versions(router.url, 200)) == {"v1"}
    assert router.weight() == 0.0

    router.set_weight(20)
    seen = Counter(versions(router.url, 400))
    assert 40 <= seen["v2"] <= 130, seen  # 80 expected; binomial sd is 8
    assert router.weight() == 20.0

    router.set_weight(100)
    assert set(versions(router.url, 200)) == {"v2"}
    assert router.weight() == 100.0


def test_access_log_holds_one_json_line_per_request_with_variant_status_and_time(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    router = NginxRouter(NginxRouterConfig(), state_dir)
    router.configure(*backends(pair), 50)
    answered = Counter(versions(router.url, 100))

    assert router.access_log_path is not None
    path = router.access_log_path
    wait_until(lambda: len(path.read_text().splitlines()) >= 100, "100 access-log lines")
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert Counter(e["variant"] for e in entries) == {
        "baseline": answered["v1"],
        "canary": answered["v2"],
    }
    ports = {"baseline": pair[0].port, "canary": pair[1].port}
    for entry in entries:
        assert entry["status"] == 200
        assert entry["request_time"] >= 0
        assert entry["upstream_addr"] == f"{LOOPBACK}:{ports[entry['variant']]}"


def test_a_weight_change_lets_requests_in_flight_finish_on_their_old_route(
    running: Processes, state_dir: Path
) -> None:
    slow, fast = running.sample("v1", latency_ms=1500), running.sample("v2")
    router = NginxRouter(NginxRouterConfig(), state_dir)
    router.configure(*backends((slow, fast)), 0)

    answers: list[tuple[int, str]] = []

    def request() -> None:
        response = httpx.get(router.url, timeout=60)
        answers.append((response.status_code, response.json()["version"]))

    threads = [threading.Thread(target=request) for _ in range(10)]
    for thread in threads:
        thread.start()
    wait_until(lambda: established_to(slow.port) >= 10, "10 requests in flight on v1")
    router.set_weight(100)
    for thread in threads:
        thread.join()

    assert answers == [(200, "v1")] * 10  # started before the change, answered after it
    assert set(versions(router.url, 50)) == {"v2"}


def test_no_request_fails_while_the_split_changes_again_and_again(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    router = NginxRouter(NginxRouterConfig(), state_dir)
    router.configure(*backends(pair), 10)
    statuses: list[int | str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                statuses.append(httpx.get(router.url, timeout=30).status_code)
            except httpx.HTTPError as exc:
                statuses.append(repr(exc))

    loader = threading.Thread(target=load)
    loader.start()
    try:
        for weight in (50, 90, 0, 33.33, 100, 5):
            router.set_weight(weight)
            wait_until(_more_than(statuses, len(statuses) + 5), "requests after a change")
    finally:
        stop.set()
        loader.join()

    assert set(statuses) == {200}, Counter(statuses)
    assert router.weight() == 5.0


def test_a_rejected_configuration_raises_nginx_message_and_keeps_the_previous_split(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    router = NginxRouter(NginxRouterConfig(), state_dir)
    baseline, canary = backends(pair)
    router.configure(baseline, canary, 20)
    before = router.config_path.read_bytes()

    broken = Backend(Variant.CANARY, "v3", "http://no-such-host.invalid:8080")
    with pytest.raises(RouterError) as caught:
        router.configure(baseline, broken, 50)

    message = str(caught.value)
    assert "\n" not in message
    assert 'host not found in upstream "no-such-host.invalid:8080"' in message
    assert str(router.config_path) in message  # not the temporary file's name
    assert router.config_path.read_bytes() == before
    assert router.weight() == 20.0
    assert {"v1", "v2"} <= set(versions(router.url, 100))
    assert not list(state_dir.glob(".nginx.conf.*"))  # no temporary file left behind


def test_a_reload_the_master_refuses_raises_its_reason_and_keeps_the_previous_split(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    first = NginxRouter(NginxRouterConfig(port=free_port()), state_dir)
    baseline, canary = backends(pair)
    first.configure(baseline, canary, 100)
    before = first.config_path.read_bytes()

    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        moved = NginxRouter(NginxRouterConfig(port=port), state_dir)
        with pytest.raises(RouterError) as caught:
            moved.configure(baseline, canary, 0)

    message = str(caught.value)
    assert message.startswith("nginx kept its previous configuration: bind() to ")
    assert "Address already in use" in message
    assert "\n" not in message
    assert first.config_path.read_bytes() == before
    assert first.weight() == 100.0
    assert set(versions(first.url, 50)) == {"v2"}


def test_a_new_router_on_the_same_state_dir_reads_the_split_back_and_changes_it(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    assert NginxRouter(NginxRouterConfig(), state_dir).weight() is None
    first = NginxRouter(NginxRouterConfig(), state_dir)
    first.configure(*backends(pair), 37.5)

    resumed = NginxRouter(NginxRouterConfig(), state_dir)
    assert resumed.weight() == 37.5
    assert resumed.url == first.url
    resumed.set_weight(0)
    assert first.weight() == 0.0
    assert set(versions(first.url, 100)) == {"v1"}


def test_configure_is_idempotent_and_stop_quits_nginx(
    pair: tuple[Sample, Sample], state_dir: Path
) -> None:
    router = NginxRouter(NginxRouterConfig(), state_dir)
    router.configure(*backends(pair), 20)
    pid = int((state_dir / "nginx.pid").read_text())
    log = state_dir / "error.log"
    log_size = log.stat().st_size
    written = router.config_path.stat().st_mtime_ns

    router.configure(*backends(pair), 20)  # same split: no reload
    # nothing rewritten, nothing signalled (a freshly started master may still be logging
    # its workers' start-up, so the log may grow, but never by a reload)
    assert router.config_path.stat().st_mtime_ns == written
    with log.open("rb") as handle:
        handle.seek(log_size)
        appended = handle.read().decode("utf-8", errors="replace")
    assert "SIGHUP" not in appended and "reconfiguring" not in appended
    assert int((state_dir / "nginx.pid").read_text()) == pid

    router.close()  # the managed nginx keeps serving past close()
    assert {"v1", "v2"} <= set(versions(router.url, 100))
    router.stop()
    assert not alive(pid)
    with pytest.raises(httpx.ConnectError):
        httpx.get(router.url, timeout=10)
    router.configure(*backends(pair), 20)  # a stopped nginx starts again
    assert {"v1", "v2"} <= set(versions(router.url, 100))


def test_fractional_weights_keep_two_decimals(pair: tuple[Sample, Sample], state_dir: Path) -> None:
    router = NginxRouter(NginxRouterConfig(), state_dir)
    router.configure(*backends(pair), 0.5)
    assert router.weight() == 0.5
    router.set_weight(12.345)
    assert router.weight() == 12.35  # split_clients takes two decimals
    assert "12.35% gonogo_canary;" in router.config_path.read_text()


def test_external_mode_writes_the_include_runs_the_reload_command_and_leaves_nginx_alone(
    pair: tuple[Sample, Sample], running: Processes, tmp_path: Path
) -> None:
    external = ExternalNginx(tmp_path / "team-nginx", running)
    external.start()
    include = external.include_dir / "gonogo.conf"
    config = NginxRouterConfig(
        mode="external",
        include_path=include,
        listen=f"{LOOPBACK}:{free_port()}",
        reload_command=tuple(external.argv("-s", "reload")),
        test_command=tuple(external.argv("-q", "-t")),
        access_log=tmp_path / "team-nginx" / "canary-access.log",
    )
    router = NginxRouter(config)
    baseline, canary = backends(pair)

    router.configure(baseline, canary, 0)
    wait_until(lambda: _answers(router.url) == "v1", "the team's nginx to serve the include")
    assert set(versions(router.url, 100)) == {"v1"}

    router.set_weight(100)
    wait_until(lambda: set(versions(router.url, 20)) == {"v2"}, "the reload to take effect")
    assert set(versions(router.url, 100)) == {"v2"}
    assert NginxRouter(config).weight() == 100.0

    before = include.read_bytes()
    broken = Backend(Variant.CANARY, "v3", "http://no-such-host.invalid:8080")
    with pytest.raises(RouterError) as caught:
        router.configure(baseline, broken, 50)
    assert str(caught.value).startswith("nginx test failed (nginx -p ")
    assert "host not found" in str(caught.value)
    assert include.read_bytes() == before

    untested = NginxRouter(config.model_copy(update={"test_command": None}))
    with pytest.raises(RouterError, match=r"^nginx reload failed \(nginx .*host not found"):
        untested.configure(baseline, broken, 50)
    assert include.read_bytes() == before
    assert set(versions(router.url, 50)) == {"v2"}

    router.close()
    pid = external.pid()
    assert pid is not None and alive(pid)
    with pytest.raises(RouterError, match="managed nginx only"):
        router.stop()
    assert set(versions(router.url, 20)) == {"v2"}


def _more_than(items: list[int | str], count: int) -> Callable[[], bool]:
    return lambda: len(items) >= count


def _answers(url: str) -> str | None:
    try:
        return str(httpx.get(url, timeout=10).json()["version"])
    except (httpx.HTTPError, ValueError, KeyError):
        return None


@pytest.mark.parametrize("weight", [-1, 100.5, float("nan")])
def test_a_share_outside_0_to_100_is_refused(weight: float, tmp_path: Path) -> None:
    router = NginxRouter(NginxRouterConfig(), tmp_path / "nginx")
    with pytest.raises(RouterError, match="not a percentage between 0 and 100"):
        router.configure(Backend(Variant.BASELINE, "v1", "http://127.0.0.1:1"), None, weight)


def test_bad_use_gets_one_line_errors_before_anything_runs(tmp_path: Path) -> None:
    baseline = Backend(Variant.BASELINE, "v1", "http://127.0.0.1:1")
    router = NginxRouter(NginxRouterConfig(), tmp_path / "nginx")
    with pytest.raises(RouterError, match=r"no configuration at .*configure the backends"):
        router.set_weight(10)
    with pytest.raises(RouterError, match="canary that is not set"):
        router.configure(baseline, None, 10)
    https = Backend(Variant.CANARY, "v2", "https://127.0.0.1:2")
    with pytest.raises(RouterError, match="proxies to http://host:port addresses"):
        router.configure(baseline, https, 10)
    with pytest.raises(RouterError, match="needs a state directory"):
        NginxRouter(NginxRouterConfig())
    with pytest.raises(RouterError, match="cannot go into an nginx configuration"):
        NginxRouter(NginxRouterConfig(), tmp_path / "with space")
    missing = NginxRouter(NginxRouterConfig(nginx=str(tmp_path / "no-nginx")), tmp_path / "n2")
    with pytest.raises(RouterError, match=r"cannot run .*no-nginx.*install nginx"):
        missing.configure(baseline, None, 0)
    assert missing.weight() is None  # the first file is removed when nginx never ran it


def test_a_file_not_written_by_gonogo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "nginx.conf").write_text("events {}\nhttp {}\n")
    router = NginxRouter(NginxRouterConfig(), tmp_path / "nginx")
    with pytest.raises(RouterError, match="not written by gonogo's nginx router"):
        router.set_weight(10)
    with pytest.raises(RouterError, match="no split_clients block"):
        router.weight()
    with pytest.raises(RouterError, match=r"exists and was not written by gonogo.*not overwrite"):
        router.configure(Backend(Variant.BASELINE, "v1", "http://127.0.0.1:1"), None, 0)
    assert (tmp_path / "nginx" / "nginx.conf").read_text() == "events {}\nhttp {}\n"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"mode": "external"}, "needs include_path"),
        ({"mode": "external", "include_path": "/x.conf"}, "needs reload_command"),
        (
            {"mode": "external", "include_path": "/x.conf", "reload_command": ["true"]},
            "needs listen",
        ),
        ({"include_path": "/x.conf"}, "include_path applies to mode = 'external' only"),
        ({"split_key": '"; }'}, "should match pattern"),
        ({"timeout_s": 1e12}, "timeout_s\n.*less than or equal to 86400"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_config_problems_name_the_key(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        NginxRouterConfig.model_validate({"type": "nginx", **settings})
