"""The ``nginx`` router: the canary's share of traffic through nginx's ``split_clients``.

Two modes:

* **managed**: gonogo writes a complete ``nginx.conf`` into a state directory and runs its
  own nginx master as the current user, listening on a loopback port, with its pid file,
  logs and temp directories inside the state directory. The master outlives the
  controller, so a killed controller never leaves traffic unrouted; :meth:`NginxRouter.stop`
  quits it gracefully.
* **external**: the team runs nginx; gonogo writes one include file (upstreams, the split
  and, with ``listen``, a server block) at ``include_path`` and runs the team's
  ``reload_command`` (``nginx -s reload``, ``systemctl reload nginx``).

Choice: ``split_clients`` rather than weighted servers in one upstream. A weighted
upstream takes integer weights only, cannot express 0% (a ``weight=0`` server is an
error; it needs ``down`` or removal), and its passive health checks quietly shift a
failing canary's share onto the baseline, so the split nginx applies would differ from
the one the judge assumes. ``split_clients`` hashes a key (by default ``$request_id``,
random per request; a cookie or ``$remote_addr`` makes clients sticky) into percentages
with two decimals, so fractional steps such as 0.5% are exact to 0.01 points; each
variant gets its own upstream, so a canary request never lands on the baseline or back.
0% and 100% are written as a single ``*`` entry: the other side gets nothing at all.

Every change writes the new file to a temporary file beside it, validates it (managed:
``nginx -t``; external: the optional ``test_command``), swaps it in with an atomic rename
and reloads gracefully (in-flight requests finish on the old workers). A rejected
configuration or a failed reload raises :class:`~gonogo.rollout.errors.RouterError` with
nginx's own one-line message and puts the previous file back, which nginx still runs.
In managed mode the reload is confirmed from nginx's error log: the master logs either
"start worker processes" or the reason it kept the old configuration, and each old
worker logs when it stops accepting connections; only then does a change return.

The file on disk is the record: :meth:`NginxRouter.weight` parses the ``split_clients``
block back, and a comment line holds the backends, so a new process (a resumed
controller) can read and change the split. Requests are logged as JSON lines (variant,
upstream address, status, request time) to ``access.log`` in the state directory
(managed) or to ``access_log`` (external): evidence of what each variant served.
"""

from __future__ import annotations

import contextlib
import fcntl
import shlex
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.files import temp_beside
from gonogo.rollout.deploy.interface import Backend
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route.nginx_conf import (
    LOOPBACK,
    METADATA,
    RoutedSplit,
    check_path,
    check_percent,
    parse_percent,
    render_include,
    render_managed,
)
from gonogo.rollout.route.nginx_proc import alive, children, one_line, reload_outcome, run
from gonogo.strict import StrictModel

__all__ = ["NginxRouter", "NginxRouterConfig"]


class NginxRouterConfig(StrictModel):
    """``[rollout.router]`` with ``type = "nginx"``."""

    type: Literal["nginx"] = "nginx"
    mode: Literal["managed", "external"] = "managed"
    nginx: str = Field(default="nginx", min_length=1)
    """the nginx executable (managed mode runs it for -t, start, reload and quit)"""
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")] = "gonogo"
    """prefix of the upstream, variable and log-format names gonogo writes"""
    split_key: Annotated[str, Field(pattern=r"^(\$[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9_.:-])+$")] = (
        "$request_id"
    )
    """what split_clients hashes: $request_id splits per request, a cookie makes it sticky"""
    timeout_s: float = Field(default=30.0, gt=0, le=MAX_WAIT_S)
    """how long an nginx command, a start, a reload confirmation or a stop may take"""
    state_dir: Path | None = None
    """managed: nginx.conf, pid, logs and temp files (default: the rollout state dir/nginx)"""
    port: int = Field(default=0, ge=0, le=65535)
    """managed: loopback listen port; 0 picks a free one, kept in the state directory"""
    include_path: Path | None = None
    """external: the one file gonogo writes (include it in nginx's http block)"""
    reload_command: tuple[str, ...] | None = None
    """external: e.g. ["nginx", "-s", "reload"] or ["systemctl", "reload", "nginx"]"""
    test_command: tuple[str, ...] | None = None
    """external: validates nginx's whole configuration after the swap, e.g. ["nginx", "-t"]"""
    listen: Annotated[str, Field(pattern=r"^[A-Za-z0-9.:\[\]-]+$")] | None = None
    """external: when set, the include holds a server block listening here"""
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    """external: the front address clients use (default: http://<listen>)"""
    access_log: Path | None = None
    """external: where the server block logs JSON lines (managed: <state_dir>/access.log)"""

    @model_validator(mode="after")
    def _mode(self) -> Self:
        external = {
            "include_path": self.include_path,
            "reload_command": self.reload_command,
            "test_command": self.test_command,
            "listen": self.listen,
            "url": self.url,
            "access_log": self.access_log,
        }
        if self.mode == "managed":
            given = [key for key, value in external.items() if value is not None]
            if given:
                raise ValueError(f"{given[0]} applies to mode = 'external' only")
            return self
        if self.state_dir is not None or self.port:
            key = "state_dir" if self.state_dir is not None else "port"
            raise ValueError(f"{key} applies to mode = 'managed' only")
        if self.include_path is None:
            raise ValueError("mode = 'external' needs include_path")
        if not self.reload_command:
            raise ValueError(
                "mode = 'external' needs reload_command, e.g. ['nginx', '-s', 'reload']"
            )
        if self.listen is None and self.url is None:
            raise ValueError("mode = 'external' needs listen (a server block) or url")
        if self.access_log is not None and self.listen is None:
            raise ValueError("access_log needs listen (gonogo logs from its own server block)")
        return self


class NginxRouter:
    """Sets the split in nginx; see the module docstring."""

    name: ClassVar[str] = "nginx"

    def __init__(self, config: NginxRouterConfig, state_dir: Path | None = None) -> None:
        self.config = config
        if config.mode == "managed":
            directory = config.state_dir or state_dir
            if directory is None:
                raise RouterError(
                    "the nginx router in managed mode needs a state directory",
                    hint="set state_dir under [rollout.router]",
                )
            self.state_dir: Path | None = directory.absolute()
            check_path(self.state_dir, "state_dir")
            self.config_path = self.state_dir / "nginx.conf"
            self.access_log_path: Path | None = self.state_dir / "access.log"
            self.error_log_path: Path | None = self.state_dir / "error.log"
        else:
            assert config.include_path is not None  # noqa: S101 - the config model requires it
            self.state_dir = None
            self.config_path = config.include_path.absolute()
            self.access_log_path = config.access_log.absolute() if config.access_log else None
            self.error_log_path = None
            if self.access_log_path is not None:
                check_path(self.access_log_path, "access_log")
        self._port = self._choose_port()

    # ----------------------------------------------------------------- the interface

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (managed) or the configured front address (external)."""
        if self.config.mode == "managed":
            return f"http://{LOOPBACK}:{self._port}"
        if self.config.url is not None:
            return self.config.url.rstrip("/")
        listen = self.config.listen or ""
        return f"http://{LOOPBACK}:{listen}" if listen.isdigit() else f"http://{listen}"

    def configure(self, baseline: Backend, canary: Backend | None, canary_percent: float) -> None:
        """Route to these backends with this split, starting the managed nginx if needed."""
        self._apply(baseline, canary, canary_percent)

    def set_weight(self, canary_percent: float) -> None:
        """Change the canary's share on the backends recorded in the file on disk."""
        split = self._read()
        if split is None:
            raise RouterError(
                f"the nginx router has no configuration at {self.config_path}",
                hint="configure the backends before setting a weight",
            )
        self._apply(split.baseline, split.canary, canary_percent)

    def weight(self) -> float | None:
        """The canary's share, parsed from the ``split_clients`` block on disk."""
        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RouterError(f"cannot read {self.config_path}: {exc.strerror}") from None
        return parse_percent(text, self.config.name, self.config_path)

    def close(self) -> None:
        """Nothing to release: nginx keeps serving (managed: :meth:`stop` quits it)."""

    def stop(self) -> None:
        """Quit the managed nginx gracefully (in-flight requests finish) and wait for it."""
        if self.state_dir is None:
            raise RouterError(
                "stop() applies to the managed nginx only",
                hint="gonogo leaves an external nginx alone",
            )
        pid = self._master_pid()
        if pid is None:
            return
        code, output, _ = self._nginx("-s", "quit")
        if code != 0:
            raise RouterError(f"nginx did not accept quit: {one_line(output, code)}")
        deadline = time.monotonic() + self.config.timeout_s
        while alive(pid):
            if time.monotonic() > deadline:
                raise RouterError(
                    f"nginx (pid {pid}) still running {self.config.timeout_s:g}s after quit",
                    hint=f"see {self.error_log_path}",
                )
            time.sleep(0.05)

    # ----------------------------------------------------------------- applying a split

    def _apply(self, baseline: Backend, canary: Backend | None, canary_percent: float) -> None:
        percent = check_percent(canary_percent)
        if canary is None and percent > 0:
            raise RouterError(f"cannot send {percent:g}% of traffic to a canary that is not set")
        split = RoutedSplit(baseline, canary, percent, self._port if self.state_dir else None)
        text = self._render(split)
        with self._locked():
            previous = _read_bytes(self.config_path)
            if previous is not None and METADATA.encode() not in previous:
                raise RouterError(
                    f"{self.config_path} exists and was not written by gonogo's nginx router",
                    hint="gonogo will not overwrite it: point the router at a file of its own",
                )
            running = self._master_pid() is not None if self.state_dir else True
            if previous == text.encode() and running:
                return  # idempotent: nginx already runs exactly this
            if self.state_dir is not None:
                self._swap_managed(text, previous, running)
            else:
                self._swap_external(text, previous)

    def _swap_managed(self, text: str, previous: bytes | None, running: bool) -> None:
        assert self.state_dir is not None  # noqa: S101 - managed mode only
        for sub in ("", "temp"):
            (self.state_dir / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        candidate = _write_temp(self.config_path, text)
        try:
            code, output, _ = self._nginx("-q", "-t", config=candidate)
            if code != 0:
                message = one_line(output, code).replace(str(candidate), str(self.config_path))
                raise RouterError(
                    f"nginx rejected the configuration: {message}",
                    hint="the previous configuration stays in place",
                )
            candidate.replace(self.config_path)
        finally:
            candidate.unlink(missing_ok=True)
        try:
            if running:
                self._reload_managed()
            else:
                self._start_managed()
        except RouterError:
            _restore(self.config_path, previous)
            raise

    def _swap_external(self, text: str, previous: bytes | None) -> None:
        candidate = _write_temp(self.config_path, text)
        try:
            candidate.replace(self.config_path)
        finally:
            candidate.unlink(missing_ok=True)
        for what, command in (
            ("test", self.config.test_command),
            ("reload", self.config.reload_command),
        ):
            if not command:
                continue
            code, output, _ = run(command, self.config.timeout_s)
            if code != 0:
                _restore(self.config_path, previous)
                raise RouterError(
                    f"nginx {what} failed ({shlex.join(command)}): {one_line(output, code)}",
                    hint="the previous configuration stays in place",
                )

    def _start_managed(self) -> None:
        assert self.error_log_path is not None  # noqa: S101 - managed mode only
        code, output, _ = self._nginx()
        if code != 0:
            raise RouterError(f"nginx did not start: {one_line(output, code)}")
        deadline = time.monotonic() + self.config.timeout_s
        while self._master_pid() is None:
            if time.monotonic() > deadline:
                raise RouterError(
                    f"nginx wrote no pid file within {self.config.timeout_s:g}s",
                    hint=f"see {self.error_log_path}",
                )
            time.sleep(0.05)

    def _reload_managed(self) -> None:
        """``nginx -s reload``, then wait until the master reports how the reload went.

        Success is the master starting new workers *and* every old worker shutting down:
        from then on no new connection lands on the old split, while the old workers
        still finish the requests they hold.
        """
        log = self.error_log_path
        assert log is not None  # noqa: S101 - managed mode only
        master = self._master_pid()
        old_workers = children(master) if master is not None else set()
        offset = log.stat().st_size if log.exists() else 0
        code, output, signaller = self._nginx("-s", "reload")
        if code != 0:
            raise RouterError(
                f"nginx reload failed: {one_line(output, code)}",
                hint="the previous configuration stays in place",
            )
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            outcome = reload_outcome(log, offset, signaller, old_workers)
            if outcome == "":
                return
            if outcome is not None:
                raise RouterError(
                    f"nginx kept its previous configuration: {outcome}",
                    hint=f"see {log}",
                )
            if time.monotonic() > deadline:
                raise RouterError(
                    f"nginx did not confirm the reload within {self.config.timeout_s:g}s",
                    hint=f"see {log}",
                )
            time.sleep(0.02)

    def _nginx(self, *args: str, config: Path | None = None) -> tuple[int, str, int]:
        assert self.state_dir is not None  # noqa: S101 - managed mode only
        argv = [
            self.config.nginx,
            "-p",
            f"{self.state_dir}/",
            "-c",
            str(config or self.config_path),
            "-e",
            str(self.error_log_path),
            *args,
        ]
        return run(argv, self.config.timeout_s)

    # ----------------------------------------------------------------- the file on disk

    def _read(self) -> RoutedSplit | None:
        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RouterError(f"cannot read {self.config_path}: {exc.strerror}") from None
        return RoutedSplit.from_text(text, self.config_path)

    def _render(self, split: RoutedSplit) -> str:
        name, key = self.config.name, self.config.split_key
        if self.state_dir is None:
            return render_include(split, name, key, self.config.listen, self.access_log_path)
        return render_managed(split, name, key, self.state_dir, self._port)

    def _choose_port(self) -> int:
        if self.state_dir is None:
            return 0
        if self.config.port:
            return self.config.port
        with contextlib.suppress(RouterError):
            split = self._read()
            if split is not None and split.port:
                return split.port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            return int(sock.getsockname()[1])

    def _master_pid(self) -> int | None:
        if self.state_dir is None:
            return None
        try:
            pid = int((self.state_dir / "nginx.pid").read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One change at a time, across processes (two controllers, a CLI command)."""
        lock_path = self.config_path.with_name(self.config_path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = lock_path.open("a")
        except OSError as exc:
            raise RouterError(f"cannot write {lock_path}: {exc.strerror}") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- helpers


def _write_temp(target: Path, text: str) -> Path:
    """The new content in a temporary file beside ``target`` (same file system: atomic rename)."""
    try:
        return temp_beside(target, text)  # 0644: nginx's master reads it; it holds no secret
    except OSError as exc:
        raise RouterError(f"cannot write beside {target}: {exc.strerror}") from None


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RouterError(f"cannot read {path}: {exc.strerror}") from None


def _restore(path: Path, previous: bytes | None) -> None:
    """Put the previous file back (atomically), or remove a first file nginx never ran."""
    if previous is None:
        path.unlink(missing_ok=True)
        return
    _write_temp(path, previous.decode("utf-8")).replace(path)
