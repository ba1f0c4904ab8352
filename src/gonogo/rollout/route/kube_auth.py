"""How the gateway-api router reaches the Kubernetes API: a kubeconfig or the pod's ServiceAccount.

``auth = "auto"`` decides as kubectl and client-go do: a kubeconfig when one is named
(``kubeconfig`` or ``context`` set, ``$KUBECONFIG`` set, or ``~/.kube/config``
present), else the pod's service account when ``KUBERNETES_SERVICE_HOST`` says gonogo
runs in a cluster.

In-cluster, the kubernetes client's own loader builds ``https://HOST:PORT`` from
``KUBERNETES_SERVICE_HOST`` / ``KUBERNETES_SERVICE_PORT``, verifies the server against
``ca.crt`` and sends the ``token`` file as a bearer token, re-reading that file at most
a minute after it last did (kubelet rotates projected tokens well before they expire).
When the API server answers 401 gonogo re-reads the file at once and retries once, so a
token replaced and revoked within that minute does not fail a step. The token is sent
with surrounding whitespace removed (as client-go does); it is never put in a message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from gonogo.errors import one_line
from gonogo.rollout.errors import RouterError

__all__ = [
    "SERVICE_ACCOUNT_DIR",
    "Auth",
    "AuthMode",
    "Connection",
    "choose",
    "kubeconfig_path",
    "one_line",
]

Auth = Literal["auto", "kubeconfig", "in-cluster"]
AuthMode = Literal["kubeconfig", "in-cluster"]
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
HOST_ENV = "KUBERNETES_SERVICE_HOST"
PORT_ENV = "KUBERNETES_SERVICE_PORT"
_TOKEN_KEY = "BearerToken"  # noqa: S105 - the client's name for the header's slot, no secret
_BOTH = (
    'set kubeconfig under [rollout.router], or run gonogo in a pod with auth = "in-cluster" '
    "and a ServiceAccount"
)
_MOUNT = (
    "mount the ServiceAccount's token (automountServiceAccountToken: true), or set "
    "service_account_dir under [rollout.router] to where the projected volume is mounted"
)


def _default_kubeconfig() -> Path:
    return Path.home() / ".kube" / "config"


def kubeconfig_path(kubeconfig: Path | None) -> str:
    """The configured kubeconfig, else ``$KUBECONFIG`` (a list is merged), else ~/.kube/config.

    Read when the router is built: the client's own default is fixed when it is imported.
    """
    if kubeconfig is not None:
        return str(kubeconfig)
    return os.environ.get("KUBECONFIG") or str(_default_kubeconfig())


def choose(auth: Auth, *, kubeconfig: Path | None, context: str | None) -> AuthMode:
    """The way to authenticate; ``auto`` prefers a kubeconfig, then the pod's service account."""
    if auth != "auto":
        return auth
    named = kubeconfig is not None or context is not None or os.environ.get("KUBECONFIG")
    if named or _default_kubeconfig().is_file():
        return "kubeconfig"
    if os.environ.get(HOST_ENV):
        return "in-cluster"
    raise RouterError(
        "no Kubernetes credentials: no kubeconfig ($KUBECONFIG is not set and "
        f"{_default_kubeconfig()} does not exist) and not in a pod ({HOST_ENV} is not set)",
        hint=_BOTH,
    )


class Connection:
    """An API client, how it authenticates, and what to tell the user when a call fails."""

    def __init__(
        self,
        client: Any,
        mode: AuthMode,
        *,
        account_dir: Path | None = None,
        reload: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.mode: AuthMode = mode
        self._account_dir = account_dir
        self._reload = reload

    @classmethod
    def from_kubeconfig(cls, k8s: ModuleType, path: str, context: str | None) -> Connection:
        """A client for a kubeconfig file (or a ``$KUBECONFIG``-style list) and context."""
        try:
            client = k8s.config.new_client_from_config(
                config_file=path, context=context, persist_config=False
            )
        except (k8s.config.ConfigException, OSError, ValueError, TypeError) as exc:
            raise RouterError(
                f"cannot load {path}: {one_line(str(exc))}",
                hint="set kubeconfig (and context) under [rollout.router]",
            ) from None
        return cls(client, "kubeconfig")

    @classmethod
    def in_cluster(cls, k8s: ModuleType, account_dir: Path) -> Connection:
        """A client for the pod's service account, through the client's in-cluster loader."""
        for name in (HOST_ENV, PORT_ENV):
            if not os.environ.get(name):
                raise RouterError(
                    f"in-cluster auth: {name} is not set",
                    hint="Kubernetes sets it in every pod; outside a cluster set kubeconfig "
                    'under [rollout.router] (auth = "kubeconfig")',
                )
        token, ca = account_dir / "token", account_dir / "ca.crt"
        for path, what in ((token, "service account token"), (ca, "cluster CA certificate")):
            if not path.is_file():
                raise RouterError(f"in-cluster auth: no {what} at {path}", hint=_MOUNT)
        configuration = k8s.client.Configuration()
        loader = k8s.config.incluster_config.InClusterConfigLoader(
            token_filename=str(token), cert_filename=str(ca), try_refresh_token=True
        )
        failures = (k8s.config.ConfigException, OSError)

        def load() -> None:
            try:
                loader.load_and_set(configuration)
            except failures as exc:
                raise _account_error(account_dir, exc) from None
            _guard(configuration, account_dir, failures)

        load()
        client = k8s.client.ApiClient(configuration)  # after loading: it reads ca.crt now
        return cls(client, "in-cluster", account_dir=account_dir, reload=load)

    def namespace(self) -> str | None:
        """The service account's namespace (its ``namespace`` file), as kubectl defaults to."""
        if self._account_dir is None:
            return None
        try:
            return (self._account_dir / "namespace").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def reread_token(self) -> bool:
        """After a 401: read the token file now; whether it holds a different token."""
        if self._reload is None:
            return False
        configuration = self.client.configuration
        before = configuration.api_key.get(_TOKEN_KEY)
        self._reload()
        return bool(configuration.api_key.get(_TOKEN_KEY) != before)

    @property
    def server(self) -> str:
        """The API server's address."""
        return str(getattr(self.client.configuration, "host", "?"))

    def unreachable_hint(self) -> str:
        if self.mode == "in-cluster":
            return f"check {HOST_ENV}, {PORT_ENV} and {self._account_dir}/ca.crt"
        return "check kubeconfig and context under [rollout.router]"

    def denied_hint(self, status: int) -> str:
        if self.mode == "kubeconfig":
            return "the kubeconfig's user needs get and patch on httproutes in that namespace"
        if status == 401:
            return f"the API server did not accept the token in {self._account_dir}/token"
        return (
            "the ServiceAccount needs get and patch on httproutes in that namespace "
            "(a Role bound to it with a RoleBinding)"
        )

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


def _guard(configuration: Any, account_dir: Path, failures: tuple[type[Exception], ...]) -> None:
    """Trim the token the loader set, and make its periodic re-read fail in one line.

    The loader puts a fresh refresh hook in place each time it runs, so the guard wraps
    each new one. A token file with a trailing newline (``kubectl create token > token``)
    would otherwise make the HTTP library reject the header with the token in its message.
    """
    _trim(configuration)
    refresh = configuration.refresh_api_key_hook
    if refresh is None:
        return

    def guarded(target: Any) -> None:
        try:
            refresh(target)
        except failures as exc:
            raise _account_error(account_dir, exc) from None
        _guard(target, account_dir, failures)

    configuration.refresh_api_key_hook = guarded


def _trim(configuration: Any) -> None:
    token = configuration.api_key.get(_TOKEN_KEY)
    if isinstance(token, str):
        configuration.api_key[_TOKEN_KEY] = " ".join(token.split())


def _account_error(account_dir: Path, exc: Exception) -> RouterError:
    """One line about the service account's files (their contents never appear)."""
    token = account_dir / "token"
    if not token.is_file():
        return RouterError(f"in-cluster auth: no service account token at {token}", hint=_MOUNT)
    if isinstance(exc, OSError):
        where = exc.filename or account_dir
        return RouterError(
            f"in-cluster auth: cannot read {where}: {exc.strerror or type(exc).__name__}",
            hint=_MOUNT,
        )
    return RouterError(f"in-cluster auth: {account_dir}: {one_line(str(exc))}", hint=_MOUNT)
