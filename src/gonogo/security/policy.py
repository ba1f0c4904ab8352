"""Configuration of the HTTP probe, the audit-log check and the incident-hook check.

These are the criterion ``params`` of the ``http-probe``, ``audit-log`` and
``incident-hooks`` check types, and the tables of ``gonogo security probe|hooks --config``.
Secrets never appear here: the models name the environment variables that hold them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, model_validator

from gonogo.checks.interface import CheckParams
from gonogo.security.findings import SecurityInputError, Severity
from gonogo.strict import StrictModel

M = TypeVar("M", bound=BaseModel)

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class Endpoint(StrictModel):
    """A protected endpoint: it must refuse requests without valid credentials."""

    path: str = Field(min_length=1)
    method: Method = "GET"


class LoginSpec(StrictModel):
    """How to log in: the endpoint, and the environment variables holding the credentials."""

    path: str = "/login"
    method: Method = "POST"
    username_env: str
    password_env: str
    username_field: str = "username"
    password_field: str = "password"  # noqa: S105 - a field name, not a password
    form: bool = False
    """Send the credentials as an HTML form instead of JSON."""
    token_field: str | None = "token"  # noqa: S105 - a field name, not a token
    """JSON field of the response holding the token (dotted for nested: ``data.token``)."""
    cookie: str | None = None
    """The session cookie the login sets, when the session lives in a cookie."""

    @model_validator(mode="after")
    def _one_carrier(self) -> LoginSpec:
        if self.token_field is None and self.cookie is None:
            raise ValueError("say where the session is: `token_field` or `cookie`")
        return self


class AuthSpec(StrictModel):
    """How to obtain valid credentials: a login endpoint, or a token in an environment variable."""

    login: LoginSpec | None = None
    token_env: str | None = None
    header: str = "Authorization"
    scheme: str = "Bearer"

    @model_validator(mode="after")
    def _one_source(self) -> AuthSpec:
        if (self.login is None) == (self.token_env is None):
            raise ValueError("give exactly one of `login` or `token_env`")
        return self


class JwtSpec(StrictModel):
    """What the probe needs to forge expired and wrong-audience tokens."""

    secret_env: str | None = None
    """Environment variable holding the HMAC key (HS256/384/512) of the staging service."""


class LogoutSpec(StrictModel):
    """The logout endpoint; after it, the old session must be refused."""

    path: str = Field(min_length=1)
    method: Method = "POST"


class MalformedRequest(StrictModel):
    """A request with malformed input: it must get a 4xx (never a 5xx)."""

    path: str = Field(min_length=1)
    method: Method = "POST"
    body: str = "{"
    content_type: str = "application/json"
    authenticated: bool = True
    expect_4xx: bool = True
    """When false, only a 5xx fails (for input a service may rightly ignore)."""


class ProbeSettings(CheckParams):
    """What the HTTP probe checks, apart from the URL (``--config`` file of ``security probe``)."""

    paths: tuple[str, ...] = Field(default=("/",), min_length=1)
    protected: tuple[Endpoint, ...] = ()
    auth: AuthSpec | None = None
    jwt: JwtSpec = JwtSpec()
    logout: LogoutSpec | None = None
    malformed: tuple[MalformedRequest, ...] = ()
    refused_status: tuple[int, ...] = (401, 403)
    hsts_min_age: int = Field(default=15_552_000, ge=0)
    skip: tuple[str, ...] = ()
    timeout: float = Field(default=10.0, gt=0, le=300)
    verify_tls: bool = True
    ca_file: str | None = None


class HttpProbeParams(ProbeSettings):
    """Parameters of the ``http-probe`` check."""

    url: str = Field(min_length=1)
    fail_on: Severity = Severity.LOW


class AuditRequest(StrictModel):
    """The request that should produce an audit event."""

    action: Literal["request", "login", "logout"] = "request"
    """``login`` and ``logout`` use the ``auth`` and ``logout`` settings."""
    method: Method = "GET"
    path: str = "/"
    json_body: dict[str, Any] | None = None
    authenticated: bool = False


class AuditEventSpec(StrictModel):
    """An event the service must write one structured audit line for."""

    event: str = Field(min_length=1)
    request: AuditRequest = AuditRequest()
    fields: dict[str, str | int | bool] = Field(default_factory=dict)
    """Other fields the line must carry with these values."""


class AuditLogSettings(CheckParams):
    """How to exercise the service and where its audit log is."""

    url: str = Field(min_length=1)
    log: str = Field(min_length=1)
    events: tuple[AuditEventSpec, ...] = Field(min_length=1)
    event_field: str = "event"
    required_fields: tuple[str, ...] = ("timestamp",)
    auth: AuthSpec | None = None
    logout: LogoutSpec | None = None
    wait: float = Field(default=5.0, ge=0, le=120)
    timeout: float = Field(default=10.0, gt=0, le=300)


class HookSpec(StrictModel):
    """An incident hook to send a test event to."""

    name: str = Field(min_length=1)
    kind: Literal["pagerduty", "alertmanager", "slack"]
    url: str | None = None
    url_env: str | None = None
    """Environment variable holding the URL (Slack webhook URLs are secrets)."""
    routing_key_env: str | None = None
    """PagerDuty: the environment variable holding the integration's routing key."""
    headers_env: dict[str, str] = Field(default_factory=dict)
    """Header name → environment variable holding its value (e.g. a bearer token)."""
    resolve: bool = True
    """PagerDuty and Alertmanager: resolve the test event right after triggering it."""

    @model_validator(mode="after")
    def _target(self) -> HookSpec:
        if self.url is not None and self.url_env is not None:
            raise ValueError("give `url` or `url_env`, not both")
        if self.kind != "pagerduty" and self.url is None and self.url_env is None:
            raise ValueError(f"a {self.kind} hook needs `url` or `url_env`")
        if self.kind == "pagerduty" and self.routing_key_env is None:
            raise ValueError("a pagerduty hook needs `routing_key_env`")
        return self


class IncidentHooksParams(CheckParams):
    """Parameters of the ``incident-hooks`` check."""

    hooks: tuple[HookSpec, ...] = Field(min_length=1)
    timeout: float = Field(default=10.0, gt=0, le=300)


class AuditLogParams(AuditLogSettings):
    """Parameters of the ``audit-log`` check."""


class HooksConfig(CheckParams):
    """The ``--config`` file of ``gonogo security hooks``: hooks, and optionally the audit log."""

    hooks: tuple[HookSpec, ...] = ()
    timeout: float = Field(default=10.0, gt=0, le=300)
    audit_log: AuditLogSettings | None = None


def load_config(path: Path, model: type[M], **extra: Any) -> M:
    """Read a TOML config file into ``model``; one clear line when it is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SecurityInputError(f"no config file at {path}", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecurityInputError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SecurityInputError(f"{path}: invalid TOML: {exc}") from None
    return validate(model, {**data, **extra}, str(path))


def validate(model: type[M], data: Any, where: str) -> M:
    """``model`` from ``data``; a validation error becomes one line naming the key path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SecurityInputError(f"{where}: {key}: {first['msg']}{more}") from None
