"""Audit logging and incident hooks: are they active?

``check_audit_log`` exercises the service (the requests the settings list), then reads
the lines its audit log gained and reports each declared event that has no structured
(JSON) line, lines that are not JSON, lines missing required fields, and secrets written
to the log. ``check_hooks`` sends a test event to each incident hook (PagerDuty Events
v2, an Alertmanager-style webhook, a Slack incoming webhook) and reports those that do not
accept it with a 2xx. URLs and keys held in environment variables are never shown.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gonogo.security.findings import Finding, Passed, Report, SecurityInputError, Severity
from gonogo.security.httpclient import (
    Credentials,
    Http,
    ProbeError,
    Reply,
    env_value,
    obtain,
    redact_url,
    scrub,
)
from gonogo.security.policy import AuditEventSpec, AuditLogSettings, HookSpec

AUDIT_TOOL = "audit-log"
HOOKS_TOOL = "incident-hooks"
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY = "gonogo test event: incident hook check (no action needed)"

_AUDIT_FIXES = {
    "audit.missing-log": "write audit events as JSON lines to the configured log file",
    "audit.missing-event": "emit one JSON audit line for the event, named in the event field",
    "audit.fields": "include the required fields in every audit line",
    "audit.unstructured": "write audit lines as JSON objects, one per line",
    "audit.secret": "never log passwords or tokens; log the actor and a session id instead",
}
_AUDIT_SEVERITY = {
    "audit.missing-log": Severity.HIGH,
    "audit.missing-event": Severity.HIGH,
    "audit.fields": Severity.MEDIUM,
    "audit.unstructured": Severity.MEDIUM,
    "audit.secret": Severity.HIGH,
}


def check_audit_log(
    settings: AuditLogSettings,
    log: Path,
    env: Mapping[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    label: str | None = None,
) -> Report:
    """Exercise the service, then check its audit log for one JSON line per declared event."""
    name = label or str(log)
    start = log.stat().st_size if log.is_file() else 0
    secrets: list[str] = []
    with Http(settings.url, timeout=settings.timeout) as http:
        for spec in settings.events:
            secrets += _exercise(http, settings, spec, env)
    deadline = time.monotonic() + settings.wait
    while True:
        records = _new_lines(log, start)
        missing = [s for s in settings.events if _find(records, s, settings.event_field) is None]
        if not missing or time.monotonic() >= deadline:
            break
        sleep(0.1)
    findings, passed = _judge_log(settings, log, name, records, _raw_new_lines(log, start), secrets)
    return Report(
        tool=AUDIT_TOOL,
        target=redact_url(settings.url),
        findings=tuple(findings),
        passed=tuple(passed),
        scanned=(name,),
        heading=f"{AUDIT_TOOL}: {name} (written by {redact_url(settings.url)})",
    )


def _judge_log(
    settings: AuditLogSettings,
    log: Path,
    name: str,
    records: list[tuple[int, Any]],
    raw: list[tuple[int, str]],
    secrets: list[str],
) -> tuple[list[Finding], list[Passed]]:
    findings: list[Finding] = []
    passed: list[Passed] = []

    def fail(rule: str, line: int | None, why: str, subject: str = "") -> None:
        sev, fix = _AUDIT_SEVERITY[rule], _AUDIT_FIXES[rule]
        findings.append(Finding(rule, sev, name, line, scrub(why, secrets), fix, subject))

    if not log.is_file():
        fail("audit.missing-log", None, f"no audit log at {name} after exercising the service")
        return findings, passed
    for spec in settings.events:
        found = _find(records, spec, settings.event_field)
        if found is None:
            fail("audit.missing-event", None, f"no audit line for {spec.event}", spec.event)
            continue
        line, record = found
        lacking = [f for f in settings.required_fields if _field(record, f) in (None, "")]
        if lacking:
            fail(
                "audit.fields",
                line,
                f"the {spec.event} line lacks {', '.join(lacking)}",
                spec.event,
            )
        else:
            passed.append(Passed(f"audit.event:{spec.event}", f"{name}:{line}"))
    for line, record in records:
        if not isinstance(record, dict):
            fail("audit.unstructured", line, f"line {line} is not a JSON object")
    for line, text in raw:
        if any(len(s) >= 4 and s in text for s in secrets):
            fail("audit.secret", line, f"line {line} holds a password or token the check used")
    return findings, passed


def _exercise(
    http: Http, settings: AuditLogSettings, spec: AuditEventSpec, env: Mapping[str, str]
) -> list[str]:
    """Send the request that should produce ``spec``'s event; return the secrets it used."""
    request = spec.request
    secrets: list[str] = []
    creds: Credentials | None = None
    if request.action != "request" or request.authenticated:
        if settings.auth is None:
            raise ProbeError(
                f"audit event {spec.event} needs a session, but `auth` is not configured",
                hint="add `auth` (a login endpoint or a token variable)",
            )
        creds = obtain(http, settings.auth, env)
        secrets.append(creds.token)
        if settings.auth.login is not None:
            secrets.append(env.get(settings.auth.login.password_env, ""))
    if request.action == "logout":
        if settings.logout is None:
            raise ProbeError(
                f"audit event {spec.event} needs a logout, but `logout` is not configured",
                hint="add `logout = { path = ... }`",
            )
        assert creds is not None  # noqa: S101 - obtained above
        http.request(settings.logout.method, settings.logout.path, headers=creds.headers())
    elif request.action == "request":
        headers = creds.headers() if creds is not None else None
        http.request(request.method, request.path, headers=headers, json=request.json_body)
    return secrets


def _raw_new_lines(log: Path, start: int) -> list[tuple[int, str]]:
    """The lines written after byte ``start`` (from 0 when the log was rotated), numbered."""
    if not log.is_file():
        return []
    data = log.read_bytes()
    if len(data) < start:
        start = 0
    first = data[:start].count(b"\n") + 1
    lines = data[start:].decode("utf-8", "replace").splitlines()
    return [(first + i, text) for i, text in enumerate(lines) if text.strip()]


def _new_lines(log: Path, start: int) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    for number, text in _raw_new_lines(log, start):
        try:
            out.append((number, json.loads(text)))
        except ValueError:
            out.append((number, text))
    return out


def _field(record: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        record = record.get(key) if isinstance(record, dict) else None
    return record


def _find(
    records: list[tuple[int, Any]], spec: AuditEventSpec, event_field: str
) -> tuple[int, dict[str, Any]] | None:
    for line, record in records:
        if (
            isinstance(record, dict)
            and _field(record, event_field) == spec.event
            and all(_field(record, k) == v for k, v in spec.fields.items())
        ):
            return line, record
    return None


def check_hooks(hooks: tuple[HookSpec, ...], env: Mapping[str, str], *, timeout: float) -> Report:
    """Send a test event to every hook; a finding for each that does not accept it."""
    findings: list[Finding] = []
    passed: list[Passed] = []
    for hook in hooks:
        url = (
            env_value(env, hook.url_env, f"the {hook.name} hook URL") if hook.url_env else hook.url
        )
        url = url or PAGERDUTY_URL
        shown = f"${hook.url_env}" if hook.url_env else redact_url(url)
        secrets = [url] if hook.url_env else []
        headers = {h: env_value(env, var, f"header {h}") for h, var in hook.headers_env.items()}
        secrets += list(headers.values())
        steps = _payloads(hook, env)
        secrets += [str(body.get("routing_key", "")) for _, body in steps]
        if hook.url_env:
            secrets += [urlsplit(url).path, redact_url(url)]
        try:
            with Http(url, timeout=timeout) as http:
                replies = [
                    (step, http.request("POST", url, headers=headers, json=body))
                    for step, body in steps
                ]
        except SecurityInputError as exc:  # a URL that is not http(s): a config error
            raise SecurityInputError(
                f"hook {hook.name}: {scrub(exc.message, secrets)}",
                hint=f"fix the hook's {'$' + hook.url_env if hook.url_env else '`url`'}",
            ) from None
        except ProbeError as exc:
            findings.append(_hook_finding(hook, shown, scrub(exc.message, secrets)))
            continue
        refused = [(step, r) for step, r in replies if not 200 <= r.status < 300]
        if refused:
            step, reply = refused[0]
            why = f"{hook.name} ({hook.kind}) answered {reply.status} to the test {step}"
            why += _detail(reply)
            findings.append(_hook_finding(hook, shown, scrub(why, secrets)))
        else:
            done = " and ".join(f"{step} {r.status}" for step, r in replies)
            passed.append(Passed(f"hooks.{hook.kind}:{hook.name}", f"{shown}: {done}"))
    return Report(
        tool=HOOKS_TOOL,
        target=", ".join(h.name for h in hooks),
        findings=tuple(findings),
        passed=tuple(passed),
    )


def _detail(reply: Reply) -> str:
    text = " ".join(reply.body.split())[:120]
    return f" ({text})" if text else ""


def _hook_finding(hook: HookSpec, shown: str, why: str) -> Finding:
    fix = f"check the {hook.kind} integration: its URL, key and that it is enabled"
    return Finding(f"hooks.{hook.kind}", Severity.HIGH, shown, None, why, fix, hook.name)


def _payloads(hook: HookSpec, env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    test_id = uuid.uuid4().hex[:12]
    if hook.kind == "pagerduty":
        assert hook.routing_key_env is not None  # noqa: S101 - the model requires it
        key = env_value(env, hook.routing_key_env, f"the {hook.name} routing key")
        dedup = f"gonogo-hook-test-{test_id}"
        trigger = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "client": "gonogo",
            "payload": {
                "summary": SUMMARY,
                "source": "gonogo",
                "severity": "info",
                "timestamp": now,
                "component": "incident-hooks",
                "class": "test",
                "custom_details": {"hook": hook.name, "test_id": test_id},
            },
        }
        steps = [("trigger", trigger)]
        if hook.resolve:
            steps.append(
                ("resolve", {"routing_key": key, "event_action": "resolve", "dedup_key": dedup})
            )
        return steps
    if hook.kind == "alertmanager":
        labels = {"alertname": "GonogoHookTest", "severity": "info", "source": "gonogo"}
        annotations = {"summary": SUMMARY, "description": f"test {test_id} of hook {hook.name}"}

        def webhook(status: str, ends: str) -> dict[str, Any]:
            alert = {
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": now,
                "endsAt": ends,
                "generatorURL": "",
                "fingerprint": test_id,
            }
            return {
                "version": "4",
                "groupKey": '{}:{alertname="GonogoHookTest"}',
                "truncatedAlerts": 0,
                "status": status,
                "receiver": hook.name,
                "groupLabels": {"alertname": "GonogoHookTest"},
                "commonLabels": labels,
                "commonAnnotations": annotations,
                "externalURL": "",
                "alerts": [alert],
            }

        steps = [("firing alert", webhook("firing", "0001-01-01T00:00:00Z"))]
        if hook.resolve:
            steps.append(("resolved alert", webhook("resolved", now)))
        return steps
    text = f"{SUMMARY} ({hook.name}, {test_id})"
    block = {"type": "section", "text": {"type": "mrkdwn", "text": f"*gonogo*: {text}"}}
    return [("message", {"text": text, "blocks": [block]})]
