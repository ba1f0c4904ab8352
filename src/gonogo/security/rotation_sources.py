"""Where rotation dates are read: Vault KV v2 metadata and AWS Secrets Manager.

* **Vault**: ``GET /v1/MOUNT/metadata/PATH`` with ``X-Vault-Token``. The last rotation is
  the ``created_time`` of the secret's ``current_version`` (when its present value was
  written), else the metadata's ``updated_time``. The address is ``[security]
  vault_address`` or ``VAULT_ADDR``; the token is in the variable ``vault_token_env``
  names (default ``VAULT_TOKEN``), else ``~/.vault-token``; ``VAULT_NAMESPACE`` is sent.
* **AWS Secrets Manager**: ``DescribeSecret`` over its JSON API, signed with SigV4 using
  ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``. The last
  rotation is ``LastRotatedDate``, else ``LastChangedDate``. The region is the
  credential's ``aws_region``, the ARN's region, ``AWS_REGION`` or ``AWS_DEFAULT_REGION``;
  ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` or ``AWS_ENDPOINT_URL`` point at another endpoint.

Every failure is a :class:`RotationLookupError`: one line, never a token or a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from gonogo.clock import Clock, SystemClock
from gonogo.errors import GonogoError
from gonogo.policy.credentials import Security
from gonogo.security.credentials import Rotation, RotationLookupError, Tracked, parse_moment
from gonogo.security.httpclient import LOOPBACK, import_httpx, redact_url
from gonogo.security.sigv4 import AwsCredentials, sign

TIMEOUT = 10.0
_AWS_TARGET = "secretsmanager.DescribeSecret"


@dataclass(frozen=True)
class Sources:
    """Looks up a tracked credential's rotation in the store its declaration names."""

    security: Security
    environ: Mapping[str, str]
    timeout: float = TIMEOUT
    clock: Clock = field(default_factory=SystemClock)

    def __call__(self, credential: Tracked) -> Rotation | None:
        """The rotation Vault or AWS reports, or None when neither holds the credential."""
        if credential.vault is not None:
            return self.vault(credential.vault)
        if credential.aws_secret is not None:
            region = credential.declared.aws_region if credential.declared else None
            return self.aws(credential.aws_secret, region)
        return None

    # -- Vault ------------------------------------------------------------------------------

    def vault(self, path: str) -> Rotation:
        """The current version's creation time from Vault's KV v2 metadata of ``path``."""
        address = self.security.vault_address or self.environ.get("VAULT_ADDR")
        if not address:
            raise RotationLookupError(
                f"no Vault address to read {path}",
                hint="set VAULT_ADDR or `vault_address` under [security]",
            )
        mount, _, rest = path.partition("/")
        for prefix in ("data/", "metadata/"):
            rest = rest.removeprefix(prefix)
        headers = {"X-Vault-Token": self._vault_token()}
        namespace = self.environ.get("VAULT_NAMESPACE")
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        url = f"{address.rstrip('/')}/v1/{quote(mount)}/metadata/{quote(rest)}"
        status, body = self._send("GET", url, headers, None, what=f"Vault at {redact_url(address)}")
        where = f"{mount}/{rest}"
        if status == 403:
            raise RotationLookupError(
                f"Vault refused to read the metadata of {where} (403)",
                hint=f"the token needs `read` on {mount}/metadata/{rest}",
            )
        if status == 404:
            raise RotationLookupError(f"Vault has no KV v2 secret at {where} (404)")
        if status != 200:
            raise RotationLookupError(f"Vault answered {status} reading the metadata of {where}")
        return _vault_rotation(body, where)

    def _vault_token(self) -> str:
        name = self.security.vault_token_env
        token = self.environ.get(name)
        if not token and "HOME" in self.environ:
            try:
                token = (Path(self.environ["HOME"]) / ".vault-token").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                token = None
        if not token or not token.strip():
            raise RotationLookupError(
                "no Vault token", hint=f"set {name} (or `vault_token_env` under [security])"
            )
        return token.strip()

    # -- AWS Secrets Manager ----------------------------------------------------------------

    def aws(self, secret_id: str, region: str | None) -> Rotation:
        """``LastRotatedDate`` (else ``LastChangedDate``) of ``secret_id`` from DescribeSecret."""
        region = (
            region
            or _arn_region(secret_id)
            or self.environ.get("AWS_REGION")
            or self.environ.get("AWS_DEFAULT_REGION")
        )
        if not region:
            raise RotationLookupError(
                f"no AWS region for secret {secret_id}",
                hint="set `aws_region` on the credential, or AWS_REGION",
            )
        keys = self._aws_credentials()
        endpoint = (
            self.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            or self.environ.get("AWS_ENDPOINT_URL")
            or f"https://secretsmanager.{region}.amazonaws.com"
        )
        url = endpoint.rstrip("/") + "/"
        body = json.dumps({"SecretId": secret_id}).encode()
        headers = sign(
            "POST",
            url,
            {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": _AWS_TARGET},
            body,
            credentials=keys,
            region=region,
            service="secretsmanager",
            now=self.clock.now(),
        )
        status, reply = self._send(
            "POST", url, headers, body, what=f"AWS Secrets Manager at {redact_url(url)}"
        )
        if status != 200:
            raise _aws_error(status, reply, secret_id)
        return _aws_rotation(reply, secret_id)

    def _aws_credentials(self) -> AwsCredentials:
        access = self.environ.get("AWS_ACCESS_KEY_ID")
        secret = self.environ.get("AWS_SECRET_ACCESS_KEY")
        if not access or not secret:
            raise RotationLookupError(
                "no AWS credentials to call Secrets Manager",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)",
            )
        return AwsCredentials(access, secret, self.environ.get("AWS_SESSION_TOKEN") or None)

    # -- HTTP -------------------------------------------------------------------------------

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, *, what: str
    ) -> tuple[int, Any]:
        try:
            httpx = import_httpx()
        except GonogoError as exc:
            raise RotationLookupError(exc.message, hint=exc.hint) from None
        loopback = (urlsplit(url).hostname or "") in LOOPBACK
        try:
            with httpx.Client(timeout=self.timeout, trust_env=not loopback) as client:
                response = client.request(method, url, headers=dict(headers), content=body)
        except httpx.HTTPError as exc:
            raise RotationLookupError(
                f"cannot reach {what} ({type(exc).__name__})",
                hint="check the address and that it is running",
            ) from None
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        return response.status_code, payload


def _vault_rotation(body: Any, where: str) -> Rotation:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise RotationLookupError(f"{where}: Vault's answer is not KV v2 metadata")
    current = data.get("current_version")
    versions = data.get("versions")
    created = None
    if isinstance(versions, dict) and current is not None:
        version = versions.get(str(current))
        created = version.get("created_time") if isinstance(version, dict) else None
    text = created or data.get("updated_time")
    if not isinstance(text, str) or not text:
        raise RotationLookupError(f"{where}: Vault's metadata has no creation time")
    try:
        moment = parse_moment(text)
    except ValueError:
        raise RotationLookupError(f"{where}: Vault's time {text[:40]!r} is not ISO 8601") from None
    detail = f"Vault {where}, version {current}" if current is not None else f"Vault {where}"
    return Rotation(at=moment, source="vault", detail=detail)


def _arn_region(secret_id: str) -> str | None:
    parts = secret_id.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "secretsmanager" and parts[3]:
        return parts[3]
    return None


def _aws_error(status: int, reply: Any, secret_id: str) -> RotationLookupError:
    kind = ""
    if isinstance(reply, dict):
        kind = str(reply.get("__type") or "").rsplit("#", 1)[-1]
    if kind == "ResourceNotFoundException":
        return RotationLookupError(f"AWS Secrets Manager has no secret {secret_id}")
    if kind in {"AccessDeniedException", "UnrecognizedClientException"}:
        return RotationLookupError(
            f"AWS refused DescribeSecret on {secret_id} ({kind})",
            hint="the identity needs secretsmanager:DescribeSecret on it",
        )
    if kind in {"InvalidSignatureException", "IncompleteSignature"}:
        return RotationLookupError(
            f"AWS did not accept the request signature for {secret_id} ({kind})",
            hint="check AWS_SECRET_ACCESS_KEY and the machine's clock",
        )
    label = f" ({kind})" if kind else ""
    return RotationLookupError(f"AWS Secrets Manager answered {status}{label} for {secret_id}")


def _aws_rotation(reply: Any, secret_id: str) -> Rotation:
    if not isinstance(reply, dict):
        raise RotationLookupError(f"{secret_id}: DescribeSecret did not answer with JSON")
    for key in ("LastRotatedDate", "LastChangedDate"):
        value = reply.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Rotation(
                at=datetime.fromtimestamp(float(value), UTC),
                source="aws",
                detail=f"AWS Secrets Manager {secret_id}, {key}",
            )
    raise RotationLookupError(
        f"{secret_id}: DescribeSecret reports neither LastRotatedDate nor LastChangedDate"
    )
