"""The HTTP security probe: what a running service does with headers, sessions and bad input.

``run(url, settings, env)`` requests the pages and protected endpoints the settings name
and reports, as findings with a severity and a fix: missing security headers, cookies
without Secure/HttpOnly/SameSite, endpoints that answer without valid credentials, JWTs
that should be refused (``alg: none``, wrong signature, expired, wrong audience), sessions
that survive logout, malformed input answered with a 5xx, stack traces and server versions.
An unreachable service is one error line, never a list of findings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from gonogo.security import jwt
from gonogo.security.findings import Finding, Passed, Report
from gonogo.security.httpclient import (
    Credentials,
    Http,
    ProbeError,
    Reply,
    env_value,
    log_in,
    obtain,
    redact_url,
    scrub,
    session_token,
)
from gonogo.security.policy import Endpoint, MalformedRequest, ProbeSettings
from gonogo.security.probe_rules import RULES, cookie_problems, server_leaks, stack_trace

TOOL = "http-probe"
GARBAGE_TOKEN = "gonogo-probe-not-a-valid-session"  # noqa: S105 - a deliberately invalid token
JUNK_QUERY = "id=%27%22%3E%3Cgonogo&limit=-1&page=NaN"


@dataclass
class _Run:
    http: Http
    settings: ProbeSettings
    env: Mapping[str, str]

    def __post_init__(self) -> None:
        self.findings: list[Finding] = []
        self.passed: list[Passed] = []
        self.skipped: list[Passed] = []
        self.secrets: list[str] = []

    def wants(self, rule: str) -> bool:
        if rule in self.settings.skip:
            self.skipped.append(Passed(rule, "left out by `skip`"))
            return False
        return True

    def fail(self, rule: str, reason: str, where: str, subject: str = "") -> None:
        spec = RULES[rule]
        url = redact_url(self.http.url(where))
        self.findings.append(Finding(rule, spec.severity, url, None, reason, spec.fix, subject))

    def ok(self, rule: str, detail: str) -> None:
        self.passed.append(Passed(rule, detail))

    def skip(self, rule: str, why: str) -> None:
        if rule not in self.settings.skip:
            self.skipped.append(Passed(rule, why))

    def refused(self, reply: Reply) -> bool:
        return reply.status in self.settings.refused_status


def run(url: str, settings: ProbeSettings, env: Mapping[str, str]) -> Report:
    """Probe the service at ``url``; ProbeError when it cannot be reached."""
    with Http(
        url, timeout=settings.timeout, verify=settings.verify_tls, ca_file=settings.ca_file
    ) as http:
        probe = _Run(http, settings, env)
        pages = [http.request("GET", path) for path in settings.paths]
        creds = obtain(http, settings.auth, env) if settings.auth else None
        if creds is not None:
            probe.secrets.append(creds.token)
            if settings.auth and settings.auth.login:
                probe.secrets.append(env.get(settings.auth.login.password_env, ""))
        _headers(probe, pages, https=urlsplit(url).scheme == "https")
        _cookies(probe, list(http.replies))
        if settings.protected:
            _control(probe, creds)
            _access(probe, creds)
            _tokens(probe, creds)
        else:
            for rule in ("access.unauthenticated", "access.wrong-credentials", "session.logout"):
                probe.skip(rule, "no `protected` endpoints declared")
            for rule in (r for r in RULES if r.startswith("jwt.")):
                probe.skip(rule, "no `protected` endpoints declared")
        _malformed(probe, creds)
        if settings.protected:
            _logout(probe)
        _leaks(probe, http.replies)
    secrets = [s for s in probe.secrets if s]
    return Report(
        tool=TOOL,
        target=redact_url(url),
        findings=tuple(_scrubbed(f, secrets) for f in probe.findings),
        passed=tuple(Passed(p.rule, scrub(p.detail, secrets)) for p in probe.passed),
        skipped=tuple(probe.skipped),
    )


def _scrubbed(finding: Finding, secrets: list[str]) -> Finding:
    return Finding(
        finding.rule,
        finding.severity,
        finding.file,
        finding.line,
        scrub(finding.reason, secrets),
        finding.fix,
        scrub(finding.subject, secrets),
    )


def _headers(probe: _Run, pages: list[Reply], *, https: bool) -> None:
    first = pages[0].path
    checks = {
        "headers.csp": lambda r: bool(r.header("content-security-policy")),
        "headers.nosniff": lambda r: (
            (r.header("x-content-type-options") or "").strip().lower() == "nosniff"
        ),
        "headers.frame-options": _frame_protected,
    }
    for rule, holds in checks.items():
        if probe.wants(rule):
            missing = [p.label for p in pages if not holds(p)]
            if missing:
                probe.fail(rule, f"{RULES[rule].title} missing on {', '.join(missing)}", first)
            else:
                probe.ok(rule, f"{RULES[rule].title} on {len(pages)} page(s)")
    if not https:
        probe.skip("headers.hsts", "the URL is http: HSTS is checked on https only")
    elif probe.wants("headers.hsts"):
        weak = [p.label for p in pages if _hsts_age(p) < probe.settings.hsts_min_age]
        if weak:
            why = f"Strict-Transport-Security missing or max-age < {probe.settings.hsts_min_age}"
            probe.fail("headers.hsts", f"{why} on {', '.join(weak)}", first)
        else:
            probe.ok("headers.hsts", f"max-age >= {probe.settings.hsts_min_age} on every page")


def _frame_protected(reply: Reply) -> bool:
    if (reply.header("x-frame-options") or "").strip().upper() in {"DENY", "SAMEORIGIN"}:
        return True
    return "frame-ancestors" in (reply.header("content-security-policy") or "").lower()


def _hsts_age(reply: Reply) -> int:
    match = re.search(r"max-age\s*=\s*\"?(\d+)", reply.header("strict-transport-security") or "")
    return int(match.group(1)) if match else -1


def _cookies(probe: _Run, replies: list[Reply]) -> None:
    if not probe.wants("cookies.flags"):
        return
    problems: list[str] = []
    seen = 0
    for reply in replies:
        for raw in reply.all("set-cookie"):
            seen += 1
            problems += [f"{p} ({reply.label})" for p in cookie_problems(raw)]
    if not seen:
        probe.skip("cookies.flags", "no cookies were set")
    elif problems:
        probe.fail("cookies.flags", "; ".join(dict.fromkeys(problems)), replies[0].path)
    else:
        probe.ok("cookies.flags", f"{seen} cookie(s) with Secure, HttpOnly and SameSite")


def _control(probe: _Run, creds: Credentials | None) -> None:
    """A valid session must get through, or the refusals below prove nothing."""
    if creds is None:
        return
    for ep in probe.settings.protected:
        reply = probe.http.request(ep.method, ep.path, headers=creds.headers())
        if probe.refused(reply):
            raise ProbeError(
                f"{reply.label} refused the probe's valid session ({reply.status})",
                hint="check `auth`: the refusals the probe tests would prove nothing",
            )


def _access(probe: _Run, creds: Credentials | None) -> None:
    eps = probe.settings.protected
    if probe.wants("access.unauthenticated"):
        how = "without credentials"
        if _expect_refusal(probe, "access.unauthenticated", eps, [None], how):
            probe.ok("access.unauthenticated", f"{len(eps)} endpoint(s) refused requests {how}")
    if not probe.wants("access.wrong-credentials"):
        return
    garbage = (creds or Credentials("")).replaced(GARBAGE_TOKEN)
    refused = _expect_refusal(
        probe, "access.wrong-credentials", eps, [garbage], "with an invalid token"
    )
    detail = f"{len(eps)} endpoint(s) refused an invalid token"
    login = probe.settings.auth.login if probe.settings.auth else None
    if login is not None:
        user = env_value(probe.env, login.username_env, "the user name")
        password = env_value(probe.env, login.password_env, "the password") + "-wrong"
        reply = log_in(probe.http, login, user, password)
        if not 400 <= reply.status < 500 or session_token(reply, login):
            why = f"{reply.label} with a wrong password answered {reply.status}"
            probe.fail("access.wrong-credentials", why, login.path, reply.label)
            refused = False
        detail += f"; a wrong password got {reply.status}"
    if refused:
        probe.ok("access.wrong-credentials", detail)


def _expect_refusal(
    probe: _Run,
    rule: str,
    eps: tuple[Endpoint, ...],
    attempts: list[Credentials | None],
    how: str,
) -> bool:
    """Every endpoint refuses every attempt; one finding per endpoint that does not."""
    clean = True
    for ep in eps:
        for creds in attempts:
            headers = creds.headers() if creds else None
            reply = probe.http.request(ep.method, ep.path, headers=headers)
            if not probe.refused(reply):
                why = f"{reply.label} answered {reply.status} {how}"
                probe.fail(rule, why, ep.path, reply.label)
                clean = False
                break
    return clean


def _tokens(probe: _Run, creds: Credentials | None) -> None:
    rules = [r for r in RULES if r.startswith("jwt.")]
    if creds is None or jwt.decode(creds.token) is None:
        why = "no `auth` configured" if creds is None else "the session token is not a JWT"
        for rule in rules:
            probe.skip(rule, why)
        return
    forged: dict[str, tuple[list[str], str]] = {
        "jwt.alg-none": (jwt.alg_none(creds.token), 'with a token using alg "none"'),
        "jwt.bad-signature": ([jwt.bad_signature(creds.token)], "with a wrong signature"),
    }
    key_env = probe.settings.jwt.secret_env
    for rule, make, how in (
        ("jwt.expired", jwt.expired, "with an expired token"),
        ("jwt.wrong-audience", jwt.wrong_audience, "with a token for another audience"),
    ):
        if key_env is None:
            probe.skip(rule, "set `jwt.secret_env` to the HMAC key to forge it")
        elif not jwt.signable(creds.token):
            probe.skip(rule, "the token is not HMAC-signed (HS256/384/512)")
        else:
            key = env_value(probe.env, key_env, "the JWT signing key")
            probe.secrets.append(key)
            forged[rule] = ([make(creds.token, key.encode())], how)
    eps = probe.settings.protected
    for rule in rules:
        if rule in forged and probe.wants(rule):
            tokens, how = forged[rule]
            probe.secrets += tokens
            attempts: list[Credentials | None] = [creds.replaced(t) for t in tokens]
            if _expect_refusal(probe, rule, eps, attempts, how):
                probe.ok(rule, f"{len(eps)} endpoint(s) refused requests {how}")


def _malformed(probe: _Run, creds: Credentials | None) -> None:
    if not probe.wants("input.malformed"):
        return
    cases = probe.settings.malformed or _default_cases(probe.settings)
    if not cases:
        probe.skip("input.malformed", "no `malformed` requests and no endpoints to derive them")
        return
    for case in cases:
        headers = {"Content-Type": case.content_type}
        if case.authenticated and creds is not None:
            headers.update(creds.headers())
        body = case.body if case.method not in {"GET", "HEAD"} else None
        reply = probe.http.request(case.method, case.path, headers=headers, content=body)
        if reply.status >= 500:
            why = f"{reply.label} answered {reply.status} to malformed input"
            probe.fail("input.malformed", why, case.path, reply.label)
        elif case.expect_4xx and not 400 <= reply.status < 500:
            why = f"{reply.label} accepted malformed input ({reply.status})"
            probe.fail("input.malformed", why, case.path, reply.label)
    if not any(f.rule == "input.malformed" for f in probe.findings):
        probe.ok("input.malformed", f"{len(cases)} malformed request(s) got a 4xx")


def _default_cases(settings: ProbeSettings) -> tuple[MalformedRequest, ...]:
    cases: list[MalformedRequest] = []
    login = settings.auth.login if settings.auth else None
    if login is not None:
        cases.append(MalformedRequest(path=login.path, method=login.method, authenticated=False))
        wrong_types = '{"%s": ["gonogo"], "%s": {"x": 1}}' % (  # noqa: UP031 - braces in JSON
            login.username_field,
            login.password_field,
        )
        cases.append(
            MalformedRequest(
                path=login.path, method=login.method, body=wrong_types, authenticated=False
            )
        )
    for ep in settings.protected:
        if ep.method in {"POST", "PUT", "PATCH"}:
            cases.append(MalformedRequest(path=ep.path, method=ep.method))
        sep = "&" if "?" in ep.path else "?"
        cases.append(
            MalformedRequest(path=f"{ep.path}{sep}{JUNK_QUERY}", method=ep.method, expect_4xx=False)
        )
    return tuple(cases)


def _logout(probe: _Run) -> None:
    spec = probe.settings.logout
    if spec is None or probe.settings.auth is None:
        probe.skip("session.logout", "no `logout` endpoint (or no `auth`) configured")
        return
    if not probe.wants("session.logout"):
        return
    creds = obtain(probe.http, probe.settings.auth, probe.env)  # a fresh session to end
    probe.secrets.append(creds.token)
    reply = probe.http.request(spec.method, spec.path, headers=creds.headers())
    if not 200 <= reply.status < 400:
        probe.fail("session.logout", f"{reply.label} answered {reply.status}", spec.path)
        return
    ep = probe.settings.protected[0]
    after = probe.http.request(ep.method, ep.path, headers=creds.headers())
    if probe.refused(after):
        probe.ok(
            "session.logout", f"{after.label} refused the session after logout ({after.status})"
        )
    else:
        why = f"{after.label} still accepted the session after {reply.label} ({after.status})"
        probe.fail("session.logout", why, ep.path, after.label)


def _leaks(probe: _Run, replies: list[Reply]) -> None:
    if probe.wants("leaks.stack-trace"):
        traces: dict[str, tuple[Reply, str]] = {}
        for reply in replies:
            language = stack_trace(reply.body)
            if language:
                traces.setdefault(reply.label, (reply, language))
        for label, (reply, language) in traces.items():
            why = f"{label} returned a {language} stack trace (status {reply.status})"
            probe.fail("leaks.stack-trace", why, reply.path, label)
        if not traces:
            probe.ok("leaks.stack-trace", f"no stack trace in {len(replies)} response(s)")
    if probe.wants("leaks.server-version"):
        leaks = server_leaks(replies)
        for header, value, reply in leaks:
            probe.fail("leaks.server-version", f"{header}: {value} ({reply.label})", reply.path)
        if not leaks:
            probe.ok("leaks.server-version", "no Server version or X-Powered-By header")
