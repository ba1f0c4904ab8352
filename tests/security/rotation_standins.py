"""Stand-ins for the two stores the credentials ledger reads rotation dates from.

Neither HashiCorp Vault nor AWS Secrets Manager can run here: Vault is not packaged for
Debian, and Secrets Manager is a cloud service. So each is a real HTTP server on
127.0.0.1 that implements the one endpoint gonogo calls, with the real service's request
and response shapes and status codes:

* :class:`VaultMetadataStandIn` extends the KV v2 stand-in of the secret-reference tests
  (``tests/config/test_refs.py``) with ``GET /v1/<mount>/metadata/<path>``: it checks
  ``X-Vault-Token`` (403 ``permission denied`` otherwise) and answers 404 with
  ``{"errors": []}`` for a path that holds no secret, as Vault does.
* :class:`SecretsManagerStandIn` implements ``DescribeSecret`` of the JSON 1.1 protocol
  (``POST /``, ``X-Amz-Target: secretsmanager.DescribeSecret``) that boto3 speaks. Like
  AWS, it checks each request's Signature Version 4: the ``Authorization`` header's
  access key and credential scope, and the signature, recomputed with the secret key it
  knows over the headers the request says it signed (with botocore's own SigV4 code, so
  a body, host or header that differs from what was signed fails). It answers AWS's
  error types: ``UnrecognizedClientException`` for an unknown access key,
  ``InvalidSignatureException``, ``ResourceNotFoundException``.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from tests.config.test_refs import TOKEN as VAULT_TOKEN
from tests.config.test_refs import VaultStandIn

__all__ = ["AWS_KEYS", "VAULT_TOKEN", "SecretsManagerStandIn", "VaultMetadataStandIn", "serve"]


class AwsKeys(NamedTuple):
    """An access key id and its secret."""

    access_key: str
    secret_key: str


#: the access key the Secrets Manager stand-in accepts, and its secret
AWS_KEYS = AwsKeys("AKIASTANDIN0000EXAMPLE", "stand-in/secret+access/key0000000000000")

# botocore ships no type information
_auth: Any = importlib.import_module("botocore.auth")
_awsrequest: Any = importlib.import_module("botocore.awsrequest")
_credentials: Any = importlib.import_module("botocore.credentials")


class VaultMetadataStandIn(VaultStandIn):
    """Vault's KV v2 metadata endpoint, beside the data endpoint of :class:`VaultStandIn`."""

    metadata: ClassVar[dict[str, dict[str, Any]]] = {}

    def do_GET(self) -> None:  # noqa: N802 - overrides the stand-in's handler of this name
        url = urlsplit(self.path)
        prefix, _, rest = url.path.partition("/v1/")
        mount, found, path = rest.partition("/metadata/")
        if prefix or not found:
            super().do_GET()
            return
        self.seen.append({"path": url.path, **dict(self.headers)})
        if self.headers.get("X-Vault-Token") != VAULT_TOKEN:
            self._reply(403, {"errors": ["permission denied"]})
            return
        data = self.metadata.get(f"{mount}/{path}")
        if data is None:
            self._reply(404, {"errors": []})
            return
        self._reply(200, {"request_id": "stand-in", "lease_id": "", "data": data})


def vault_metadata(*created: str) -> dict[str, Any]:
    """KV v2 metadata of a secret whose versions were written at ``created`` (oldest first)."""
    versions = {
        str(n): {"created_time": t, "deletion_time": "", "destroyed": False}
        for n, t in enumerate(created, start=1)
    }
    return {
        "cas_required": False,
        "created_time": created[0],
        "current_version": len(created),
        "custom_metadata": None,
        "delete_version_after": "0s",
        "max_versions": 0,
        "oldest_version": 0,
        # updated_time moves on metadata edits too; the ledger must not read it first
        "updated_time": "2099-01-01T00:00:00.000000000Z",
        "versions": versions,
    }


_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


class SecretsManagerStandIn(BaseHTTPRequestHandler):
    """``DescribeSecret`` of AWS Secrets Manager, with Signature Version 4 verified."""

    secrets: ClassVar[dict[str, dict[str, Any]]] = {}
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append({"path": self.path, **dict(self.headers)})
        if self.headers.get("X-Amz-Target") != "secretsmanager.DescribeSecret":
            self._error("UnknownOperationException", "unknown operation")
            return
        problem = self._signature_problem(body)
        if problem is not None:
            self._error(*problem)
            return
        secret_id = json.loads(body).get("SecretId")
        secret = self.secrets.get(secret_id)
        if secret is None:
            self._error("ResourceNotFoundException", "Secrets Manager can't find the secret.")
            return
        self._reply(200, secret)

    def _signature_problem(self, body: bytes) -> tuple[str, str] | None:
        match = _AUTH.match(self.headers.get("Authorization", ""))
        if match is None or match["service"] != "secretsmanager":
            return "IncompleteSignature", "malformed Authorization header"
        if match["key"] != AWS_KEYS.access_key:
            return "UnrecognizedClientException", "The security token included is invalid."
        stamp = self.headers.get("X-Amz-Date", "")
        if not stamp.startswith(match["day"]) or "x-amz-date" not in match["signed"].split(";"):
            return "IncompleteSignature", "X-Amz-Date is missing, unsigned or not the scope's day"
        request = _awsrequest.AWSRequest(
            method=self.command,
            url=f"http://{self.headers['Host']}{self.path}",
            data=body,
            headers={name: self.headers.get(name, "") for name in match["signed"].split(";")},
        )
        request.context["timestamp"] = stamp
        keys = _credentials.Credentials(
            AWS_KEYS.access_key, AWS_KEYS.secret_key, self.headers.get("X-Amz-Security-Token")
        )
        signer = _auth.SigV4Auth(keys, match["service"], match["region"])
        to_sign = signer.string_to_sign(request, signer.canonical_request(request))
        if signer.signature(to_sign, request) != match["signature"]:
            return (
                "InvalidSignatureException",
                "The request signature we calculated does not match.",
            )
        return None

    def _error(self, kind: str, message: str) -> None:
        self._reply(400, {"__type": kind, "message": message})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run ``handler`` on a loopback port; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
