"""Incident hooks against a real local receiver, and the audit log of a real local service."""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Project, Run, criterion
from tests.report.pages import Page
from tests.security import live
from tests.security.live import SHOP_ENV, SHOP_PASSWORD, Service, received, receiver, shop

project = live.project  # the fixture

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefabcdef"
SLACK_PATH = "/slack/T0001/B0002/sl4ckS3cretPathPart"
RECEIVER_TOKEN = "receiver-bearer-token-77"


@pytest.fixture
def hook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The routing key and the receiver's bearer token in the environment."""
    monkeypatch.setenv("PD_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.setenv("HOOK_TOKEN", RECEIVER_TOKEN)


def _hooks_config(tmp_path: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", base + SLACK_PATH)
    path = tmp_path / "hooks.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [[hooks]]
            name = "on-call"
            kind = "pagerduty"
            url = "{base}/pagerduty/v2/enqueue"
            routing_key_env = "PD_ROUTING_KEY"

            [[hooks]]
            name = "alertmanager"
            kind = "alertmanager"
            url = "{base}/private/alertmanager"
            headers_env = {{ Authorization = "HOOK_TOKEN" }}

            [[hooks]]
            name = "team-channel"
            kind = "slack"
            url_env = "SLACK_WEBHOOK_URL"
            """
        ),
        encoding="utf-8",
    )
    return path


def _no_secrets(result: Run) -> None:
    text = result.out + result.err
    for secret in (ROUTING_KEY, SLACK_PATH, "sl4ckS3cretPathPart", RECEIVER_TOKEN, SHOP_PASSWORD):
        assert secret not in text


@pytest.mark.usefixtures("hook_env")
def test_each_hook_accepts_a_well_formed_test_event(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "received.jsonl"
    monkeypatch.setenv("HOOK_TOKEN", f"Bearer {RECEIVER_TOKEN}")
    with receiver(record, token=RECEIVER_TOKEN) as hooks:
        config = _hooks_config(tmp_path, hooks.url, monkeypatch)
        result = project.run("security", "hooks", "--config", str(config), "--format", "json")

    report = json.loads(result.out)
    assert result.code == 0, report
    assert {p["rule"] for p in report["passed"]} == {
        "hooks.pagerduty:on-call",
        "hooks.alertmanager:alertmanager",
        "hooks.slack:team-channel",
    }
    _no_secrets(result)

    got = received(record)
    assert [r["path"] for r in got] == [
        "/pagerduty/v2/enqueue",
        "/pagerduty/v2/enqueue",
        "/private/alertmanager",
        "/private/alertmanager",
        SLACK_PATH,
    ]
    trigger, resolve = got[0]["body"], got[1]["body"]
    assert trigger["routing_key"] == ROUTING_KEY
    assert trigger["event_action"] == "trigger"
    assert trigger["payload"]["severity"] == "info"
    assert trigger["payload"]["source"] == "gonogo"
    assert trigger["payload"]["summary"].startswith("gonogo test event")
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }
    firing, resolved = got[2]["body"], got[3]["body"]
    assert got[2]["headers"]["authorization"] == f"Bearer {RECEIVER_TOKEN}"
    assert (firing["version"], firing["status"], resolved["status"]) == ("4", "firing", "resolved")
    assert firing["alerts"][0]["labels"]["alertname"] == "GonogoHookTest"
    assert firing["receiver"] == "alertmanager"
    assert resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
    slack = got[4]["body"]
    assert slack["text"].startswith("gonogo test event")
    assert slack["blocks"][0]["type"] == "section"
    assert got[4]["headers"]["content-type"] == "application/json"


@pytest.mark.usefixtures("hook_env")
def test_a_refusing_or_unreachable_hook_fails_and_the_others_still_run(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "received.jsonl"
    with receiver(record, token=RECEIVER_TOKEN) as hooks:
        config = _hooks_config(tmp_path, hooks.url, monkeypatch)  # HOOK_TOKEN lacks "Bearer"
        text = config.read_text(encoding="utf-8")
        text += f'\n[[hooks]]\nname = "broken"\nkind = "slack"\nurl = "{hooks.url}/broken"\n'
        text += '\n[[hooks]]\nname = "gone"\nkind = "slack"\nurl = "http://127.0.0.1:1/x"\n'
        config.write_text(text, encoding="utf-8")
        result = project.run("security", "hooks", "--config", str(config), "--format", "json")

    report = json.loads(result.out)
    assert result.code == 1
    reasons = {f["subject"]: f["reason"] for f in report["findings"]}
    assert reasons["alertmanager"].startswith(
        "alertmanager (alertmanager) answered 401 to the test firing alert"
    )
    assert reasons["broken"].startswith("broken (slack) answered 500 to the test message")
    assert reasons["gone"].startswith("cannot reach http://127.0.0.1:1/x")
    assert {p["rule"] for p in report["passed"]} == {
        "hooks.pagerduty:on-call",
        "hooks.slack:team-channel",
    }
    assert all(f["severity"] == "high" for f in report["findings"])
    _no_secrets(result)


def test_a_hook_that_rejects_the_payload_is_reported(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PD_ROUTING_KEY", ROUTING_KEY)
    record = tmp_path / "received.jsonl"
    with receiver(record) as hooks:
        config = tmp_path / "hooks.toml"
        url = f"{hooks.url}/pagerduty/v2/enqueue"
        config.write_text(
            f'[[hooks]]\nname = "pd"\nkind = "slack"\nurl = "{url}"\n', encoding="utf-8"
        )
        result = project.run("security", "hooks", "--config", str(config))

    assert result.code == 1
    assert "pd (slack) answered 400 to the test message" in result.out
    assert "Event object is invalid" in result.out


def test_missing_key_variable_is_one_line(project: Project, tmp_path: Path) -> None:
    config = tmp_path / "hooks.toml"
    config.write_text(
        '[[hooks]]\nname = "pd"\nkind = "pagerduty"\nrouting_key_env = "PD_KEY"\n',
        encoding="utf-8",
    )

    result = project.run("security", "hooks", "--config", str(config))

    assert result.code == 2
    assert "environment variable PD_KEY (the pd routing key) is not set" in (
        result.assert_one_error_line()
    )


def test_a_hook_without_a_url_is_a_config_error(project: Project, tmp_path: Path) -> None:
    config = tmp_path / "hooks.toml"
    config.write_text('[[hooks]]\nname = "chat"\nkind = "slack"\n', encoding="utf-8")

    result = project.run("security", "hooks", "--config", str(config))

    assert result.code == 2
    assert "hooks.0: Value error, a slack hook needs `url` or `url_env`" in (
        result.assert_one_error_line()
    )


def test_hooks_with_nothing_to_check_is_one_line(project: Project) -> None:
    result = project.run("security", "hooks")

    assert result.code == 2
    assert "no hooks and no audit log to check" in result.assert_one_error_line()


AUDIT_CONFIG = """
[audit_log]
url = "{url}"
log = "audit.log"
required_fields = ["timestamp", "actor", "outcome"]
logout = {{ path = "/logout" }}

[audit_log.auth.login]
username_env = "SHOP_USER"
password_env = "SHOP_PASSWORD"

[[audit_log.events]]
event = "auth.login"
request = {{ action = "login" }}
fields = {{ outcome = "success" }}

[[audit_log.events]]
event = "auth.login_failed"
request = {{ method = "POST", path = "/login", json_body = {{ username = "x", password = "y" }} }}

[[audit_log.events]]
event = "auth.logout"
request = {{ action = "logout" }}

[[audit_log.events]]
event = "order.list"
request = {{ path = "/orders", authenticated = true }}
"""


@pytest.fixture
def shop_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shop's credentials in the environment."""
    for name, value in SHOP_ENV.items():
        monkeypatch.setenv(name, value)


def _audit(project: Project, tmp_path: Path, mode: str, fmt: str = "json") -> tuple[Run, Path]:
    log = tmp_path / "audit.log"
    log.write_text('{"timestamp": "2026-01-01T00:00:00Z", "event": "boot"}\n', encoding="utf-8")
    with shop(mode, audit_log=log) as service:
        config = tmp_path / "audit.toml"
        config.write_text(AUDIT_CONFIG.format(url=service.url), encoding="utf-8")
        result = project.run("security", "hooks", "--config", str(config), "--format", fmt)
    return result, log


@pytest.mark.usefixtures("shop_env")
def test_the_fixed_service_logs_every_declared_event_as_json(
    project: Project, tmp_path: Path
) -> None:
    result, log = _audit(project, tmp_path, "fixed")

    report = json.loads(result.out)
    assert result.code == 0, report
    assert report["schema"] == "gonogo.audit-log/v1"
    assert {p["rule"]: p["detail"] for p in report["passed"]} == {
        "audit.event:auth.login": "audit.log:2",
        "audit.event:auth.login_failed": "audit.log:3",
        "audit.event:auth.logout": "audit.log:5",
        "audit.event:order.list": "audit.log:7",
    }
    assert SHOP_PASSWORD not in log.read_text(encoding="utf-8")
    _no_secrets(result)


@pytest.mark.usefixtures("shop_env")
def test_the_flawed_service_misses_events_and_leaks_the_password(
    project: Project, tmp_path: Path
) -> None:
    result, log = _audit(project, tmp_path, "flawed")

    report = json.loads(result.out)
    assert result.code == 1
    found = {(f["rule"], f["line"], f["reason"]) for f in report["findings"]}
    assert ("audit.missing-event", None, "no audit line for auth.logout") in found
    assert ("audit.missing-event", None, "no audit line for auth.login_failed") in found
    assert ("audit.unstructured", 3, "line 3 is not a JSON object") in found
    assert ("audit.secret", 2, "line 2 holds a password or token the check used") in found
    assert all(f["file"] == "audit.log" for f in report["findings"])
    assert SHOP_PASSWORD in log.read_text(encoding="utf-8")  # the flaw is real …
    _no_secrets(result)  # … and gonogo never repeats it


@pytest.mark.usefixtures("shop_env")
def test_html_report_shows_the_audit_log_findings_and_the_logged_events(
    project: Project, tmp_path: Path
) -> None:
    result, _ = _audit(project, tmp_path, "flawed", "html")

    assert result.code == 1
    page = Page.parse(result.out)
    assert page.title.startswith("audit-log: audit.log (written by http://127.0.0.1:")
    assert page.badge == ("FAIL", "bad")
    leak = next(r for r in page.section("Findings") if r["rule"] == "audit.secret")
    assert (leak["where"], leak["reason"]) == (
        "audit.log:2",
        "line 2 holds a password or token the check used",
    )
    assert leak["severity"] in {"critical", "high"}
    missing = {r["reason"] for r in page.section("Findings") if r["rule"] == "audit.missing-event"}
    assert "no audit line for auth.logout" in missing
    logged = {r["rule"]: r["detail"] for r in page.section("Passed")}
    assert logged["audit.event:auth.login"] == "audit.log:2"
    _no_secrets(result)


@pytest.mark.usefixtures("hook_env")
def test_html_report_lists_the_hooks_that_accepted_the_test_event(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", f"Bearer {RECEIVER_TOKEN}")
    with receiver(tmp_path / "received.jsonl", token=RECEIVER_TOKEN) as hooks:
        config = _hooks_config(tmp_path, hooks.url, monkeypatch)
        result = project.run("security", "hooks", "--config", str(config), "-f", "html")

    assert result.code == 0
    page = Page.parse(result.out)
    assert page.badge == ("PASS", "good")
    assert page.summary == "0 finding(s) (none); none at or above low."
    passed = [r["rule"] for r in page.section("Passed")]
    assert passed == [
        "hooks.pagerduty:on-call",
        "hooks.alertmanager:alertmanager",
        "hooks.slack:team-channel",
    ]
    _no_secrets(result)


@pytest.mark.usefixtures("shop_env")
def test_a_missing_audit_log_is_a_finding(project: Project, tmp_path: Path) -> None:
    with shop("fixed") as service:
        config = tmp_path / "audit.toml"
        config.write_text(
            AUDIT_CONFIG.format(url=service.url).replace("[audit_log]", "[audit_log]\nwait = 0"),
            encoding="utf-8",
        )
        result = project.run("security", "hooks", "--config", str(config))

    assert result.code == 1
    assert "no audit log at audit.log after exercising the service" in result.out


def _policy(hooks_url: str, shop_url: str) -> str:
    return textwrap.dedent(
        f"""
        version = 1

        [project]
        name = "shop"

        [owners]
        security = ["sam@example.com"]

        [[gates]]
        id = "security"
        title = "Security"
        phase = 5
        owners = []

        [[gates.criteria]]
        id = "hooks"
        check = "incident-hooks"

        [[gates.criteria.params.hooks]]
        name = "pd"
        kind = "pagerduty"
        url = "{hooks_url}/pagerduty/v2/enqueue"
        routing_key_env = "PD_ROUTING_KEY"

        [[gates.criteria]]
        id = "audit"
        check = "audit-log"

        [gates.criteria.params]
        url = "{shop_url}"
        log = "logs/audit.log"
        required_fields = ["timestamp", "actor"]
        auth = {{ login = {{ username_env = "SHOP_USER", password_env = "SHOP_PASSWORD" }} }}
        logout = {{ path = "/logout" }}

        [[gates.criteria.params.events]]
        event = "auth.login"
        request = {{ action = "login" }}

        [[gates.criteria.params.events]]
        event = "auth.logout"
        request = {{ action = "logout" }}
        """
    )


def _check(project: Project, services: tuple[Service, Service]) -> dict[str, Any]:
    hooks, service = services
    project.policy(_policy(hooks.url, service.url))
    _, report = project.check_json()
    return report


@pytest.mark.usefixtures("shop_env", "hook_env")
@pytest.mark.parametrize("mode", ["fixed", "flawed"])
def test_the_checks_run_in_a_gate(project: Project, tmp_path: Path, mode: str) -> None:
    (project.root / "logs").mkdir()
    with (
        receiver(tmp_path / "received.jsonl") as hooks,
        shop(mode, audit_log=project.root / "logs" / "audit.log") as service,
    ):
        report = _check(project, (hooks, service))

    hook_result = criterion(report, "security.hooks")
    audit_result = criterion(report, "security.audit")
    assert hook_result["status"] == "pass"
    assert hook_result["reason"] == "1 hook(s) accepted a test event"
    if mode == "fixed":
        assert audit_result["status"] == "pass"
        assert audit_result["reason"] == "2 audit event(s) logged as JSON"
    else:
        assert audit_result["status"] == "fail"
        assert "no audit line for auth.logout" in audit_result["reason"]
        assert "holds a password or token" in audit_result["reason"]
    assert ROUTING_KEY not in json.dumps(report)
    assert SHOP_PASSWORD not in json.dumps(report)


@pytest.mark.usefixtures("hook_env")
def test_hooks_reads_its_settings_from_the_policy(project: Project, tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"
    with receiver(record) as hooks:
        policy = _policy(hooks.url, "http://127.0.0.1:1")
        project.policy(policy.split('[[gates.criteria]]\nid = "audit"')[0])
        result = project.run("security", "hooks")

    assert result.code == 0
    assert "ok        hooks.pagerduty:pd:" in result.out
    assert [r["body"]["event_action"] for r in received(record)] == ["trigger", "resolve"]


def test_a_secret_url_that_is_not_http_is_one_line_without_it(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "hooks.example.com" + SLACK_PATH)
    config = tmp_path / "hooks.toml"
    config.write_text(
        '[[hooks]]\nname = "chat"\nkind = "slack"\nurl_env = "SLACK_WEBHOOK_URL"\n',
        encoding="utf-8",
    )

    result = project.run("security", "hooks", "--config", str(config))

    assert result.code == 2
    assert "hook chat: not an http(s) URL" in result.assert_one_error_line()
    _no_secrets(result)


@pytest.mark.usefixtures("shop_env")
@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_the_audit_log_report_is_titled_with_the_log_and_the_service_that_writes_it(
    project: Project, tmp_path: Path, fmt: str
) -> None:
    result, _ = _audit(project, tmp_path, "flawed", fmt)

    assert result.code == 1
    if fmt == "html":
        title = Page.parse(result.out).title
    else:
        title = result.out.splitlines()[0].removeprefix("## ")
    assert title.startswith("audit-log: audit.log (written by http://127.0.0.1:")
    assert title.endswith(")")


def test_hook_pages_show_the_hooks_name_and_mark_findings_below_fail_on(
    project: Project, tmp_path: Path
) -> None:
    config = tmp_path / "hooks.toml"
    config.write_text(
        '[[hooks]]\nname = "team-channel"\nkind = "slack"\nurl = "http://127.0.0.1:9/hook"\n',
        encoding="utf-8",
    )
    args = ("security", "hooks", "--config", str(config), "--fail-on", "critical")

    text = project.run(*args)
    markdown = project.run(*args, "-f", "markdown")
    html = project.run(*args, "-f", "html")

    assert text.code == markdown.code == html.code == 0
    assert "hooks.slack  team-channel (below fail-on)" in text.out
    row = next(line for line in markdown.out.splitlines() if "hooks.slack" in line)
    assert row.startswith("| high (below fail-on) | `http://127.0.0.1:9/hook` | `hooks.slack` |")
    assert "| `team-channel` |" in row
    (finding,) = Page.parse(html.out).section("Findings")
    assert (finding["severity"], finding["subject"]) == ("high (below fail-on)", "team-channel")


def test_a_header_value_the_client_refuses_is_never_shown_even_escaped(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "Bearer s3cr3t-hook\ntoken")
    with socket.socket() as server:  # listening: the client sends, and refuses the header
        server.bind(("127.0.0.1", 0))
        server.listen()
        config = tmp_path / "hooks.toml"
        config.write_text(
            f'[[hooks]]\nname = "alerts"\nkind = "alertmanager"\n'
            f'url = "http://127.0.0.1:{server.getsockname()[1]}/hook"\n'
            'headers_env = { Authorization = "HOOK_TOKEN" }\n',
            encoding="utf-8",
        )

        result = project.run("security", "hooks", "--config", str(config), "-f", "json")

    assert result.code == 1
    (finding,) = result.json()["findings"]
    assert "Illegal header value" in finding["reason"]
    assert "s3cr3t" not in result.out + result.err


def test_a_hook_url_with_a_bad_port_is_one_config_error_line(
    project: Project, tmp_path: Path
) -> None:
    config = tmp_path / "hooks.toml"
    config.write_text(
        '[[hooks]]\nname = "alerts"\nkind = "alertmanager"\nurl = "http://127.0.0.1:99999/x"\n',
        encoding="utf-8",
    )

    result = project.run("security", "hooks", "--config", str(config))

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "hook alerts: not a valid URL: 'http://127.0.0.1:99999/x'" in line
    assert line.endswith("fix the hook's `url`")
