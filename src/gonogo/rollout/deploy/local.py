"""``local``: each variant is a supervised process on this machine, checked over HTTP.

The deployer starts the policy's command with ``{version}``, ``{variant}`` and ``{port}``
filled in (a free loopback port per process), in its own session so that it outlives a
killed controller, with its output in a log file under the state directory. A variant
is healthy while its process runs and its health path answers 200. :meth:`state` keeps
each process's pid *and start time*, so a resumed controller adopts its processes again
and never signals a process that merely reuses a recorded pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.rollout.deploy.interface import Backend, Health, Variant
from gonogo.rollout.deploy.support import (
    ProcStat,
    check_env_secrets,
    check_template,
    check_version,
    describe_exit,
    file_safe,
    join_url,
    last_line,
    load_saved,
    probe,
    proc_stat,
    reap,
    render,
    split_command,
    stop_group,
)
from gonogo.rollout.errors import DeployError
from gonogo.strict import StrictModel

__all__ = ["LocalDeployer", "LocalDeployerConfig", "LocalVersion"]

PLACEHOLDERS = ("version", "variant", "port")
_POLL_S = 0.1
_STATE_FORMAT = 1


class LocalVersion(StrictModel):
    """What one version adds to the command: extra arguments and environment."""

    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


class LocalDeployerConfig(StrictModel):
    """``[rollout.deployer]`` with ``type = "local"``."""

    type: Literal["local"] = "local"
    command: str | list[str]
    """argv template (a string is split like a shell); placeholders {version} {variant} {port}"""
    versions: dict[str, LocalVersion] = Field(default_factory=dict)
    """per-version ``args`` appended to the command and ``env`` added to its environment"""
    env: dict[str, str] = Field(default_factory=dict)
    """environment for every version (templated like the command)"""
    health_path: str = "/healthz"
    health_timeout_s: float = Field(default=60.0, gt=0, le=MAX_WAIT_S)
    """how long :meth:`LocalDeployer.deploy` waits for the first 200"""
    probe_timeout_s: float = Field(default=5.0, gt=0, le=MAX_WAIT_S)
    """timeout of one health request"""
    stop_grace_s: float = Field(default=5.0, ge=0, le=MAX_WAIT_S)
    """between SIGTERM and SIGKILL when a process is stopped"""
    host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _templates(self) -> Self:
        # a DeployError, not a ValueError: it passes through pydantic as one clear line,
        # so `gonogo policy validate` names a bad placeholder before any rollout starts
        _check_config(self)
        return self


@dataclass(frozen=True)
class _Process:
    """One running variant: the process and where it serves."""

    variant: Variant
    version: str
    pid: int
    started: int
    port: int
    url: str
    log: str

    def backend(self) -> Backend:
        return Backend(self.variant, self.version, self.url)


class _Saved(StrictModel):
    version: str
    pid: int = Field(gt=0)
    started: int = Field(ge=0)
    port: int = Field(gt=0, lt=65536)
    url: str
    log: str


class _SavedState(StrictModel):
    type: Literal["local"]
    format: Literal[1]
    variants: dict[Variant, _Saved]


class LocalDeployer:
    """Runs each variant as a local process (see the module docstring)."""

    name: ClassVar[str] = "local"

    def __init__(self, config: LocalDeployerConfig, state_dir: Path) -> None:
        """Check every template now; ``state_dir`` receives the processes' log files."""
        self.config = config
        self.state_dir = state_dir.absolute()
        self._targets: dict[Variant, _Process] = {}
        self._exit_codes: dict[tuple[int, int], int] = {}
        self._log_offsets: dict[int, int] = {}
        _check_config(config)

    # -- the Deployer interface ------------------------------------------------------------

    def deploy(self, variant: Variant, version: str) -> Backend:
        """Start ``version`` for ``variant``, wait for a 200, then stop what it replaces."""
        check_version(version)
        current = self._targets.get(variant)
        if current is not None and current.version == version and self._alive(current)[0]:
            self._wait_healthy(current)
            return current.backend()
        started = self._start(variant, version)
        try:
            self._wait_healthy(started)
        except BaseException:
            self._stop(started)
            raise
        self._targets[variant] = started
        if current is not None:
            self._stop(current)
        return started.backend()

    def health(self, variant: Variant) -> Health:
        """Alive (not exited, not a zombie, pid not reused) and the health path answers 200."""
        target = self._targets.get(variant)
        if target is None:
            return Health(False, f"no {variant} deployed")
        alive, why = self._alive(target)
        if not alive:
            return Health(False, f"{variant} {target.version}: {why}")
        answer = probe(
            join_url(target.url, self.config.health_path),
            self.config.probe_timeout_s,
            trust_env=False,
        )
        if not answer.healthy:
            # a process that is dying refuses connections before it turns into a zombie
            alive, why = self._alive(target)
            if not alive:
                return Health(False, f"{variant} {target.version}: {why}")
        return Health(
            answer.healthy, f"{variant} {target.version} (pid {target.pid}): " + answer.detail
        )

    def rollback(self) -> None:
        """Stop the canary's process group; the baseline keeps running."""
        canary = self._targets.get(Variant.CANARY)
        if canary is not None:
            self._stop(canary)
            del self._targets[Variant.CANARY]

    def promote(self) -> None:
        """The canary's process becomes the baseline; the old baseline is stopped."""
        canary = self._targets.get(Variant.CANARY)
        if canary is None:
            return  # already promoted (a resumed controller may call this twice)
        alive, why = self._alive(canary)
        if not alive:
            raise DeployError(
                f"cannot promote canary {canary.version}: {why}",
                hint="the baseline keeps running; roll back",
            )
        baseline = self._targets.get(Variant.BASELINE)
        if baseline is not None:
            self._stop(baseline)
        self._targets[Variant.BASELINE] = replace(canary, variant=Variant.BASELINE)
        del self._targets[Variant.CANARY]

    def state(self) -> dict[str, Any]:
        """Per variant: version, pid, start time, port, url and log file."""
        return {
            "type": self.name,
            "format": _STATE_FORMAT,
            "variants": {
                variant.value: {
                    "version": p.version,
                    "pid": p.pid,
                    "started": p.started,
                    "port": p.port,
                    "url": p.url,
                    "log": p.log,
                }
                for variant, p in self._targets.items()
            },
        }

    def attach(self, state: Mapping[str, Any]) -> None:
        """Adopt the processes of :meth:`state`; one that is gone reports unhealthy."""
        saved = load_saved(_SavedState, state, "local")
        self._targets = {
            variant: _Process(variant, s.version, s.pid, s.started, s.port, s.url, s.log)
            for variant, s in saved.variants.items()
        }

    def close(self) -> None:
        """Nothing to release: the processes keep serving, :meth:`state` finds them again."""

    def stop_all(self) -> None:
        """Stop every variant's process group (demo and test cleanup)."""
        for variant in list(self._targets):
            self._stop(self._targets[variant])
            del self._targets[variant]

    # -- processes --------------------------------------------------------------------------

    def _start(self, variant: Variant, version: str) -> _Process:
        port = _free_port(self.config.host)
        values = {"version": version, "variant": variant.value, "port": str(port)}
        overrides = self.config.versions.get(version, LocalVersion())
        argv = [render(a, values, "command") for a in split_command(self.config.command, "command")]
        argv += [render(a, values, f"versions.{version}.args") for a in overrides.args]
        env = dict(os.environ)
        for key, value in self.config.env.items():
            env[key] = render(value, values, f"env.{key}")
        for key, value in overrides.env.items():
            env[key] = render(value, values, f"versions.{version}.env.{key}")
        program = shutil.which(argv[0], path=env.get("PATH")) if "/" not in argv[0] else argv[0]
        if program is None:
            raise DeployError(f"command not found: {argv[0]}", hint="install it or fix `command`")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.state_dir / f"{variant.value}-{file_safe(version)}.log"
        with log.open("ab") as handle:
            handle.write(f"--- starting {variant.value} {version} on port {port}\n".encode())
            handle.flush()
            offset = handle.tell()
            pid = _spawn(program, argv, env, handle.fileno())
        stat = proc_stat(pid)
        started = stat.started if stat is not None else 0
        url = f"http://{_url_host(self.config.host)}:{port}"
        process = _Process(variant, version, pid, started, port, url, str(log))
        self._log_offsets[pid] = offset
        return process

    def _wait_healthy(self, process: _Process) -> None:
        deadline = time.monotonic() + self.config.health_timeout_s
        url = join_url(process.url, self.config.health_path)
        while True:
            alive, why = self._alive(process)
            if not alive:
                line = last_line(
                    Path(process.log),
                    offset=self._log_offsets.get(process.pid, 0),
                    secrets=self._env_values(process.version),
                )
                raise DeployError(
                    f"{process.variant} {process.version} {why} before it was healthy"
                    + (f": {line}" if line else ""),
                    hint=f"see {process.log}",
                )
            remaining = deadline - time.monotonic()
            answer = probe(
                url, max(min(self.config.probe_timeout_s, remaining), 0.1), trust_env=False
            )
            if answer.healthy:
                return
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"{process.variant} {process.version} was not healthy within "
                    f"{self.config.health_timeout_s:g}s: {answer.detail}",
                    hint=f"raise `health_timeout_s` or see {process.log}",
                )
            time.sleep(_POLL_S)

    def _env_values(self, version: str) -> list[str]:
        """The policy's environment values for ``version``: never shown in a message."""
        extra = self.config.versions.get(version, LocalVersion())
        return [*self.config.env.values(), *extra.env.values()]

    def _alive(self, process: _Process) -> tuple[bool, str]:
        """Whether the process still runs, else why not (reaping it when it is ours)."""
        key = (process.pid, process.started)
        if key in self._exit_codes:
            return False, describe_exit(self._exit_codes[key])
        stat: ProcStat | None = proc_stat(process.pid)
        if stat is None:
            return False, f"process {process.pid} is gone"
        if stat.started != process.started:
            return False, f"process {process.pid} is gone (its pid now belongs to another process)"
        if stat.exited:
            code = reap(process.pid)
            if code is None:
                return False, f"process {process.pid} has exited"
            self._exit_codes[key] = code
            return False, describe_exit(code)
        return True, f"pid {process.pid} running"

    def _stop(self, process: _Process) -> None:
        code = stop_group(process.pid, process.started, grace_s=self.config.stop_grace_s)
        if code is not None:
            self._exit_codes[(process.pid, process.started)] = code


def _check_config(config: LocalDeployerConfig) -> None:
    """Every template uses known placeholders, and the command learns its port."""
    templates = [(a, "command") for a in split_command(config.command, "command")]
    templates += [(v, f"env.{k}") for k, v in config.env.items()]
    for version, extra in config.versions.items():
        templates += [(a, f"versions.{version}.args") for a in extra.args]
        templates += [(v, f"versions.{version}.env.{k}") for k, v in extra.env.items()]
    for template, where in templates:
        check_template(template, PLACEHOLDERS, where)
    check_env_secrets(config.env, "env")
    for version, extra in config.versions.items():
        check_env_secrets(extra.env, f"versions.{version}.env")
    if not any("{port}" in t for t, w in templates if w == "command" or w.startswith("env.")):
        raise DeployError(
            "the local deployer's command never learns its port",
            hint='put {port} in `command` (e.g. --port {port}) or in `env` (PORT = "{port}")',
        )
    if not config.health_path.startswith("/"):
        raise DeployError(
            f"health_path {config.health_path!r} must start with /", hint='e.g. "/healthz"'
        )


def _free_port(host: str) -> int:
    """A port nothing listens on now (the process binds it a moment later)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])
    except OSError as exc:
        raise DeployError(
            f"cannot bind a port on {host}: {exc.strerror or exc}",
            hint="set `host` to an address of this machine, e.g. 127.0.0.1",
        ) from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _spawn(program: str, argv: list[str], env: dict[str, str], log_fd: int) -> int:
    """Start ``argv`` in a new session, stdin from /dev/null, stdout and stderr to the log.

    Not :class:`subprocess.Popen`: the process must outlive this one, and a ``Popen``
    dropped while its child runs warns; pids, start times and ``waitpid`` do the job.
    """
    try:
        return os.posix_spawn(
            program,
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log_fd, 1),
                (os.POSIX_SPAWN_DUP2, log_fd, 2),
            ],
            setsid=True,
            setsigmask=(),
            # Python ignores SIGPIPE; the service must get the default behaviour back
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
        )
    except FileNotFoundError:
        raise DeployError(
            f"command not found: {argv[0]}", hint="install it or fix `command`"
        ) from None
    except PermissionError:
        raise DeployError(f"not allowed to run {argv[0]}", hint="check its permissions") from None
    except OSError as exc:
        raise DeployError(
            f"cannot run {argv[0]}: {exc.strerror or exc}",
            hint="add a #! line or run it through its interpreter",
        ) from None
