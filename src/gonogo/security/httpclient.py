"""HTTP plumbing shared by the probe and the hook checks: requests, replies, logging in.

httpx comes with the ``sync`` extra and is imported only when a request is made. Every
reply is kept (status, headers, a bounded body) so later checks can look for leaks. The
client keeps no cookies between requests: each request carries exactly the credentials it
is given. Credentials come from environment variables and never appear in messages.
"""

from __future__ import annotations

import json as jsonlib
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from gonogo.errors import ConfigError, GonogoError
from gonogo.security.findings import SecurityInputError
from gonogo.security.policy import AuthSpec, LoginSpec

if TYPE_CHECKING:
    import httpx

BODY_LIMIT = 65_536
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class ProbeError(GonogoError):
    """The service could not be reached, or refused the probe's own valid session."""


def import_httpx() -> ModuleType:
    """httpx, or an error naming the extra that provides it."""
    try:
        import httpx  # noqa: PLC0415 - optional extra, imported when first needed
    except ImportError:
        raise ConfigError("the HTTP checks need httpx", hint="pip install 'gonogo[sync]'") from None
    return httpx


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment (they may hold secrets).

    A URL too malformed to parse (a bad port, an unclosed ``[``) keeps its scheme, host and
    path, still without the user info, query or fragment.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _redact_text(url)
    if not parts.netloc:  # ``user:password@host`` without ``//`` parses as a path
        return _redact_text(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _redact_text(url: str) -> str:
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    scheme, sep, rest = head.rpartition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = authority.rpartition("@")[2]
    elif not sep and "@" in head:  # no ``//``: whatever precedes the ``@`` is user info
        authority, slash, path = head.rpartition("@")[2], "", ""
        scheme = ""
    return f"{scheme}{sep}{authority}{slash}{path}"


def check_url(
    url: str, *, hint: str = "give the full URL, e.g. https://staging.example.com"
) -> str:
    """``url`` if it is an absolute http(s) URL with a valid host and port, else one line."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number in 0-65535 raises here
    except ValueError as exc:
        raise SecurityInputError(
            f"not a valid URL: {redact_url(url)!r} ({exc})", hint=hint
        ) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SecurityInputError(f"not an http(s) URL: {redact_url(url)!r}", hint=hint)
    return url


@dataclass(frozen=True)
class Reply:
    """One response: the request that got it, status, headers (lower-case names), body."""

    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str

    @property
    def label(self) -> str:
        """``GET /orders`` (without the query)."""
        return f"{self.method} {self.path.split('?', 1)[0]}"

    def header(self, name: str) -> str | None:
        """The first value of header ``name``."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    def all(self, name: str) -> list[str]:
        """Every value of header ``name``."""
        return [v for k, v in self.headers if k == name.lower()]


class Http:
    """A client bound to one base URL that records every reply."""

    def __init__(
        self, url: str, *, timeout: float, verify: bool = True, ca_file: str | None = None
    ) -> None:
        lib = import_httpx()
        self.base = check_url(url).rstrip("/")
        self.timeout = timeout
        tls: ssl.SSLContext | bool = verify
        if ca_file is not None:
            try:
                tls = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise SecurityInputError(f"cannot use CA file {ca_file}: {exc}") from None
        loopback = (urlsplit(url).hostname or "") in LOOPBACK
        self._httpx = lib
        self._client: httpx.Client = lib.Client(
            timeout=timeout, verify=tls, follow_redirects=False, trust_env=not loopback
        )
        self.replies: list[Reply] = []

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (a path, or already absolute)."""
        return path if "://" in path else f"{self.base}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request; an unreachable service is a ProbeError (one line)."""
        url = self.url(path)
        try:
            response = self._client.request(
                method, url, headers=dict(headers or {}), content=content, json=json, data=data
            )
            body = response.content[:BODY_LIMIT].decode("utf-8", "replace")
        except self._httpx.TimeoutException:
            raise ProbeError(
                f"{redact_url(url)}: no answer within {self.timeout:g}s",
                hint="check that the service is up, or raise `timeout`",
            ) from None
        except self._httpx.InvalidURL as exc:
            raise SecurityInputError(
                f"cannot request {redact_url(url)!r}: {str(exc).rstrip('.')}",
                hint="fix the path or URL in the settings (no spaces or control characters)",
            ) from None
        except self._httpx.HTTPError as exc:
            reason = re.sub(r"^\[Errno -?\d+\] ", "", str(exc)) or type(exc).__name__
            raise ProbeError(
                f"cannot reach {redact_url(url)}: {reason}",
                hint="check the URL and that the service is running",
            ) from None
        finally:
            self._client.cookies.clear()
        reply = Reply(
            method=method,
            path=path,
            status=response.status_code,
            headers=tuple((k.lower(), v) for k, v in response.headers.multi_items()),
            body=body,
        )
        self.replies.append(reply)
        return reply


@dataclass(frozen=True)
class Credentials:
    """A valid session: the token and how it travels (a header or a cookie)."""

    token: str = field(repr=False)
    header: str | None = None
    scheme: str = "Bearer"
    cookie: str | None = None

    def headers(self) -> dict[str, str]:
        """The request headers that carry this session."""
        if self.cookie is not None:
            return {"Cookie": f"{self.cookie}={self.token}"}
        value = f"{self.scheme} {self.token}" if self.scheme else self.token
        return {self.header or "Authorization": value}

    def replaced(self, token: str) -> Credentials:
        """The same carrier with another token (a forged one)."""
        return Credentials(token, self.header, self.scheme, self.cookie)


def env_value(env: Mapping[str, str], name: str, what: str) -> str:
    """The value of environment variable ``name``; a one-line error when unset."""
    value = env.get(name)
    if not value:
        raise SecurityInputError(
            f"environment variable {name} ({what}) is not set", hint=f"export {name}"
        )
    return value


def obtain(http: Http, auth: AuthSpec, env: Mapping[str, str]) -> Credentials:
    """Valid credentials: from the token variable, or by logging in."""
    if auth.token_env is not None:
        token = env_value(env, auth.token_env, "the token")
        return Credentials(token, auth.header, auth.scheme)
    login = auth.login
    assert login is not None  # noqa: S101 - the model requires one of the two
    username = env_value(env, login.username_env, "the user name")
    password = env_value(env, login.password_env, "the password")
    reply = log_in(http, login, username, password)
    if not 200 <= reply.status < 300:
        raise ProbeError(
            f"login with {reply.label} failed with status {reply.status}",
            hint=f"check ${login.username_env} and ${login.password_env}",
        )
    session = session_token(reply, login)
    if not session:
        where = f"cookie {login.cookie}" if login.cookie else f"field {login.token_field}"
        raise ProbeError(
            f"login with {reply.label} succeeded but returned no {where}",
            hint="set `token_field` or `cookie` to where the session is",
        )
    if login.cookie is not None:
        return Credentials(session, cookie=login.cookie)
    return Credentials(session, auth.header, auth.scheme)


def log_in(http: Http, login: LoginSpec, username: str, password: str) -> Reply:
    """Send the login request with these credentials."""
    fields = {login.username_field: username, login.password_field: password}
    if login.form:
        return http.request(login.method, login.path, data=fields)
    return http.request(login.method, login.path, json=fields)


def session_token(reply: Reply, login: LoginSpec) -> str | None:
    """The session token a login reply carries (JSON field or cookie), or None."""
    if login.cookie is not None:
        for raw in reply.all("set-cookie"):
            name, _, rest = raw.partition("=")
            if name.strip() == login.cookie:
                return rest.split(";", 1)[0].strip() or None
        return None
    try:
        value: Any = jsonlib.loads(reply.body)
    except ValueError:
        return None
    for key in (login.token_field or "").split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (belt and braces before output).

    A secret may reach a message escaped (an HTTP library quoting a header value as
    ``b'abc\\ndef'``), so its escaped forms are replaced too.
    """
    forms = {
        form
        for secret in secrets
        if len(secret) >= 4
        for form in (
            secret,
            secret.encode("unicode_escape").decode("ascii"),
            repr(secret)[1:-1],
            repr(secret.encode("utf-8", "replace"))[2:-1],
        )
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text
