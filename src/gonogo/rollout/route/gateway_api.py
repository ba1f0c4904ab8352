"""The ``gateway-api`` router: backendRef weights of a Kubernetes Gateway API HTTPRoute.

The team's HTTPRoute sends traffic to the baseline's Service; gonogo sets, in every rule
that refers to that Service, the weights of the baseline and canary backendRefs (adding
the canary's ref, copied from the baseline's, where a rule lacks it). Weights are the
shares in hundredths of a percent (80% / 20% is 8000 / 2000), so fractional steps keep
two decimals; 0% and 100% give the other side weight 0, which the Gateway API defines
as no traffic at all. Everything else in the route (matches, filters, other rules) is
left as it is.

Each change reads the route and writes ``spec.rules`` back as a JSON merge patch that
carries the ``resourceVersion`` it read, so a concurrent edit makes the API server
answer 409 Conflict instead of being overwritten; gonogo then reads again and retries.
:meth:`GatewayApiRouter.weight` reads the weights back from the route.

The official ``kubernetes`` client is an optional extra (``gonogo[gateway-api]``),
imported when the router is built. It authenticates with a kubeconfig or, in a pod, with
the pod's ServiceAccount (see :mod:`gonogo.rollout.route.kube_auth`). The route's ``url``
(the address clients use, e.g. the Gateway's hostname) is configured, since a route does
not know it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.errors import one_line
from gonogo.rollout.deploy.interface import Backend
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route.kube_auth import (
    SERVICE_ACCOUNT_DIR,
    Auth,
    Connection,
    choose,
    kubeconfig_path,
)
from gonogo.rollout.route.nginx_conf import check_percent
from gonogo.strict import StrictModel

__all__ = ["GatewayApiRouter", "GatewayApiRouterConfig"]

GROUP = "gateway.networking.k8s.io"
PLURAL = "httproutes"
SCALE = 100
"""weight units per percent"""
_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
_CONFLICT_RETRIES = 5


class GatewayApiRouterConfig(StrictModel):
    """``[rollout.router]`` with ``type = "gateway-api"``."""

    type: Literal["gateway-api"] = "gateway-api"
    namespace: Annotated[str, Field(pattern=_NAME, max_length=63)] | None = None
    """default: in-cluster, the service account's namespace; else ``default``"""
    route: Annotated[str, Field(pattern=_NAME, max_length=253)]
    """the HTTPRoute's name"""
    baseline_backend: Annotated[str, Field(pattern=_NAME, max_length=253)]
    """the Service the route sends production traffic to"""
    canary_backend: Annotated[str, Field(pattern=_NAME, max_length=253)]
    """the Service running the canary"""
    canary_port: int | None = Field(default=None, ge=1, le=65535)
    """port of an added canary backendRef (default: the baseline ref's port)"""
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    """the address clients send traffic to (the Gateway's), e.g. https://shop.example.com"""
    auth: Auth = "auto"
    """auto: a kubeconfig if there is one, else the pod's service account"""
    kubeconfig: Path | None = None
    """default: $KUBECONFIG, else ~/.kube/config"""
    context: str | None = None
    """kubeconfig context (default: its current context)"""
    service_account_dir: Path = SERVICE_ACCOUNT_DIR
    """in-cluster: where the ServiceAccount's token and ca.crt are mounted"""
    api_version: Literal["v1", "v1beta1"] = "v1"
    timeout_s: float = Field(default=30.0, gt=0, le=MAX_WAIT_S)

    @field_validator("kubeconfig", "context")
    @classmethod
    def _not_in_cluster(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("auth") == "in-cluster":
            raise ValueError(
                f'{info.field_name} cannot be used with auth = "in-cluster" '
                '(remove it, or use auth = "kubeconfig")'
            )
        return value

    @field_validator("service_account_dir")
    @classmethod
    def _not_kubeconfig(cls, value: Path, info: ValidationInfo) -> Path:
        # the default passes, so a dumped and re-read table stays valid
        if info.data.get("auth") == "kubeconfig" and value != SERVICE_ACCOUNT_DIR:
            raise ValueError(
                'service_account_dir cannot be used with auth = "kubeconfig" '
                '(remove it, or use auth = "in-cluster")'
            )
        return value


def kubernetes_client() -> ModuleType:
    """The ``kubernetes`` package, or a one-line error naming the extra that provides it."""
    try:
        import kubernetes  # noqa: PLC0415 - optional extra, imported when the router is built
    except ImportError:
        raise RouterError(
            "the gateway-api router needs the kubernetes client",
            hint="pip install 'gonogo[gateway-api]'",
        ) from None
    return kubernetes


class GatewayApiRouter:
    """Sets HTTPRoute backendRef weights; see the module docstring."""

    name: ClassVar[str] = "gateway-api"

    def __init__(self, config: GatewayApiRouterConfig) -> None:
        self.config = config
        self._k8s = kubernetes_client()
        import urllib3  # noqa: PLC0415 - comes with the kubernetes client

        self._unreachable = (urllib3.exceptions.HTTPError, OSError)
        mode = choose(config.auth, kubeconfig=config.kubeconfig, context=config.context)
        if mode == "in-cluster":
            self._connection = Connection.in_cluster(self._k8s, config.service_account_dir)
        else:
            path = kubeconfig_path(config.kubeconfig)
            self._connection = Connection.from_kubeconfig(self._k8s, path, config.context)
        self.namespace = config.namespace or self._connection.namespace() or "default"
        """the HTTPRoute's namespace"""
        self._where = f"HTTPRoute {self.namespace}/{config.route}"
        self._api = self._k8s.client.CustomObjectsApi(self._connection.client)

    @property
    def url(self) -> str:
        """The configured front address."""
        return self.config.url.rstrip("/")

    def configure(self, baseline: Backend, canary: Backend | None, canary_percent: float) -> None:
        """Set the weights; the Services come from the config, not from the backends' URLs."""
        percent = check_percent(canary_percent)
        if canary is None and percent > 0:
            raise RouterError(f"cannot send {percent:g}% of traffic to a canary that is not set")
        self._set(percent, add_canary=canary is not None)

    def set_weight(self, canary_percent: float) -> None:
        """Change the canary's share in every rule that routes to the baseline Service."""
        self._set(check_percent(canary_percent), add_canary=True)

    def weight(self) -> float | None:
        """The canary's share the route applies now; None when no rule names the baseline."""
        rules = self._rules(self._get())
        shares = {s for rule in rules if (s := _share(rule, self.config)) is not None}
        if not shares:
            return None
        if len(shares) > 1:
            listed = ", ".join(f"{share:g}%" for share in sorted(shares))
            raise RouterError(
                f"{self._where}: its rules give the canary different shares ({listed})",
                hint="set the weight again to make them agree",
            )
        return shares.pop()

    def close(self) -> None:
        """Close the API client's connections."""
        self._connection.close()

    # ----------------------------------------------------------------- the API

    def _set(self, percent: float, *, add_canary: bool) -> None:
        for _ in range(_CONFLICT_RETRIES):
            route = self._get()
            rules = copy.deepcopy(self._rules(route))
            if not any(_refs(rule, self.config.baseline_backend) for rule in rules):
                raise RouterError(
                    f"{self._where} has no backendRef to Service {self.config.baseline_backend}",
                    hint="set baseline_backend to the Service the route sends traffic to",
                )
            changed = [_weigh(rule, self.config, percent, add_canary) for rule in rules]
            if not any(changed):
                return  # idempotent: the route already carries these weights
            version = route.get("metadata", {}).get("resourceVersion")
            patch = {"metadata": {"resourceVersion": version}, "spec": {"rules": rules}}
            if self._patch(patch):
                return
        raise RouterError(
            f"{self._where} kept changing under gonogo ({_CONFLICT_RETRIES} conflicts in a row)",
            hint="another controller edits the route; stop it during the rollout",
        )

    def _get(self) -> dict[str, Any]:
        route = self._call("read", self._api.get_namespaced_custom_object)
        if not isinstance(route, dict):
            raise RouterError(f"{self._where}: the API server answered {type(route).__name__}")
        return route

    def _patch(self, body: dict[str, Any]) -> bool:
        """Apply a merge patch; False when the route changed since it was read (409)."""
        try:
            self._call(
                "update",
                self._api.patch_namespaced_custom_object,
                body=body,
                _content_type="application/merge-patch+json",
            )
        except _Conflict:
            return False
        return True

    def _call(self, what: str, method: Any, **kwargs: Any) -> Any:
        try:
            return self._request(what, method, **kwargs)
        except self._k8s.client.ApiException as exc:
            if not (exc.status == 401 and self._connection.reread_token()):
                raise self._api_error(what, exc) from None
        try:  # the token on disk was rotated since the client last read it: send the new one
            return self._request(what, method, **kwargs)
        except self._k8s.client.ApiException as exc:
            raise self._api_error(what, exc) from None

    def _request(self, what: str, method: Any, **kwargs: Any) -> Any:
        config = self.config
        try:
            return method(
                GROUP,
                config.api_version,
                self.namespace,
                PLURAL,
                config.route,
                _request_timeout=config.timeout_s,
                **kwargs,
            )
        except self._unreachable as exc:
            reason = getattr(exc, "reason", None)  # urllib3 wraps the socket error
            name = type(exc).__name__
            detail = re.split(r"[)>]: ", one_line(str(reason)))[-1] if reason else name
            raise RouterError(
                f"cannot {what} {self._where}: the API server at {self._connection.server} is "
                f"unreachable ({detail})",
                hint=self._connection.unreachable_hint(),
            ) from None

    def _api_error(self, what: str, exc: Any) -> Exception:
        if exc.status == 409 and what == "update":
            return _Conflict()
        if exc.status in (401, 403):
            hint = self._connection.denied_hint(exc.status)
        else:
            hint = _api_hint(exc.status)
        return RouterError(f"cannot {what} {self._where}: {_api_message(exc)}", hint=hint)

    def _rules(self, route: dict[str, Any]) -> list[dict[str, Any]]:
        rules = route.get("spec", {}).get("rules", [])
        if not isinstance(rules, list):
            raise RouterError(f"{self._where}: spec.rules is not a list")
        return rules


class _Conflict(Exception):
    """The route changed between reading and patching it."""


def _refs(rule: dict[str, Any], service: str) -> list[dict[str, Any]]:
    """The rule's backendRefs to a Service of that name."""
    return [
        ref
        for ref in rule.get("backendRefs") or []
        if ref.get("name") == service
        and ref.get("kind", "Service") == "Service"
        and ref.get("group", "") in ("", "core")
    ]


def _weigh(rule: dict[str, Any], config: GatewayApiRouterConfig, percent: float, add: bool) -> bool:
    """Set one rule's weights in place; whether anything changed."""
    baseline = _refs(rule, config.baseline_backend)
    if not baseline:
        return False
    canary = _refs(rule, config.canary_backend)
    if not canary and add:
        ref = copy.deepcopy(baseline[0])
        ref["name"] = config.canary_backend
        if config.canary_port is not None:
            ref["port"] = config.canary_port
        rule["backendRefs"].append(ref)
        canary = [ref]
    wanted = [(ref, round((100 - percent) * SCALE)) for ref in baseline]
    wanted += [(ref, round(percent * SCALE)) for ref in canary]
    changed = False
    for ref, weight in wanted:
        if ref.get("weight", 1) != weight or "weight" not in ref:
            ref["weight"] = weight
            changed = True
    return changed


def _share(rule: dict[str, Any], config: GatewayApiRouterConfig) -> float | None:
    """The canary's share in one rule (a backendRef's weight defaults to 1)."""
    baseline = _refs(rule, config.baseline_backend)
    if not baseline:
        return None
    base = sum(int(ref.get("weight", 1)) for ref in baseline)
    canary = sum(int(ref.get("weight", 1)) for ref in _refs(rule, config.canary_backend))
    if base + canary == 0:
        return 0.0
    return round(100.0 * canary / (base + canary), 2)


def _api_message(exc: Any) -> str:
    """The API server's own message (a Status object's ``message``), else the reason."""
    import json  # noqa: PLC0415 - only on the error path

    try:
        status = json.loads(exc.body or "")
        message = status.get("message") if isinstance(status, dict) else None
    except ValueError:
        message = None
    return f"{exc.status} {one_line(str(message or exc.reason or 'error'))}"


def _api_hint(status: int | None) -> str:
    if status == 404:
        return "check namespace and route under [rollout.router] (and the Gateway API version)"
    return "see the API server's message"
