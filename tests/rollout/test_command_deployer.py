"""The command deployer running real shell scripts that start and stop real sample services.

The scripts (written into a temp dir) record every call in ``calls.log`` and keep each
variant's service pid in ``<variant>.pid``; the services listen on the ports of ``urls``.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gonogo.rollout.deploy.command import CommandDeployer, CommandDeployerConfig
from gonogo.rollout.deploy.interface import Deployer, Variant
from gonogo.rollout.errors import DeployError
from tests.rollout.processes import (
    MARK,
    free_port,
    kill_marked,
    marked,
    refuses,
    running,
    served_version,
    wait_until,
)

SECRET = "s3cr3t-deploy-token-value"

LIB = """\
# stop the service whose pid is in file $1 and wait until it has exited (zombies count)
stop() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    rm -f "$1"
    kill "$pid" 2>/dev/null || return 0
    while [ -e "/proc/$pid" ] && ! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; do
        sleep 0.05
    done
}
# start the sample service: start VARIANT VERSION PORT
start() {
    "$PYTHON" -m gonogo.rollout.sample --version "$2" --port "$3" \\
        >> "$MARKS/$1-$2.out" 2>&1 &
    echo $! > "$MARKS/$1.pid"
}
"""

SCRIPTS = {
    "deploy.sh": """\
        echo "deploy $1 $2 prev=$3 url=$4" >> "$MARKS/calls.log"
        stop "$MARKS/$1.pid"
        start "$1" "$2" "${4##*:}"
        """,
    "rollback.sh": """\
        echo "rollback $1 prev=$2 url=$3" >> "$MARKS/calls.log"
        stop "$MARKS/canary.pid"
        """,
    "promote.sh": """\
        echo "promote $1 prev=$2 url=$3" >> "$MARKS/calls.log"
        stop "$MARKS/baseline.pid"
        start baseline "$1" "$BASELINE_PORT"
        stop "$MARKS/canary.pid"
        """,
    "check.sh": """\
        if [ -f "$MARKS/$1.pid" ] && kill -0 "$(cat "$MARKS/$1.pid")" 2>/dev/null \\
            && ! grep -q ') Z ' "/proc/$(cat "$MARKS/$1.pid")/stat"; then
            exit 0
        fi
        echo "$1 is not running" >&2
        exit 1
        """,
    "fail.sh": """\
        echo "deploy $1 $2 prev=$3 url=$4" >> "$MARKS/calls.log"
        echo "pulling image"
        echo "contacting registry" >&2
        echo "error: registry refused token $REGISTRY_ACCOUNT" >&2
        exit 4
        """,
    "hang.sh": """\
        "$PYTHON" -c "import time; time.sleep(600)" &
        echo $! > "$MARKS/child.pid"
        wait
        """,
    "noop.sh": """\
        echo "noop $*" >> "$MARKS/calls.log"
        """,
}


@dataclass(frozen=True)
class Setup:
    """Where the scripts, marker files and services of one test live."""

    scripts: Path
    marks: Path
    state: Path
    token: str
    baseline_port: int
    canary_port: int

    def script(self, name: str) -> str:
        return str(self.scripts / name)

    def calls(self) -> list[str]:
        log = self.marks / "calls.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    def pid(self, variant: str) -> int:
        return int((self.marks / f"{variant}.pid").read_text(encoding="utf-8"))

    def url(self, variant: Variant) -> str:
        port = self.baseline_port if variant is Variant.BASELINE else self.canary_port
        return f"http://127.0.0.1:{port}"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """The scripts; every process they start is killed at teardown, even after a failure."""
    scripts, marks = tmp_path / "scripts", tmp_path / "marks"
    scripts.mkdir()
    marks.mkdir()
    for name, body in SCRIPTS.items():
        path = scripts / name
        text = "#!/bin/sh\n" + LIB + textwrap.dedent(body)
        path.write_text(text, encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    value = Setup(scripts, marks, tmp_path / "state", uuid.uuid4().hex, free_port(), free_port())
    yield value
    kill_marked(value.token)


Factory = Callable[..., CommandDeployer]


@pytest.fixture
def make(setup: Setup) -> Factory:
    """Command deployers running the scripts of ``setup``."""

    def factory(**overrides: Any) -> CommandDeployer:
        data: dict[str, Any] = {
            "deploy": [
                setup.script("deploy.sh"),
                "{variant}",
                "{version}",
                "{previous_version}",
                "{url}",
            ],
            "rollback": [setup.script("rollback.sh"), "{version}", "{previous_version}", "{url}"],
            "promote": [setup.script("promote.sh"), "{version}", "{previous_version}", "{url}"],
            "urls": {"baseline": setup.url(Variant.BASELINE), "canary": setup.url(Variant.CANARY)},
            "health": "/healthz",
            "timeout_s": 120,
            "health_timeout_s": 30,
        }
        data.update(overrides)
        data["env"] = {
            "PYTHON": sys.executable,
            "MARKS": str(setup.marks),
            "BASELINE_PORT": str(setup.baseline_port),
            MARK: setup.token,
            **data.get("env", {}),
        }
        return CommandDeployer(CommandDeployerConfig.model_validate(data), setup.state)

    return factory


def test_is_a_deployer(make: Factory) -> None:
    assert isinstance(make(), Deployer)


def test_deploy_fills_the_placeholders_and_waits_for_health(make: Factory, setup: Setup) -> None:
    deployer = make()

    baseline = deployer.deploy(Variant.BASELINE, "v1")
    canary = deployer.deploy(Variant.CANARY, "v2")

    assert setup.calls() == [
        f"deploy baseline v1 prev= url={setup.url(Variant.BASELINE)}",
        f"deploy canary v2 prev= url={setup.url(Variant.CANARY)}",
    ]
    assert (baseline.url, canary.url) == (setup.url(Variant.BASELINE), setup.url(Variant.CANARY))
    assert deployer.health(Variant.BASELINE).healthy
    assert deployer.health(Variant.CANARY).healthy
    assert served_version(canary.url) == "v2"


def test_redeploying_the_running_version_runs_nothing(make: Factory, setup: Setup) -> None:
    deployer = make()
    deployer.deploy(Variant.CANARY, "v2")

    deployer.deploy(Variant.CANARY, "v2")

    assert len(setup.calls()) == 1


def test_deploying_a_new_version_passes_the_previous_one(make: Factory, setup: Setup) -> None:
    deployer = make()
    deployer.deploy(Variant.CANARY, "v2")
    deployer.deploy(Variant.CANARY, "v3")

    assert setup.calls()[-1] == f"deploy canary v3 prev=v2 url={setup.url(Variant.CANARY)}"
    assert served_version(setup.url(Variant.CANARY)) == "v3"


def test_promote_then_rollback_run_in_order(make: Factory, setup: Setup) -> None:
    deployer = make()
    deployer.deploy(Variant.BASELINE, "v1")
    deployer.deploy(Variant.CANARY, "v2")
    old_canary = setup.pid("canary")

    deployer.promote()

    assert served_version(setup.url(Variant.BASELINE)) == "v2"
    assert not running(old_canary)
    assert deployer.health(Variant.BASELINE).healthy
    assert deployer.state()["variants"] == {
        "baseline": {"version": "v2", "url": setup.url(Variant.BASELINE), "ready": True}
    }
    deployer.promote()  # idempotent: nothing left to promote

    deployer.deploy(Variant.CANARY, "v3")
    canary = setup.pid("canary")
    deployer.rollback()
    deployer.rollback()  # idempotent

    canary_url = setup.url(Variant.CANARY)
    assert setup.calls() == [
        f"deploy baseline v1 prev= url={setup.url(Variant.BASELINE)}",
        f"deploy canary v2 prev= url={canary_url}",
        f"promote v2 prev=v1 url={canary_url}",
        f"deploy canary v3 prev= url={canary_url}",
        f"rollback v3 prev=v2 url={canary_url}",
    ]
    assert not running(canary)
    assert refuses(canary_url)
    assert deployer.health(Variant.CANARY).detail == "no canary deployed"
    assert served_version(setup.url(Variant.BASELINE)) == "v2"


def test_a_failing_command_is_one_line_without_environment_values(
    make: Factory, setup: Setup
) -> None:
    deployer = make(
        deploy=[setup.script("fail.sh"), "{variant}", "{version}", "{previous_version}", "{url}"],
        env={"REGISTRY_ACCOUNT": SECRET},
    )

    with pytest.raises(DeployError) as caught:
        deployer.deploy(Variant.CANARY, "v2")

    message = str(caught.value)
    assert message.startswith(
        "`deploy` command exited with code 4: error: registry refused token ***; see "
    )
    assert "commands.log" in message
    assert SECRET not in message
    assert "\n" not in message
    log = (setup.state / "commands.log").read_text(encoding="utf-8")
    assert f"fail.sh canary v2 '' {setup.url(Variant.CANARY)}\n" in log  # the argv, as run
    assert "pulling image" in log
    assert "contacting registry" in log
    assert SECRET not in log
    assert not deployer.health(Variant.CANARY).healthy


def test_a_failed_canary_deploy_can_still_be_rolled_back(make: Factory, setup: Setup) -> None:
    deployer = make()
    deployer.deploy(Variant.BASELINE, "v1")
    failing = make(
        deploy=[setup.script("fail.sh"), "{variant}", "{version}", "{previous_version}", "{url}"]
    )
    failing.attach(deployer.state())
    with pytest.raises(DeployError):
        failing.deploy(Variant.CANARY, "v2")

    failing.rollback()

    assert setup.calls()[-1] == f"rollback v2 prev=v1 url={setup.url(Variant.CANARY)}"
    assert "canary" not in failing.state()["variants"]


def test_a_command_past_its_deadline_is_stopped_with_its_children(
    make: Factory, setup: Setup
) -> None:
    deployer = make(deploy=[setup.script("hang.sh")], timeout_s=5)

    with pytest.raises(DeployError, match="`deploy` command did not finish within 5s and was"):
        deployer.deploy(Variant.CANARY, "v2")

    child = setup.marks / "child.pid"
    if child.exists():  # the script got as far as starting its child: it was stopped too
        assert not running(int(child.read_text(encoding="utf-8")))
    assert marked(setup.token) == []


def test_unhealthy_after_deploy_is_an_error(make: Factory, setup: Setup) -> None:
    deployer = make(deploy=[setup.script("noop.sh"), "{version}"], timeout_s=5)

    with pytest.raises(DeployError) as caught:
        deployer.deploy(Variant.CANARY, "v2")

    assert str(caught.value).startswith(
        f"canary v2: GET {setup.url(Variant.CANARY)}/healthz failed: "
    )
    assert "still unhealthy 5s after deploy" in str(caught.value)


def test_a_health_command_decides_health(make: Factory, setup: Setup) -> None:
    deployer = make(health=[setup.script("check.sh"), "{variant}"])
    deployer.deploy(Variant.BASELINE, "v1")
    deployer.deploy(Variant.CANARY, "v2")
    assert deployer.health(Variant.CANARY).healthy

    os.kill(setup.pid("canary"), signal.SIGKILL)

    wait_until(lambda: not running(setup.pid("canary")), "the canary to die")
    health = deployer.health(Variant.CANARY)
    assert health == (
        type(health)(False, "canary v2: `health` command exited with code 1: canary is not running")
    )
    assert deployer.health(Variant.BASELINE).healthy


def test_without_a_health_check_a_finished_deploy_is_healthy(make: Factory, setup: Setup) -> None:
    deployer = make(deploy=[setup.script("noop.sh"), "{version}"], health=None)

    deployer.deploy(Variant.CANARY, "v2")

    health = deployer.health(Variant.CANARY)
    assert (health.healthy, health.detail) == (
        True,
        "canary v2: deployed (no health check configured)",
    )


def test_a_new_deployer_attaches_to_the_recorded_versions(make: Factory, setup: Setup) -> None:
    first = make()
    first.deploy(Variant.BASELINE, "v1")
    first.deploy(Variant.CANARY, "v2")
    saved = json.loads(json.dumps(first.state()))

    resumed = make()
    resumed.attach(saved)

    assert resumed.health(Variant.CANARY).healthy
    resumed.deploy(Variant.CANARY, "v2")  # already there: no command runs
    resumed.promote()
    assert setup.calls()[-1] == f"promote v2 prev=v1 url={setup.url(Variant.CANARY)}"
    assert len(setup.calls()) == 3
    assert served_version(setup.url(Variant.BASELINE)) == "v2"


def test_unreadable_saved_state_is_one_line(make: Factory) -> None:
    with pytest.raises(DeployError, match="cannot read the command deployer's saved state"):
        make().attach({"type": "command", "format": 1, "variants": {"canary": {"version": 2}}})


def test_a_missing_program_is_one_line(make: Factory, setup: Setup) -> None:
    deployer = make(rollback=[str(setup.scripts / "nope.sh")])
    deployer.deploy(Variant.CANARY, "v2")

    with pytest.raises(DeployError, match=r"`rollback` command not found: .*nope\.sh"):
        deployer.rollback()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"deploy": "deploy.sh {release}"}, "unknown placeholder {release} in `deploy`"),
        ({"promote": ["p.sh", "{port}"]}, "unknown placeholder {port} in `promote`"),
        ({"urls": {"baseline": "http://127.0.0.1:1"}}, "`urls` has no canary address"),
        (
            {"urls": {"baseline": "http://b", "canary": "http://{host}"}},
            "unknown placeholder {host} in `urls.canary`",
        ),
        ({"health": "healthz"}, "is neither a URL path nor a command"),
        ({"health": ["check", "{previous_version}"]}, "{previous_version} in `health`"),
        ({"rollback": ""}, "`rollback` names no command"),
        ({"env": {"REGISTRY_TOKEN": "s3cr3t"}}, "`env.REGISTRY_TOKEN` writes a secret"),
    ],
)
def test_bad_configuration_is_refused_before_anything_runs(
    make: Factory, setup: Setup, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(DeployError) as caught:
        make(**overrides)
    assert message in str(caught.value)
    assert setup.calls() == []
