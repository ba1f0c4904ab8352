"""Where rotation dates are read: Vault KV v2 metadata and AWS Secrets Manager.

* **Vault**: ``GET /v1/MOUNT/metadata/PATH`` with ``X-Vault-Token``. The last rotation is
  the ``created_time`` of the secret's ``current_version`` (when its present value was
  written), else the metadata's ``updated_time``. The address is ``[security]
  vault_address`` or ``VAULT_ADDR``; the token is in the variable ``vault_token_env``
  names (default ``VAULT_TOKEN``), else ``~/.vault-token``; ``VAULT_NAMESPACE`` is sent.
* **AWS Secrets Manager**: ``DescribeSecret`` through boto3 (the ``aws`` extra), with
  the credentials of boto3's usual chain (environment, ``AWS_PROFILE`` and the shared
  files, SSO, container and instance roles). The last rotation is ``LastRotatedDate``,
  else ``LastChangedDate``. The region is the credential's ``aws_region``, the ARN's
  region, ``AWS_REGION``, ``AWS_DEFAULT_REGION`` or the profile's;
  ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` or ``AWS_ENDPOINT_URL`` point at another endpoint.

Every failure is a :class:`RotationLookupError`: one line, never a token or a key.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from gonogo.errors import GonogoError
from gonogo.policy.credentials import Security
from gonogo.security.credentials import Rotation, RotationLookupError, Tracked, parse_moment
from gonogo.security.httpclient import LOOPBACK, import_httpx, redact_url

TIMEOUT = 10.0


@dataclass(frozen=True)
class Sources:
    """Looks up a tracked credential's rotation in the store its declaration names."""

    security: Security
    environ: Mapping[str, str]
    timeout: float = TIMEOUT

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
        boto3, botocore_config, errors = import_boto3()
        endpoint = (
            self.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            or self.environ.get("AWS_ENDPOINT_URL")
            or None
        )
        where = (
            f"AWS Secrets Manager at {redact_url(endpoint)}" if endpoint else "AWS Secrets Manager"
        )
        try:
            session = boto3.session.Session()
            region = (
                region
                or _arn_region(secret_id)
                or self.environ.get("AWS_REGION")
                or self.environ.get("AWS_DEFAULT_REGION")
                or session.region_name
            )
            if not region:
                raise RotationLookupError(
                    f"no AWS region for secret {secret_id}",
                    hint="set `aws_region` on the credential, or AWS_REGION",
                )
            client = session.client(
                "secretsmanager",
                region_name=region,
                endpoint_url=endpoint,
                config=botocore_config.Config(
                    connect_timeout=self.timeout,
                    read_timeout=self.timeout,
                    retries={"mode": "standard", "total_max_attempts": 2},
                ),
            )
            reply = client.describe_secret(SecretId=secret_id)
        except (errors.ClientError, errors.BotoCoreError) as exc:
            raise _aws_error(exc, errors, secret_id, where) from None
        return _aws_rotation(reply, secret_id)

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


def import_boto3() -> tuple[Any, Any, Any]:
    """boto3, ``botocore.config`` and ``botocore.exceptions``, or an error naming the extra."""
    try:  # the optional extra, imported on first use; boto3 ships no type information
        boto3 = importlib.import_module("boto3")
        botocore_config = importlib.import_module("botocore.config")
        errors = importlib.import_module("botocore.exceptions")
    except ImportError:
        raise RotationLookupError(
            "reading rotation dates from AWS Secrets Manager needs boto3",
            hint="pip install 'gonogo[aws]'",
        ) from None
    return boto3, botocore_config, errors


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]


_BAD_CREDENTIALS = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"}
)
_BAD_SIGNATURE = frozenset(
    {"InvalidSignatureException", "IncompleteSignature", "SignatureDoesNotMatch"}
)


def _aws_error(exc: Exception, errors: Any, secret_id: str, where: str) -> RotationLookupError:
    """One line for what boto3 raised; botocore's messages never hold key material."""
    if isinstance(exc, errors.ClientError):
        return _aws_refusal(exc.response, secret_id)
    if isinstance(exc, errors.NoCredentialsError | errors.PartialCredentialsError):
        return RotationLookupError(
            f"no AWS credentials to call Secrets Manager ({type(exc).__name__})",
            hint="configure them as for the AWS CLI: AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO or an instance role",
        )
    if isinstance(exc, errors.ConnectionError | errors.HTTPClientError):
        return RotationLookupError(
            f"cannot reach {where} ({type(exc).__name__})",
            hint="check the endpoint and the network",
        )
    if isinstance(exc, errors.ProfileNotFound):
        return RotationLookupError(
            f"AWS profile {getattr(exc, 'kwargs', {}).get('profile')!r} is not configured",
            hint="check AWS_PROFILE and ~/.aws/config",
        )
    return RotationLookupError(
        f"cannot call {where}: {type(exc).__name__}: {_first_line(str(exc))}"
    )


def _aws_refusal(response: Any, secret_id: str) -> RotationLookupError:
    response = response if isinstance(response, dict) else {}
    error = response.get("Error") or {}
    kind = str(error.get("Code") or "")
    if kind == "ResourceNotFoundException":
        return RotationLookupError(f"AWS Secrets Manager has no secret {secret_id}")
    if kind == "AccessDeniedException":
        return RotationLookupError(
            f"AWS refused DescribeSecret on {secret_id} ({kind})",
            hint="the identity needs secretsmanager:DescribeSecret on it",
        )
    if kind in _BAD_CREDENTIALS:
        return RotationLookupError(
            f"AWS did not accept the credentials calling DescribeSecret on {secret_id} ({kind})",
            hint="check the access key, or renew the session (e.g. `aws sso login`)",
        )
    if kind in _BAD_SIGNATURE:
        return RotationLookupError(
            f"AWS did not accept the request signature for {secret_id} ({kind})",
            hint="check the secret access key and the machine's clock",
        )
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    label = f" ({kind})" if kind else ""
    return RotationLookupError(f"AWS Secrets Manager answered {status}{label} for {secret_id}")


def _aws_rotation(reply: Any, secret_id: str) -> Rotation:
    for key in ("LastRotatedDate", "LastChangedDate"):
        value = reply.get(key) if isinstance(reply, dict) else None
        if isinstance(value, datetime):
            at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return Rotation(
                at=at.astimezone(UTC),
                source="aws",
                detail=f"AWS Secrets Manager {secret_id}, {key}",
            )
    raise RotationLookupError(
        f"{secret_id}: DescribeSecret reports neither LastRotatedDate nor LastChangedDate"
    )
