"""The HTTP probe's rules: severity and fix of each, and the pattern matchers they use."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gonogo.security.findings import Severity

if TYPE_CHECKING:
    from gonogo.security.httpclient import Reply


@dataclass(frozen=True)
class Rule:
    """One property the probe verifies."""

    id: str
    severity: Severity
    title: str
    fix: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "headers.csp",
            Severity.MEDIUM,
            "Content-Security-Policy",
            "send Content-Security-Policy, e.g. default-src 'self'; frame-ancestors 'none'",
        ),
        Rule(
            "headers.hsts",
            Severity.MEDIUM,
            "Strict-Transport-Security",
            "send Strict-Transport-Security: max-age=31536000; includeSubDomains",
        ),
        Rule(
            "headers.nosniff",
            Severity.LOW,
            "X-Content-Type-Options: nosniff",
            "send X-Content-Type-Options: nosniff",
        ),
        Rule(
            "headers.frame-options",
            Severity.MEDIUM,
            "X-Frame-Options or CSP frame-ancestors",
            "send X-Frame-Options: DENY, or frame-ancestors 'none' in the CSP",
        ),
        Rule(
            "cookies.flags",
            Severity.MEDIUM,
            "cookie flags",
            "set cookies with Secure; HttpOnly; SameSite=Lax (or Strict)",
        ),
        Rule(
            "access.unauthenticated",
            Severity.CRITICAL,
            "refuses requests without credentials",
            "require authentication on the endpoint (deny by default in the router)",
        ),
        Rule(
            "access.wrong-credentials",
            Severity.CRITICAL,
            "refuses invalid credentials",
            "verify the token on every request and refuse a wrong password with 401",
        ),
        Rule(
            "jwt.alg-none",
            Severity.CRITICAL,
            'refuses alg "none"',
            "pin the accepted algorithms when verifying (e.g. algorithms=['HS256'])",
        ),
        Rule(
            "jwt.bad-signature",
            Severity.CRITICAL,
            "refuses a wrong signature",
            "verify the signature of every token with the service's key",
        ),
        Rule(
            "jwt.expired",
            Severity.HIGH,
            "refuses an expired token",
            "verify exp (and nbf) on every token, with at most a small leeway",
        ),
        Rule(
            "jwt.wrong-audience",
            Severity.HIGH,
            "refuses a token for another audience",
            "verify aud against the service's own audience",
        ),
        Rule(
            "session.logout",
            Severity.HIGH,
            "logout ends the session",
            "revoke the session server-side on logout (deny-list the token id, delete the session)",
        ),
        Rule(
            "input.malformed",
            Severity.MEDIUM,
            "malformed input gets a 4xx",
            "validate input and answer 400 or 422; never let a parse error become a 500",
        ),
        Rule(
            "leaks.stack-trace",
            Severity.MEDIUM,
            "no stack traces",
            "turn debug output off and return a generic error body; log the trace instead",
        ),
        Rule(
            "leaks.server-version",
            Severity.LOW,
            "no server versions",
            "drop X-Powered-By and the version from Server (server_tokens off in nginx)",
        ),
    )
}

#: language → a pattern only its stack traces show
STACK_TRACES = {
    "Python": re.compile(r'Traceback \(most recent call last\)|File "[^"]+", line \d+, in '),
    "Java": re.compile(r"\bat [\w$.]+\([\w$]+\.java:\d+\)|Exception in thread \""),
    ".NET": re.compile(r"\bat [\w.`<>]+\(.*\) in .+:line \d+"),
    "Node.js": re.compile(r"\bat .+\(?/[\w./-]+\.[cm]?js:\d+:\d+\)?"),
    "PHP": re.compile(r"(?:Fatal error|Parse error|Warning)(?:</b>)?: .+ on line (?:<b>)?\d+"),
    "Go": re.compile(r"goroutine \d+ \[running\]:"),
    "Ruby": re.compile(r"\.rb:\d+:in [`']"),
}

VERSION = re.compile(r"\d+\.\d+")
ALWAYS_LEAKY = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version")


def stack_trace(body: str) -> str | None:
    """The language of a stack trace in ``body``, or None."""
    return next((lang for lang, pattern in STACK_TRACES.items() if pattern.search(body)), None)


def cookie_problems(set_cookie: str) -> list[str]:
    """What a ``Set-Cookie`` value lacks: Secure, HttpOnly, a sound SameSite."""
    name, _, rest = set_cookie.partition("=")
    attributes = {}
    for part in rest.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.strip().lower()] = value.strip()
    if attributes.get("max-age") == "0":
        return []  # a cookie being deleted
    missing = [flag for flag in ("Secure", "HttpOnly") if flag.lower() not in attributes]
    same_site = attributes.get("samesite", "").lower()
    if not same_site:
        missing.append("SameSite")
    elif same_site == "none" and "secure" not in attributes:
        missing.append("Secure with SameSite=None")
    elif same_site not in {"lax", "strict", "none"}:
        missing.append("a valid SameSite")
    return [f"cookie {name.strip()} lacks {', '.join(missing)}"] if missing else []


def server_leaks(replies: Iterable[Reply]) -> list[tuple[str, str, Reply]]:
    """Distinct headers that name the server software's version (or the framework)."""
    found: dict[tuple[str, str], Reply] = {}
    for reply in replies:
        for header, value in reply.headers:
            leaky = header in ALWAYS_LEAKY or (header == "server" and VERSION.search(value))
            if leaky:
                found.setdefault((header, value), reply)
    return [(_title(h), v, r) for (h, v), r in found.items()]


def _title(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))
