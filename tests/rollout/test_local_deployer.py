"""The local deployer with real sample-service processes on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gonogo.rollout.deploy.interface import Deployer, Variant
from gonogo.rollout.deploy.local import LocalDeployer, LocalDeployerConfig
from gonogo.rollout.deploy.support import proc_stat
from gonogo.rollout.errors import DeployError
from tests.rollout.processes import (
    MARK,
    kill_marked,
    marked,
    refuses,
    running,
    served_version,
    wait_until,
)

SAMPLE = [sys.executable, "-m", "gonogo.rollout.sample"]
SAMPLE_COMMAND = [*SAMPLE, "--version", "{version}", "--port", "{port}"]

Factory = Callable[..., LocalDeployer]


@pytest.fixture
def token() -> Iterator[str]:
    """A mark for this test's processes; every one of them is killed at teardown."""
    value = uuid.uuid4().hex
    yield value
    kill_marked(value)


@pytest.fixture
def make(tmp_path: Path, token: str) -> Iterator[Factory]:
    """Build local deployers on the sample service; stop_all() on each at teardown."""
    built: list[LocalDeployer] = []

    def factory(**overrides: Any) -> LocalDeployer:
        data: dict[str, Any] = {
            "command": SAMPLE_COMMAND,
            "env": {MARK: token},
            "health_timeout_s": 120,
            "probe_timeout_s": 30,
        }
        data.update(overrides)
        data["env"] = {**data["env"], MARK: token}
        deployer = LocalDeployer(LocalDeployerConfig.model_validate(data), tmp_path / "state")
        built.append(deployer)
        return deployer

    yield factory
    for deployer in built:
        deployer.stop_all()


def pid_of(deployer: LocalDeployer, variant: Variant) -> int:
    return int(deployer.state()["variants"][variant.value]["pid"])


def test_is_a_deployer(make: Factory) -> None:
    assert isinstance(make(), Deployer)


def test_deploys_both_variants_each_serving_its_version(make: Factory) -> None:
    deployer = make()
    baseline = deployer.deploy(Variant.BASELINE, "v1")
    canary = deployer.deploy(Variant.CANARY, "v2")

    assert baseline.url.startswith("http://127.0.0.1:")
    assert baseline.url != canary.url
    assert deployer.health(Variant.BASELINE).healthy
    assert deployer.health(Variant.CANARY).healthy
    assert served_version(baseline.url) == "v1"
    assert served_version(canary.url) == "v2"


def test_deploying_the_running_version_again_keeps_the_process(make: Factory) -> None:
    deployer = make()
    first = deployer.deploy(Variant.CANARY, "v2")
    pid = pid_of(deployer, Variant.CANARY)

    assert deployer.deploy(Variant.CANARY, "v2") == first
    assert pid_of(deployer, Variant.CANARY) == pid


def test_deploying_another_version_replaces_the_process(make: Factory) -> None:
    deployer = make()
    deployer.deploy(Variant.CANARY, "v2")
    old = pid_of(deployer, Variant.CANARY)

    backend = deployer.deploy(Variant.CANARY, "v3")

    assert served_version(backend.url) == "v3"
    assert not running(old)


def test_a_killed_canary_is_unhealthy_at_the_next_call(make: Factory) -> None:
    deployer = make()
    deployer.deploy(Variant.BASELINE, "v1")
    deployer.deploy(Variant.CANARY, "v2")
    pid = pid_of(deployer, Variant.CANARY)

    os.kill(pid, signal.SIGKILL)

    health = deployer.health(Variant.CANARY)
    assert not health.healthy
    assert health.detail.startswith("canary v2")
    # the deployer reaps it and says why it is gone
    wait_until(
        lambda: "killed by signal 9 (SIGKILL)" in deployer.health(Variant.CANARY).detail,
        "health to report the SIGKILL",
    )
    assert proc_stat(pid) is None  # reaped, not left as a zombie
    assert deployer.health(Variant.BASELINE).healthy


def test_rollback_stops_the_canary_and_frees_its_port(make: Factory) -> None:
    deployer = make()
    deployer.deploy(Variant.BASELINE, "v1")
    canary = deployer.deploy(Variant.CANARY, "v2")
    pid = pid_of(deployer, Variant.CANARY)

    deployer.rollback()

    assert not running(pid)
    assert refuses(canary.url)
    port = int(canary.url.rsplit(":", 1)[1])
    with socket.socket() as sock:  # the port can serve something else now
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    health = deployer.health(Variant.CANARY)
    assert (health.healthy, health.detail) == (False, "no canary deployed")
    assert deployer.health(Variant.BASELINE).healthy
    assert "canary" not in deployer.state()["variants"]
    deployer.rollback()  # idempotent: a resumed controller may roll back again


def test_promote_makes_the_canary_the_baseline_and_stops_the_old_one(make: Factory) -> None:
    deployer = make()
    baseline = deployer.deploy(Variant.BASELINE, "v1")
    old = pid_of(deployer, Variant.BASELINE)
    canary = deployer.deploy(Variant.CANARY, "v2")
    canary_pid = pid_of(deployer, Variant.CANARY)

    deployer.promote()

    assert not running(old)
    assert refuses(baseline.url)
    assert pid_of(deployer, Variant.BASELINE) == canary_pid
    state = deployer.state()["variants"]
    assert set(state) == {"baseline"}
    assert (state["baseline"]["version"], state["baseline"]["url"]) == ("v2", canary.url)
    assert deployer.health(Variant.BASELINE).healthy
    assert served_version(canary.url) == "v2"
    deployer.promote()  # idempotent
    assert pid_of(deployer, Variant.BASELINE) == canary_pid


def test_promoting_a_dead_canary_keeps_the_baseline(make: Factory) -> None:
    deployer = make()
    deployer.deploy(Variant.BASELINE, "v1")
    deployer.deploy(Variant.CANARY, "v2")
    os.kill(pid_of(deployer, Variant.CANARY), signal.SIGKILL)
    wait_until(lambda: not running(pid_of(deployer, Variant.CANARY)), "the canary to die")

    with pytest.raises(DeployError, match="cannot promote canary v2"):
        deployer.promote()

    assert deployer.health(Variant.BASELINE).healthy


def test_a_new_deployer_adopts_the_processes_from_state(make: Factory) -> None:
    first = make()
    first.deploy(Variant.BASELINE, "v1")
    canary = first.deploy(Variant.CANARY, "v2")
    saved = json.loads(json.dumps(first.state()))  # what the store keeps
    canary_pid = pid_of(first, Variant.CANARY)

    second = make()
    second.attach(saved)

    assert second.health(Variant.BASELINE).healthy
    assert f"pid {canary_pid}" in second.health(Variant.CANARY).detail
    assert second.deploy(Variant.CANARY, "v2") == canary  # adopted, not restarted
    assert pid_of(second, Variant.CANARY) == canary_pid
    second.rollback()
    assert not running(canary_pid)


def test_processes_outlive_a_killed_controller_and_are_adopted(
    make: Factory, token: str, tmp_path: Path
) -> None:
    """A controller process deploys both variants and dies by SIGKILL; we take over."""
    script = textwrap.dedent(
        f"""
        import json, os, signal, sys
        from pathlib import Path
        from gonogo.rollout.deploy.interface import Variant
        from gonogo.rollout.deploy.local import LocalDeployer, LocalDeployerConfig
        config = LocalDeployerConfig(
            command={SAMPLE_COMMAND!r}, env={{{MARK!r}: {token!r}}}, health_timeout_s=120
        )
        deployer = LocalDeployer(config, Path({str(tmp_path / "state")!r}))
        deployer.deploy(Variant.BASELINE, "v1")
        deployer.deploy(Variant.CANARY, "v2")
        print(json.dumps(deployer.state()), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    controller = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=False, timeout=300
    )
    assert controller.returncode == -signal.SIGKILL, controller.stderr.decode()
    saved = json.loads(controller.stdout)

    resumed = make()
    resumed.attach(saved)

    assert resumed.health(Variant.BASELINE).healthy
    assert resumed.health(Variant.CANARY).healthy
    assert served_version(saved["variants"]["canary"]["url"]) == "v2"
    canary_pid = saved["variants"]["canary"]["pid"]
    resumed.rollback()  # not our child: stopped through its process group
    wait_until(lambda: not running(canary_pid), "the adopted canary to stop")
    assert refuses(saved["variants"]["canary"]["url"])
    assert resumed.health(Variant.BASELINE).healthy


def test_a_saved_pid_now_used_by_another_process_is_unhealthy_and_left_alone(
    make: Factory, token: str
) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        env={**os.environ, MARK: token},
        start_new_session=True,
    )
    try:
        stat = proc_stat(other.pid)
        assert stat is not None
        deployer = make()
        deployer.attach(
            {
                "type": "local",
                "format": 1,
                "variants": {
                    "canary": {
                        "version": "v2",
                        "pid": other.pid,
                        "started": stat.started + 1,  # recorded for an earlier process
                        "port": 9,
                        "url": "http://127.0.0.1:9",
                        "log": "canary-v2.log",
                    }
                },
            }
        )

        health = deployer.health(Variant.CANARY)
        assert not health.healthy
        assert "belongs to another process" in health.detail
        deployer.rollback()  # must not signal the unrelated process
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_a_saved_pid_that_is_gone_is_unhealthy(make: Factory) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = proc_stat(gone.pid)
    gone.wait()
    assert stat is not None
    deployer = make()
    deployer.attach(
        {
            "type": "local",
            "format": 1,
            "variants": {
                "baseline": {
                    "version": "v1",
                    "pid": gone.pid,
                    "started": stat.started,
                    "port": 9,
                    "url": "http://127.0.0.1:9",
                    "log": "baseline-v1.log",
                }
            },
        }
    )

    health = deployer.health(Variant.BASELINE)
    assert not health.healthy
    assert health.detail.startswith("baseline v1: process")


def test_unreadable_saved_state_is_one_line(make: Factory) -> None:
    with pytest.raises(DeployError) as caught:
        make().attach({"type": "command", "format": 1, "variants": {}})
    assert "cannot read the local deployer's saved state: type" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_command_that_exits_at_once_is_a_one_line_error(make: Factory) -> None:
    deployer = make(
        command=[
            sys.executable,
            "-c",
            "import sys; print('warming up'); print('fatal: no such flag', file=sys.stderr); "
            "sys.exit(3)",
            "{port}",
        ]
    )

    with pytest.raises(DeployError) as caught:
        deployer.deploy(Variant.CANARY, "v2")

    message = str(caught.value)
    assert "canary v2 exited with code 3 before it was healthy: fatal: no such flag" in message
    assert "canary-v2.log" in message
    assert "\n" not in message
    assert not deployer.health(Variant.CANARY).healthy


def test_environment_values_never_appear_in_the_error(make: Factory) -> None:
    secret = "s3cr3t-service-token"
    deployer = make(
        command=[
            sys.executable,
            "-c",
            "import os, sys; sys.exit('rejected token ' + os.environ['SERVICE_ACCOUNT'])",
            "{port}",
        ],
        versions={"v2": {"env": {"SERVICE_ACCOUNT": secret}}},
    )

    with pytest.raises(DeployError) as caught:
        deployer.deploy(Variant.CANARY, "v2")

    assert "exited with code 1 before it was healthy: rejected token ***" in str(caught.value)
    assert secret not in str(caught.value)


def test_a_process_that_never_answers_is_stopped(make: Factory, token: str) -> None:
    deployer = make(
        command=[sys.executable, "-c", "import time; time.sleep(600)", "{port}"],
        health_timeout_s=1,
        probe_timeout_s=1,
    )

    with pytest.raises(DeployError, match="canary v2 was not healthy within 1s"):
        deployer.deploy(Variant.CANARY, "v2")

    assert marked(token) == []


def test_a_missing_program_is_one_line(make: Factory) -> None:
    deployer = make(command=["gonogo-no-such-program", "--port", "{port}"])
    with pytest.raises(DeployError, match="command not found: gonogo-no-such-program"):
        deployer.deploy(Variant.BASELINE, "v1")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"command": [*SAMPLE, "--version", "{release}", "--port", "{port}"]}, "{release}"),
        ({"versions": {"v2": {"args": ["--seed", "{seed}"]}}}, "{seed} in `versions.v2.args`"),
        ({"env": {"PORT": "{port!r}"}}, "{port!r} in `env.PORT`"),
        ({"command": "python -m sample --port '{port}"}, "cannot split `command`"),
        ({"command": [*SAMPLE, "--version", "{version"]}, "unbalanced brace in `command`"),
        ({"command": [*SAMPLE, "--version", "{version}"]}, "never learns its port"),
        ({"health_path": "healthz"}, "must start with /"),
        ({"env": {"REGISTRY_TOKEN": "ghp-0123456789"}}, "`env.REGISTRY_TOKEN` writes a secret"),
        (
            {"versions": {"v2": {"env": {"DB_PASSWORD": "hunter2-hunter2"}}}},
            "`versions.v2.env.DB_PASSWORD` writes a secret into the policy",
        ),
        (
            {"env": {"DATABASE_URL": "postgresql://app:pw-0123456789@db/app"}},
            "`env.DATABASE_URL` writes a secret into the policy, which every rollout stores; "
            "remove it and export DATABASE_URL in the controller's environment",
        ),
    ],
)
def test_bad_templates_are_refused_before_anything_runs(
    make: Factory, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(DeployError) as caught:
        make(**overrides)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "0123456789" not in str(caught.value)  # a refused secret is named, never shown


def test_secret_names_with_a_file_path_or_a_placeholder_are_not_secrets(make: Factory) -> None:
    deployer = make(
        env={
            "GOOGLE_APPLICATION_CREDENTIALS": "/etc/gcp/service-account.json",
            "TLS_KEY": "./certs/server.key",
            "SESSION_SECRET": "{variant}-{version}",
            "AUTH_TOKEN": "",
            "DATABASE_URL": "postgresql://app@db/app",
        }
    )
    assert deployer.config.env["TLS_KEY"] == "./certs/server.key"


def test_unknown_placeholder_error_names_the_known_ones(make: Factory) -> None:
    with pytest.raises(DeployError) as caught:
        make(command="serve --port {port} --release {release}")
    assert str(caught.value) == (
        "unknown placeholder {release} in `command`; use {port}, {variant}, {version}"
    )


def test_per_version_args_reach_the_process(make: Factory) -> None:
    deployer = make(versions={"v2": {"args": ["--error-rate", "1"]}})
    baseline = deployer.deploy(Variant.BASELINE, "v1")
    canary = deployer.deploy(Variant.CANARY, "v2")

    assert httpx.get(baseline.url + "/", timeout=30, trust_env=False).status_code == 200
    assert httpx.get(canary.url + "/", timeout=30, trust_env=False).status_code == 500
    assert deployer.health(Variant.CANARY).healthy  # /healthz still answers


def test_string_command_and_templated_env_reach_the_process(make: Factory, tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(
        textwrap.dedent(
            """
            import os
            from http.server import BaseHTTPRequestHandler, HTTPServer

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self):
                    body = os.environ.get("GREETING", "none").encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
            """
        ),
        encoding="utf-8",
    )
    deployer = make(
        command=f"'{sys.executable}' '{server}'",
        env={"PORT": "{port}"},
        versions={"v2": {"env": {"GREETING": "hello from {version} as {variant}"}}},
        health_path="/",
    )

    baseline = deployer.deploy(Variant.BASELINE, "v1")
    canary = deployer.deploy(Variant.CANARY, "v2")

    assert httpx.get(baseline.url, timeout=30, trust_env=False).text == "none"
    assert httpx.get(canary.url, timeout=30, trust_env=False).text == "hello from v2 as canary"


def test_logs_go_to_the_state_directory(make: Factory, tmp_path: Path) -> None:
    deployer = make()
    backend = deployer.deploy(Variant.CANARY, "v2")
    log = tmp_path / "state" / "canary-v2.log"

    assert deployer.state()["variants"]["canary"]["log"] == str(log)
    port = backend.url.rsplit(":", 1)[1]
    wait_until(lambda: f"listening {port}" in log.read_text(), "the service's output in the log")


def test_stop_all_stops_every_variant(make: Factory, token: str) -> None:
    deployer = make()
    deployer.deploy(Variant.BASELINE, "v1")
    deployer.deploy(Variant.CANARY, "v2")

    deployer.stop_all()

    assert marked(token) == []
    assert deployer.state()["variants"] == {}


def test_invalid_version_is_refused(make: Factory) -> None:
    with pytest.raises(DeployError, match="invalid version"):
        make().deploy(Variant.CANARY, "v2\nrm")
