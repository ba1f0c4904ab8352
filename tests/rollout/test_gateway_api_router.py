"""The gateway-api router through the official kubernetes client, against an emulated API.

No Kubernetes cluster can run on this machine (no container runtime, no kind), so these
tests run a small local HTTP server that emulates the two Kubernetes API endpoints the
router uses: GET and PATCH (JSON merge patch, RFC 7386) of one
``gateway.networking.k8s.io`` HTTPRoute, with bearer-token authentication, RBAC
denials, ``resourceVersion`` conflicts (409), and Status error bodies as the real API
server sends them. The kubernetes client is the real one, pointed at the emulator
through a kubeconfig written in the test's temp dir.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route.gateway_api import GatewayApiRouter, GatewayApiRouterConfig
from gonogo.rollout.route.interface import Router
from tests.rollout.nginx_prom_fixtures import LOOPBACK, free_port

ROUTE_PATH = re.compile(
    r"^/apis/gateway\.networking\.k8s\.io/(v1|v1beta1)/namespaces/([^/]+)/httproutes/([^/?]+)"
)
PERMISSIONS = {"admin-token": {"get", "patch"}, "reader-token": {"get"}}
BASELINE = Backend(Variant.BASELINE, "v1", "http://shop-stable.shop:8080")
CANARY = Backend(Variant.CANARY, "v2", "http://shop-canary.shop:8080")


def _route(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "shop", "namespace": "shop", "resourceVersion": "100"},
        "spec": {
            "parentRefs": [{"name": "public-gateway"}],
            "hostnames": ["shop.example.com"],
            "rules": rules,
        },
    }


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class ApiServer:
    """The emulated API server: one store of HTTPRoutes and a log of the requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.concurrent_edits = 0
        """how many coming PATCHes find the route changed by someone else first"""
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((LOOPBACK, 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}"

    def route(self, namespace: str = "shop", name: str = "shop") -> dict[str, Any]:
        return self.routes[(namespace, name)]

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        self.requests.append((method, path, headers.get("Content-Type", "")))
        match = ROUTE_PATH.match(path)
        if match is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in PERMISSIONS:
            return 401, _status(401, "Unauthorized", "Unauthorized")
        _, namespace, name = match.groups()
        verb = method.lower()
        if verb not in PERMISSIONS[token]:
            return 403, _status(
                403,
                "Forbidden",
                f'httproutes.gateway.networking.k8s.io "{name}" is forbidden: User "ci" cannot '
                f'{verb} resource "httproutes" in API group "gateway.networking.k8s.io" in the '
                f'namespace "{namespace}"',
            )
        with self._lock:
            stored = self.routes.get((namespace, name))
            if stored is None:
                return 404, _status(
                    404, "NotFound", f'httproutes.gateway.networking.k8s.io "{name}" not found'
                )
            if method == "GET":
                return 200, stored
            return self._patch(stored, headers.get("Content-Type", ""), body)

    def _patch(self, stored: dict[str, Any], content_type: str, body: bytes) -> tuple[int, Any]:
        if content_type.split(";", maxsplit=1)[0] != "application/merge-patch+json":
            return 415, _status(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json",
            )
        if self.concurrent_edits:
            self.concurrent_edits -= 1
            _bump(stored)
        patch = json.loads(body)
        expected = patch.get("metadata", {}).get("resourceVersion")
        if expected is not None and expected != stored["metadata"]["resourceVersion"]:
            return 409, _status(
                409,
                "Conflict",
                'Operation cannot be fulfilled on httproutes.gateway.networking.k8s.io "shop": '
                "the object has been modified; please apply your changes to the latest "
                "version and try again",
            )
        updated = merge_patch(stored, patch)
        for rule in updated["spec"]["rules"]:
            for ref in rule.get("backendRefs", []):
                weight = ref.get("weight", 1)
                if not isinstance(weight, int) or not 0 <= weight <= 1_000_000:
                    return 422, _status(422, "Invalid", f"weight {weight!r} is invalid")
        updated["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        _bump(updated)
        stored.clear()
        stored.update(updated)
        return 200, stored


def _bump(route: dict[str, Any]) -> None:
    route["metadata"]["resourceVersion"] = str(int(route["metadata"]["resourceVersion"]) + 1)


def _handler(api: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            code, answer = api.handle(
                self.command, self.path, self.headers, self.rfile.read(length)
            )
            reply = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = _serve  # noqa: N815 - http.server's naming
        do_PATCH = _serve  # noqa: N815 - http.server's naming

    return Handler


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer()
    server.routes[("shop", "shop")] = _route(
        [{"backendRefs": [{"name": "shop-stable", "port": 8080}]}]
    )
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def kubeconfig(directory: Path, server: str) -> Path:
    """A kubeconfig with an admin and a read-only context on the emulated server."""
    path = directory / "kubeconfig"
    users = {"admin": "admin-token", "reader": "reader-token"}
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "emulated", "cluster": {"server": server}}],
                "users": [{"name": n, "user": {"token": t}} for n, t in users.items()],
                "contexts": [
                    {"name": n, "context": {"cluster": "emulated", "user": n}} for n in users
                ],
                "current-context": "admin",
            }
        )
    )
    return path


def config(api: ApiServer, tmp_path: Path, **settings: Any) -> GatewayApiRouterConfig:
    return GatewayApiRouterConfig.model_validate(
        {
            "type": "gateway-api",
            "namespace": "shop",
            "route": "shop",
            "baseline_backend": "shop-stable",
            "canary_backend": "shop-canary",
            "url": "https://shop.example.com/",
            "kubeconfig": str(kubeconfig(tmp_path, api.url)),
            **settings,
        }
    )


def refs(api: ApiServer) -> list[dict[str, Any]]:
    return list(api.route()["spec"]["rules"][0]["backendRefs"])


def test_weights_are_patched_into_the_route_and_read_back(api: ApiServer, tmp_path: Path) -> None:
    router = GatewayApiRouter(config(api, tmp_path))
    assert isinstance(router, Router)
    assert router.url == "https://shop.example.com"
    assert router.weight() == 0.0  # only the baseline's ref: all traffic to it

    router.configure(BASELINE, CANARY, 20)
    assert refs(api) == [
        {"name": "shop-stable", "port": 8080, "weight": 8000},
        {"name": "shop-canary", "port": 8080, "weight": 2000},
    ]
    assert router.weight() == 20.0

    router.set_weight(0)
    assert [ref["weight"] for ref in refs(api)] == [10000, 0]
    router.set_weight(100)
    assert [ref["weight"] for ref in refs(api)] == [0, 10000]
    router.set_weight(0.25)
    assert [ref["weight"] for ref in refs(api)] == [9975, 25]

    fresh = GatewayApiRouter(config(api, tmp_path))
    assert fresh.weight() == 0.25
    patches = [r for r in api.requests if r[0] == "PATCH"]
    assert patches and all(r[2] == "application/merge-patch+json" for r in patches)
    assert all(r[1].startswith("/apis/gateway.networking.k8s.io/v1/") for r in api.requests)
    router.close()
    fresh.close()


def test_the_rest_of_the_route_is_left_as_it_was(api: ApiServer, tmp_path: Path) -> None:
    header = {"type": "RequestHeaderModifier", "requestHeaderModifier": {"add": []}}
    api.routes[("shop", "shop")] = _route(
        [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                "backendRefs": [{"name": "shop-stable", "port": 8080, "filters": [header]}],
            },
            {"backendRefs": [{"name": "static-files", "port": 80, "weight": 1}]},
        ]
    )
    before = copy.deepcopy(api.route())
    router = GatewayApiRouter(config(api, tmp_path, canary_port=9090))
    router.configure(BASELINE, CANARY, 50)

    after = api.route()
    assert after["spec"]["rules"][1] == before["spec"]["rules"][1]
    assert after["spec"]["rules"][0]["matches"] == before["spec"]["rules"][0]["matches"]
    assert after["spec"]["hostnames"] == before["spec"]["hostnames"]
    assert after["spec"]["parentRefs"] == before["spec"]["parentRefs"]
    assert after["spec"]["rules"][0]["backendRefs"] == [
        {"name": "shop-stable", "port": 8080, "filters": [header], "weight": 5000},
        {"name": "shop-canary", "port": 9090, "filters": [header], "weight": 5000},
    ]
    assert router.weight() == 50.0


def test_without_a_canary_no_canary_ref_is_added(api: ApiServer, tmp_path: Path) -> None:
    router = GatewayApiRouter(config(api, tmp_path))
    router.configure(BASELINE, None, 0)
    assert refs(api) == [{"name": "shop-stable", "port": 8080, "weight": 10000}]
    version = api.route()["metadata"]["resourceVersion"]
    router.configure(BASELINE, None, 0)  # already so: no write
    assert api.route()["metadata"]["resourceVersion"] == version
    with pytest.raises(RouterError, match="canary that is not set"):
        router.configure(BASELINE, None, 10)


def test_a_concurrent_edit_is_retried_on_the_latest_route(api: ApiServer, tmp_path: Path) -> None:
    router = GatewayApiRouter(config(api, tmp_path))
    api.concurrent_edits = 2
    router.set_weight(30)
    assert router.weight() == 30.0
    assert [r[0] for r in api.requests].count("PATCH") == 3

    api.concurrent_edits = 100
    with pytest.raises(RouterError, match=r"kept changing under gonogo \(5 conflicts in a row\)"):
        router.set_weight(40)
    assert router.weight() == 30.0


def test_api_errors_are_one_line_with_the_api_servers_message(
    api: ApiServer, tmp_path: Path
) -> None:
    missing = GatewayApiRouter(config(api, tmp_path, route="nope"))
    with pytest.raises(RouterError) as caught:
        missing.weight()
    assert str(caught.value).startswith(
        'cannot read HTTPRoute shop/nope: 404 httproutes.gateway.networking.k8s.io "nope" '
        "not found; check namespace and route"
    )

    reader = GatewayApiRouter(config(api, tmp_path, context="reader"))
    assert reader.weight() == 0.0
    with pytest.raises(RouterError) as caught:
        reader.set_weight(10)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("cannot update HTTPRoute shop/shop: 403 ")
    assert 'cannot patch resource "httproutes"' in message
    assert "needs get and patch on httproutes" in message


def test_a_route_that_never_sends_traffic_to_the_baseline_is_refused(
    api: ApiServer, tmp_path: Path
) -> None:
    router = GatewayApiRouter(config(api, tmp_path, baseline_backend="shop-old"))
    assert router.weight() is None
    with pytest.raises(RouterError, match="has no backendRef to Service shop-old"):
        router.set_weight(10)


def test_rules_that_disagree_are_reported(api: ApiServer, tmp_path: Path) -> None:
    api.routes[("shop", "shop")] = _route(
        [
            {"backendRefs": [{"name": "shop-stable", "weight": 90}, {"name": "shop-canary"}]},
            {"backendRefs": [{"name": "shop-stable", "weight": 1}, {"name": "shop-canary"}]},
        ]
    )
    router = GatewayApiRouter(config(api, tmp_path))
    with pytest.raises(RouterError, match=r"different shares \(1.1%, 50%\)"):
        router.weight()
    router.set_weight(10)
    assert router.weight() == 10.0


def test_an_unreachable_api_server_is_one_line(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, f"http://{LOOPBACK}:{free_port()}")
    settings = {"route": "shop", "baseline_backend": "a", "canary_backend": "b"}
    router = GatewayApiRouter(
        GatewayApiRouterConfig(url="https://x.example", kubeconfig=path, timeout_s=5, **settings)
    )
    with pytest.raises(RouterError) as caught:
        router.weight()
    message = str(caught.value)
    assert message.startswith("cannot read HTTPRoute default/shop: the API server at http://")
    assert (
        "is unreachable (Failed to establish a new connection: [Errno 111] Connection refused)"
        in message
    )
    assert "\n" not in message


def test_a_bad_kubeconfig_is_one_line(tmp_path: Path) -> None:
    settings = {"route": "shop", "baseline_backend": "a", "canary_backend": "b"}
    with pytest.raises(RouterError, match=r"^cannot load .*missing.*set kubeconfig"):
        GatewayApiRouter(
            GatewayApiRouterConfig(
                url="https://x.example", kubeconfig=tmp_path / "missing", **settings
            )
        )
    path = kubeconfig(tmp_path, "http://127.0.0.1:1")
    with pytest.raises(RouterError, match=r"cannot load .*kubeconfig"):
        GatewayApiRouter(
            GatewayApiRouterConfig(
                url="https://x.example", kubeconfig=path, context="no-such-context", **settings
            )
        )


def test_without_the_kubernetes_client_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # what a missing package looks like
    settings = {"route": "shop", "baseline_backend": "a", "canary_backend": "b"}
    with pytest.raises(RouterError) as caught:
        GatewayApiRouter(GatewayApiRouterConfig(url="https://x.example", **settings))
    assert str(caught.value) == (
        "the gateway-api router needs the kubernetes client; pip install 'gonogo[gateway-api]'"
    )


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"route": "Shop_Route"}, "route\n.*should match pattern"),
        ({"canary_port": 0}, "canary_port\n.*greater than or equal to 1"),
        ({"url": "shop.example.com"}, "url\n.*should match pattern"),
        ({"api_version": "v2"}, "api_version\n"),
        ({"weights": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_config_problems_name_the_key(settings: dict[str, object], problem: str) -> None:
    base = {
        "type": "gateway-api",
        "route": "shop",
        "baseline_backend": "a",
        "canary_backend": "b",
        "url": "https://x.example",
    }
    with pytest.raises(ValidationError, match=problem):
        GatewayApiRouterConfig.model_validate({**base, **settings})
