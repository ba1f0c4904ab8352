"""The gateway-api router through the official kubernetes client, against an emulated API.

No Kubernetes cluster can run on this machine (no container runtime, no kind), so these
tests run a small local HTTP server that emulates the two Kubernetes API endpoints the
router uses: GET and PATCH (JSON merge patch, RFC 7386) of one
``gateway.networking.k8s.io`` HTTPRoute, with bearer-token authentication, RBAC
denials, ``resourceVersion`` conflicts (409), and Status error bodies as the real API
server sends them. The kubernetes client is the real one, pointed at the emulator
through a kubeconfig written in the test's temp dir, or in-cluster through what a pod
gets: KUBERNETES_SERVICE_HOST/PORT and a service account directory (token, ca.crt,
namespace). In-cluster the client speaks HTTPS and verifies the server against ca.crt,
so that emulator serves TLS with a certificate for 127.0.0.1 signed by a cluster CA that
the openssl CLI makes in the test's temp dir.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError
from gonogo.rollout.route.gateway_api import GROUP, GatewayApiRouter, GatewayApiRouterConfig
from gonogo.rollout.route.interface import Router
from tests.rollout.nginx_prom_fixtures import LOOPBACK, free_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "rollout-nginx-prometheus.md"
ROUTE_PATH = re.compile(
    r"^/apis/gateway\.networking\.k8s\.io/(v1|v1beta1)/namespaces/([^/]+)/httproutes/([^/?]+)"
)
# service account tokens look like this (a JWT); none may ever appear in a message
SERVICE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnLW9uZQ"
ROTATED_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnLXR3bw"
READER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.cmVhZGVy"
PERMISSIONS = {
    "admin-token": {"get", "patch"},
    "reader-token": {"get"},
    SERVICE_TOKEN: {"get", "patch"},
    ROTATED_TOKEN: {"get", "patch"},
    READER_TOKEN: {"get"},
}
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

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.answers: list[tuple[str, int]] = []
        """each request's bearer token and the status it got"""
        self.permissions = copy.deepcopy(PERMISSIONS)
        self.concurrent_edits = 0
        """how many coming PATCHes find the route changed by someone else first"""
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((LOOPBACK, 0), _handler(self))
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    def tokens(self) -> list[str]:
        return [token for token, _ in self.answers]

    def route(self, namespace: str = "shop", name: str = "shop") -> dict[str, Any]:
        return self.routes[(namespace, name)]

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        self.requests.append((method, path, headers.get("Content-Type", "")))
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        code, answer = self._answer(method, path, headers, body, scheme, token)
        self.answers.append((token, code))
        return code, answer

    def _answer(
        self, method: str, path: str, headers: Any, body: bytes, scheme: str, token: str
    ) -> tuple[int, Any]:
        match = ROUTE_PATH.match(path)
        if match is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        # the API server takes the scheme in any case (the client's loader sends "bearer")
        if scheme.lower() != "bearer" or token not in self.permissions:
            return 401, _status(401, "Unauthorized", "Unauthorized")
        _, namespace, name = match.groups()
        verb = method.lower()
        if verb not in self.permissions[token]:
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


def _serve(server: ApiServer) -> Iterator[ApiServer]:
    server.routes[("shop", "shop")] = _route(
        [{"backendRefs": [{"name": "shop-stable", "port": 8080}]}]
    )
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def api() -> Iterator[ApiServer]:
    yield from _serve(ApiServer())


@dataclass(frozen=True)
class Pki:
    """A cluster CA and the API server's certificate and key, signed by it."""

    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(
        ["openssl", *map(str, args)],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


def make_pki(directory: Path, server_ip: str = LOOPBACK) -> Pki:
    """With the openssl CLI: a CA, and a server certificate for ``server_ip`` it signed."""
    directory.mkdir(parents=True)
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    cert, key, request = directory / "server.crt", directory / "server.key", directory / "csr"
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=ca")
    _openssl("req", "-new", *ec, "-keyout", key, "-out", request, "-subj", "/CN=kube-apiserver")
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName=IP:{server_ip}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", extensions,
    )  # fmt: skip
    return Pki(ca, cert, key)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def cluster_api(pki: Pki) -> Iterator[ApiServer]:
    """The emulated API server over HTTPS, as a pod reaches it."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pki.cert, pki.key)
    yield from _serve(ApiServer(tls))


@pytest.fixture
def pod(cluster_api: ApiServer, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What Kubernetes gives a pod: the API's address in env and the mounted service account.

    Returns the service account directory (token, ca.crt, namespace). The conftest's HOME
    has no ~/.kube/config; KUBECONFIG is unset as in a pod.
    """
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", LOOPBACK)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(cluster_api.port))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(SERVICE_TOKEN)
    shutil.copy(pki.ca, account / "ca.crt")
    (account / "namespace").write_text("shop")
    return account


def in_cluster(account: Path, **settings: Any) -> GatewayApiRouterConfig:
    """A router table without kubeconfig and without namespace (the pod's is used)."""
    return GatewayApiRouterConfig.model_validate(
        {
            "route": "shop",
            "baseline_backend": "shop-stable",
            "canary_backend": "shop-canary",
            "url": "https://shop.example.com/",
            "service_account_dir": str(account),
            **settings,
        }
    )


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


def _one_line_without_tokens(error: RouterError) -> str:
    message = str(error)
    assert "\n" not in message
    for token in (SERVICE_TOKEN, ROTATED_TOKEN, READER_TOKEN, "admin-token", "reader-token"):
        assert token not in message
    return message


def test_in_cluster_the_service_accounts_token_changes_the_weight(
    cluster_api: ApiServer, pod: Path
) -> None:
    # `kubectl create token controller > token` ends the file with a newline; kubelet's
    # projected tokens do not; both work (as with client-go, which trims it)
    (pod / "token").write_text(SERVICE_TOKEN + "\n")
    router = GatewayApiRouter(in_cluster(pod, auth="in-cluster"))
    assert router.namespace == "shop"  # the pod's namespace file, as kubectl defaults to
    assert router.weight() == 0.0

    router.configure(BASELINE, CANARY, 20)
    assert refs(cluster_api) == [
        {"name": "shop-stable", "port": 8080, "weight": 8000},
        {"name": "shop-canary", "port": 8080, "weight": 2000},
    ]
    assert router.weight() == 20.0
    assert cluster_api.answers and all(
        answer == (SERVICE_TOKEN, 200) for answer in cluster_api.answers
    )
    assert all(r[1].startswith("/apis/gateway.networking.k8s.io/v1/namespaces/shop/") for r in
               cluster_api.requests)  # fmt: skip
    router.close()


def test_a_configured_namespace_wins_over_the_pods(cluster_api: ApiServer, pod: Path) -> None:
    cluster_api.routes[("payments", "shop")] = _route(
        [{"backendRefs": [{"name": "shop-stable", "port": 8080}]}]
    )
    router = GatewayApiRouter(in_cluster(pod, namespace="payments"))
    router.set_weight(5)
    assert router.weight() == 5.0
    assert refs(cluster_api)[0] == {"name": "shop-stable", "port": 8080}  # shop/shop untouched
    (pod / "namespace").unlink()
    assert GatewayApiRouter(in_cluster(pod)).namespace == "default"


def test_a_rotated_token_is_read_again_when_the_api_server_refuses_the_old_one(
    cluster_api: ApiServer, pod: Path
) -> None:
    router = GatewayApiRouter(in_cluster(pod))
    router.set_weight(10)

    # kubelet wrote a new token and the old one was revoked before the client's own
    # re-read (once a minute) came due: the 401 makes gonogo read the file at once
    (pod / "token").write_text(ROTATED_TOKEN)
    del cluster_api.permissions[SERVICE_TOKEN]
    cluster_api.answers.clear()
    router.set_weight(30)
    assert router.weight() == 30.0
    assert cluster_api.answers[0] == (SERVICE_TOKEN, 401)
    assert cluster_api.answers[1:] and all(
        answer == (ROTATED_TOKEN, 200) for answer in cluster_api.answers[1:]
    )

    # the file's token is refused too: one 401 line, after one more try
    (pod / "token").write_text("eyJ.not-accepted.sig")
    del cluster_api.permissions[ROTATED_TOKEN]
    cluster_api.answers.clear()
    with pytest.raises(RouterError) as caught:
        router.set_weight(40)
    message = _one_line_without_tokens(caught.value)
    assert "eyJ.not-accepted.sig" not in message
    assert message == (
        "cannot read HTTPRoute shop/shop: 401 Unauthorized; the API server did not accept "
        f"the token in {pod}/token"
    )
    assert [code for _, code in cluster_api.answers] == [401, 401]

    # the token was unmounted: the re-read says so in one line
    (pod / "token").unlink()
    with pytest.raises(RouterError) as caught:
        router.weight()
    assert _one_line_without_tokens(caught.value).startswith(
        f"in-cluster auth: no service account token at {pod}/token; mount the ServiceAccount's"
    )
    assert refs(cluster_api)[1]["weight"] == 3000


def test_a_read_only_service_account_gets_the_403_line(cluster_api: ApiServer, pod: Path) -> None:
    (pod / "token").write_text(READER_TOKEN)
    router = GatewayApiRouter(in_cluster(pod))
    assert router.weight() == 0.0
    with pytest.raises(RouterError) as caught:
        router.set_weight(10)
    message = _one_line_without_tokens(caught.value)
    assert message.startswith("cannot update HTTPRoute shop/shop: 403 ")
    assert 'cannot patch resource "httproutes"' in message
    assert message.endswith(
        "the ServiceAccount needs get and patch on httproutes in that namespace "
        "(a Role bound to it with a RoleBinding)"
    )
    assert refs(cluster_api) == [{"name": "shop-stable", "port": 8080}]


def test_the_api_server_is_verified_against_the_service_accounts_ca(
    cluster_api: ApiServer, pod: Path, tmp_path: Path
) -> None:
    shutil.copy(make_pki(tmp_path / "other-cluster").ca, pod / "ca.crt")
    router = GatewayApiRouter(in_cluster(pod, timeout_s=5))
    with pytest.raises(RouterError) as caught:
        router.weight()
    message = _one_line_without_tokens(caught.value)
    assert message.startswith(
        f"cannot read HTTPRoute shop/shop: the API server at https://{LOOPBACK}:"
        f"{cluster_api.port} is unreachable ("
    )
    assert "certificate verify failed" in message
    assert message.endswith(
        f"check KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT and {pod}/ca.crt"
    )
    assert cluster_api.answers == []  # the token never went to the impostor


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        ("rm token", "in-cluster auth: no service account token at {pod}/token; mount the"),
        ("rm ca.crt", "in-cluster auth: no cluster CA certificate at {pod}/ca.crt; mount the"),
        ("empty token", "in-cluster auth: {pod}: Token file exists but empty.; mount the"),
        ("unset KUBERNETES_SERVICE_HOST", "in-cluster auth: KUBERNETES_SERVICE_HOST is not set;"),
        ("unset KUBERNETES_SERVICE_PORT", "in-cluster auth: KUBERNETES_SERVICE_PORT is not set;"),
    ],
)
def test_a_pod_without_its_service_account_or_env_is_one_line(
    pod: Path, monkeypatch: pytest.MonkeyPatch, breakage: str, problem: str
) -> None:
    verb, what = breakage.split(" ", 1)
    if verb == "rm":
        (pod / what).unlink()
    elif verb == "empty":
        (pod / what).write_text("")
    else:
        monkeypatch.delenv(what)
    with pytest.raises(RouterError) as caught:
        GatewayApiRouter(in_cluster(pod, auth="in-cluster"))
    message = _one_line_without_tokens(caught.value)
    assert message.startswith(problem.format(pod=pod))
    if verb == "unset":
        assert "set kubeconfig under [rollout.router]" in message


def test_auto_uses_the_service_account_when_there_is_no_kubeconfig(
    cluster_api: ApiServer, pod: Path
) -> None:
    assert not (Path.home() / ".kube" / "config").exists()
    router = GatewayApiRouter(in_cluster(pod))  # auth = "auto"
    router.set_weight(20)
    assert refs(cluster_api)[1]["weight"] == 2000
    assert set(cluster_api.tokens()) == {SERVICE_TOKEN}


@pytest.mark.parametrize("named_by", ["KUBECONFIG", "~/.kube/config", "kubeconfig key"])
def test_auto_prefers_a_kubeconfig_even_in_a_pod(
    api: ApiServer,
    cluster_api: ApiServer,
    pod: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    named_by: str,
) -> None:
    path = kubeconfig(tmp_path, api.url)
    settings: dict[str, Any] = {}
    if named_by == "KUBECONFIG":
        monkeypatch.setenv("KUBECONFIG", str(path))
    elif named_by == "~/.kube/config":
        (Path.home() / ".kube").mkdir()
        shutil.copy(path, Path.home() / ".kube" / "config")
    else:
        settings["kubeconfig"] = str(path)
    router = GatewayApiRouter(in_cluster(pod, namespace="shop", **settings))
    router.set_weight(20)
    assert refs(api)[1]["weight"] == 2000
    assert set(api.tokens()) == {"admin-token"}
    assert cluster_api.answers == []


def test_auto_with_neither_a_kubeconfig_nor_a_pod_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings = {"route": "shop", "baseline_backend": "a", "canary_backend": "b"}
    with pytest.raises(RouterError) as caught:
        GatewayApiRouter(GatewayApiRouterConfig(url="https://x.example", **settings))
    message = _one_line_without_tokens(caught.value)
    assert message == (
        "no Kubernetes credentials: no kubeconfig ($KUBECONFIG is not set and "
        f"{Path.home()}/.kube/config does not exist) and not in a pod (KUBERNETES_SERVICE_HOST "
        "is not set); set kubeconfig under [rollout.router], or run gonogo in a pod with auth = "
        '"in-cluster" and a ServiceAccount'
    )


def test_the_documented_rbac_is_what_the_service_account_needs(
    cluster_api: ApiServer, pod: Path
) -> None:
    """The ServiceAccount, Role and RoleBinding of the docs, granted by the emulated API."""
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    manifests = {doc["kind"]: doc for doc in yaml.safe_load_all(block.group(1))}
    account, role, binding = (manifests[k] for k in ("ServiceAccount", "Role", "RoleBinding"))
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", **account["metadata"]}]
    namespace = role["metadata"]["namespace"]
    verbs = {
        verb
        for rule in role["rules"]
        if GROUP in rule["apiGroups"]
        and "httproutes" in rule["resources"]
        and "shop" in rule.get("resourceNames", ["shop"])
        for verb in rule["verbs"]
    }
    assert verbs == {"get", "patch"}  # enough, and nothing more

    (pod / "namespace").write_text(account["metadata"]["namespace"])
    cluster_api.routes[(namespace, "shop")] = cluster_api.routes.pop(("shop", "shop"))
    cluster_api.permissions[SERVICE_TOKEN] = verbs
    router = GatewayApiRouter(in_cluster(pod, namespace=namespace))
    router.set_weight(20)
    assert router.weight() == 20.0
    assert {code for _, code in cluster_api.answers} == {200}


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"route": "Shop_Route"}, "route\n.*should match pattern"),
        ({"auth": "token"}, "auth\n"),
        (
            {"auth": "in-cluster", "kubeconfig": "/etc/kubeconfig"},
            'kubeconfig\n.*kubeconfig cannot be used with auth = "in-cluster"',
        ),
        (
            {"auth": "in-cluster", "context": "prod"},
            'context\n.*context cannot be used with auth = "in-cluster"',
        ),
        (
            {"auth": "kubeconfig", "service_account_dir": "/sa"},
            'service_account_dir\n.*cannot be used with auth = "kubeconfig"',
        ),
        ({"canary_port": 0}, "canary_port\n.*greater than or equal to 1"),
        ({"timeout_s": float("inf")}, "timeout_s\n.*finite number"),
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
