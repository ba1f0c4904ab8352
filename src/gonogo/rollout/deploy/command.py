"""``command``: the team's own deploy, rollback and promote commands from the policy.

Each command is an argv template run *without* a shell, with ``{version}``,
``{variant}``, ``{previous_version}`` and ``{url}`` filled in, the policy's ``env`` added
to the environment and a deadline (``timeout_s``) after which its whole process group is
stopped. Its stdout and stderr go to ``commands.log`` in the state directory. A failing
command is a :class:`DeployError` naming the command, its exit code and the last line it
wrote to stderr (values of ``env`` masked). Health is an HTTP path on the variant's URL,
a command (exit 0 is healthy), or, without ``health``, whether the last command succeeded.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from gonogo.checks.command import kill_group
from gonogo.clock import MAX_WAIT_S
from gonogo.rollout.deploy.interface import Backend, Health, Variant
from gonogo.rollout.deploy.support import (
    check_env_secrets,
    check_template,
    check_version,
    describe_exit,
    final_line,
    join_url,
    load_saved,
    probe,
    redact,
    render,
    split_command,
)
from gonogo.rollout.errors import DeployError
from gonogo.strict import StrictModel

__all__ = ["CommandDeployer", "CommandDeployerConfig"]

COMMAND_PLACEHOLDERS = ("version", "variant", "previous_version", "url")
HEALTH_PLACEHOLDERS = ("version", "variant", "url")
URL_PLACEHOLDERS = ("version", "variant")
_POLL_S = 0.2
_LOG_BYTES = 1024 * 1024
_STATE_FORMAT = 1


class CommandDeployerConfig(StrictModel):
    """``[rollout.deployer]`` with ``type = "command"``."""

    type: Literal["command"] = "command"
    deploy: str | list[str]
    """puts {version} on {variant}'s target (which ran {previous_version}, maybe empty)"""
    rollback: str | list[str]
    """takes canary {version} down; traffic is back on baseline {previous_version}"""
    promote: str | list[str]
    """makes canary {version} the baseline, replacing {previous_version}"""
    urls: dict[Variant, str]
    """per variant, the address that serves it (placeholders {version} {variant})"""
    health: str | list[str] | None = None
    """a URL path (a string starting with /) or a command (a list); exit 0 is healthy"""
    timeout_s: float = Field(default=300.0, gt=0, le=MAX_WAIT_S)
    """deadline of each command, and of the wait for health after deploy and promote"""
    health_timeout_s: float = Field(default=10.0, gt=0, le=MAX_WAIT_S)
    """deadline of one health check (request or command)"""
    env: dict[str, str] = Field(default_factory=dict)
    """added to the commands' environment; values never appear in messages"""

    @model_validator(mode="after")
    def _templates(self) -> Self:
        # a DeployError, not a ValueError: it passes through pydantic as one clear line,
        # so `gonogo policy validate` names a bad placeholder before any rollout starts
        _check_config(self)
        return self


@dataclass(frozen=True)
class _Deployed:
    version: str
    url: str
    ready: bool
    """False while (or after a failed) deploy: the target is in an unknown state"""


@dataclass(frozen=True)
class _Outcome:
    code: int | None
    """None when the command ran past its deadline and was stopped"""
    stderr: str
    """its last line on stderr, masked"""


class _Saved(StrictModel):
    version: str
    url: str
    ready: bool


class _SavedState(StrictModel):
    type: Literal["command"]
    format: Literal[1]
    variants: dict[Variant, _Saved]


class CommandDeployer:
    """Runs the team's own commands (see the module docstring)."""

    name: ClassVar[str] = "command"

    def __init__(self, config: CommandDeployerConfig, state_dir: Path) -> None:
        """Check every template now; ``state_dir`` receives ``commands.log``."""
        self.config = config
        self.state_dir = state_dir.absolute()
        self.log = self.state_dir / "commands.log"
        self._deployed: dict[Variant, _Deployed] = {}
        _check_config(config)

    # -- the Deployer interface ------------------------------------------------------------

    def deploy(self, variant: Variant, version: str) -> Backend:
        """Run ``deploy`` for the variant, then wait until its health check passes."""
        check_version(version)
        current = self._deployed.get(variant)
        url = self._url(variant, version)
        if (
            current is not None
            and current.version == version
            and current.ready
            and self.health(variant).healthy
        ):
            return Backend(variant, version, current.url)
        previous = current.version if current is not None else ""
        # recorded first: after a failed canary deploy, rollback still runs its command
        self._deployed[variant] = _Deployed(version, url, ready=False)
        values = {"version": version, "variant": variant.value, "previous_version": previous}
        self._run("deploy", self.config.deploy, {**values, "url": url})
        self._deployed[variant] = _Deployed(version, url, ready=True)
        self._wait_healthy(variant)
        return Backend(variant, version, url)

    def health(self, variant: Variant) -> Health:
        """The configured check on the variant (HTTP path or command)."""
        deployed = self._deployed.get(variant)
        if deployed is None:
            return Health(False, f"no {variant} deployed")
        label = f"{variant} {deployed.version}"
        if not deployed.ready:
            return Health(False, f"{label}: its deploy did not finish")
        check = self.config.health
        if check is None:
            return Health(True, f"{label}: deployed (no health check configured)")
        if isinstance(check, str):
            answer = probe(join_url(deployed.url, check), self.config.health_timeout_s)
            return Health(answer.healthy, f"{label}: {answer.detail}")
        values = {"version": deployed.version, "variant": variant.value, "url": deployed.url}
        try:
            outcome = self._execute("health", check, values, self.config.health_timeout_s)
        except DeployError as exc:
            return Health(False, f"{label}: {exc.message}")
        if outcome.code == 0:
            return Health(True, f"{label}: health command exited with code 0")
        return Health(False, f"{label}: {self._failure('health', outcome)}")

    def rollback(self) -> None:
        """Run ``rollback`` for the canary (if one was deployed); the baseline stays."""
        canary = self._deployed.get(Variant.CANARY)
        if canary is None:
            return
        self._run("rollback", self.config.rollback, self._canary_values(canary))
        del self._deployed[Variant.CANARY]

    def promote(self) -> None:
        """Run ``promote``; the canary's version becomes the baseline's."""
        canary = self._deployed.get(Variant.CANARY)
        if canary is None:
            return  # already promoted (a resumed controller may call this twice)
        self._run("promote", self.config.promote, self._canary_values(canary))
        url = self._url(Variant.BASELINE, canary.version)
        self._deployed[Variant.BASELINE] = _Deployed(canary.version, url, ready=True)
        del self._deployed[Variant.CANARY]
        self._wait_healthy(Variant.BASELINE)

    def state(self) -> dict[str, Any]:
        """Per variant: the version deployed, its URL and whether its deploy finished."""
        return {
            "type": self.name,
            "format": _STATE_FORMAT,
            "variants": {
                variant.value: {"version": d.version, "url": d.url, "ready": d.ready}
                for variant, d in self._deployed.items()
            },
        }

    def attach(self, state: Mapping[str, Any]) -> None:
        """Take over the deployed versions recorded by :meth:`state`."""
        saved = load_saved(_SavedState, state, "command")
        self._deployed = {
            variant: _Deployed(s.version, s.url, s.ready) for variant, s in saved.variants.items()
        }

    def close(self) -> None:
        """Nothing to release: the commands have finished."""

    # -- commands ---------------------------------------------------------------------------

    def _url(self, variant: Variant, version: str) -> str:
        values = {"version": version, "variant": variant.value}
        return render(self.config.urls[variant], values, f"urls.{variant.value}").rstrip("/")

    def _canary_values(self, canary: _Deployed) -> dict[str, str]:
        baseline = self._deployed.get(Variant.BASELINE)
        return {
            "version": canary.version,
            "variant": Variant.CANARY.value,
            "previous_version": baseline.version if baseline is not None else "",
            "url": canary.url,
        }

    def _wait_healthy(self, variant: Variant) -> None:
        if self.config.health is None:
            return
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            answer = self.health(variant)
            if answer.healthy:
                return
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"{answer.detail} (still unhealthy {self.config.timeout_s:g}s after deploy)",
                    hint=f"raise `timeout_s` or see {self.log}",
                )
            time.sleep(_POLL_S)

    def _run(self, name: str, template: str | list[str], values: Mapping[str, str]) -> None:
        outcome = self._execute(name, template, values, self.config.timeout_s)
        if outcome.code != 0:
            raise DeployError(self._failure(name, outcome), hint=f"see {self.log}")

    def _failure(self, name: str, outcome: _Outcome) -> str:
        if outcome.code is None:
            timeout = self.config.health_timeout_s if name == "health" else self.config.timeout_s
            what = f"did not finish within {timeout:g}s and was stopped"
        else:
            what = describe_exit(outcome.code)
        return f"`{name}` command {what}" + (f": {outcome.stderr}" if outcome.stderr else "")

    def _execute(
        self, name: str, template: str | list[str], values: Mapping[str, str], timeout_s: float
    ) -> _Outcome:
        """Run one command without a shell, stopped at the deadline; its output to the log."""
        argv = [render(arg, values, name) for arg in split_command(template, name)]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # anonymous files, new for every run: a background child the command left behind
        # may write on, but never into the log or the next command's stderr
        with (
            tempfile.TemporaryFile(dir=self.state_dir) as out,
            tempfile.TemporaryFile(dir=self.state_dir) as err,
        ):
            started = datetime.now(UTC).isoformat(timespec="seconds")
            proc = _popen(name, argv, {**os.environ, **self.config.env}, out, err)
            try:
                code: int | None = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                code = None
            stdout, stderr = _tail(out), _tail(err)
        secrets = list(self.config.env.values())
        ending = "timed out and was stopped" if code is None else describe_exit(code)
        # the argv comes from the policy; only what the command printed may hold env values
        entry = [f"=== {started} {name}: {shlex.join(argv)}"]
        entry += [
            f"--- {stream}\n{redact(text.rstrip(), secrets)}"
            for stream, text in (("stdout", stdout), ("stderr", stderr))
            if text.strip()
        ]
        entry.append(f"--- {name} {ending}\n")
        with self.log.open("a", encoding="utf-8") as log:
            log.write("\n".join(entry))
        return _Outcome(code, final_line(stderr.encode(), secrets=secrets))


def _tail(handle: IO[bytes]) -> str:
    """What the command wrote to ``handle`` (its last megabyte)."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - _LOG_BYTES))
    return handle.read().decode("utf-8", errors="replace")


def _popen(
    name: str, argv: list[str], env: dict[str, str], out: IO[bytes], err: IO[bytes]
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise DeployError(
            f"`{name}` command not found: {argv[0]}", hint=f"install it or fix `{name}`"
        ) from None
    except PermissionError:
        raise DeployError(
            f"`{name}` command: not allowed to run {argv[0]}", hint="check its permissions"
        ) from None
    except OSError as exc:
        raise DeployError(
            f"`{name}` command: cannot run {argv[0]}: {exc.strerror or exc}",
            hint="add a #! line or run it through its interpreter",
        ) from None


def _check_config(config: CommandDeployerConfig) -> None:
    """Both URLs are given and every template uses known placeholders."""
    missing = [v.value for v in Variant if v not in config.urls]
    if missing:
        raise DeployError(
            f"`urls` has no {' or '.join(missing)} address",
            hint='e.g. urls = { baseline = "http://127.0.0.1:8081", '
            'canary = "http://127.0.0.1:8082" }',
        )
    for variant, url in config.urls.items():
        check_template(url, URL_PLACEHOLDERS, f"urls.{variant.value}")
    for name in ("deploy", "rollback", "promote"):
        for arg in split_command(getattr(config, name), name):
            check_template(arg, COMMAND_PLACEHOLDERS, name)
    if isinstance(config.health, str):
        if not config.health.startswith("/"):
            raise DeployError(
                f"`health` {config.health!r} is neither a URL path nor a command",
                hint='a path starts with / (e.g. "/healthz"); write a command as a list',
            )
    elif config.health is not None:
        for arg in split_command(config.health, "health"):
            check_template(arg, HEALTH_PLACEHOLDERS, "health")
    check_env_secrets(config.env, "env")
