"""The HTTP security probe against a real local service with deliberate flaws, and its twin."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Project, Run, criterion
from tests.report.pages import Page
from tests.security import live
from tests.security.live import CERT, SHOP_ENV, SHOP_JWT_SECRET, SHOP_PASSWORD, Service, shop

project = live.project  # the fixture

PROBE_CONFIG = """
paths = ["/"]
protected = [{ path = "/orders" }, { path = "/admin/users" }]
auth = { login = { path = "/login", username_env = "SHOP_USER", password_env = "SHOP_PASSWORD" } }
jwt = { secret_env = "SHOP_JWT_SECRET" }
logout = { path = "/logout" }
"""

#: every probe that runs over http (HSTS is checked on https only)
HTTP_RULES = {
    "headers.csp",
    "headers.nosniff",
    "headers.frame-options",
    "cookies.flags",
    "access.unauthenticated",
    "access.wrong-credentials",
    "jwt.alg-none",
    "jwt.bad-signature",
    "jwt.expired",
    "jwt.wrong-audience",
    "session.logout",
    "input.malformed",
    "leaks.stack-trace",
    "leaks.server-version",
}


@pytest.fixture
def shop_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shop's credentials and signing key in the environment, as a CI job would hold them."""
    for name, value in SHOP_ENV.items():
        monkeypatch.setenv(name, value)


def _config(tmp_path: Path, text: str = PROBE_CONFIG) -> Path:
    path = tmp_path / "probe.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _probe(project: Project, service: Service, config: Path, *args: str) -> Run:
    return project.run("security", "probe", service.url, "--config", str(config), *args)


def _no_secrets(result: Run) -> None:
    text = result.out + result.err
    assert SHOP_PASSWORD not in text
    assert SHOP_JWT_SECRET not in text
    assert "eyJ" not in text  # no JWT (their header always starts so)


@pytest.mark.usefixtures("shop_env")
def test_the_flawed_service_fails_every_probe(project: Project, tmp_path: Path) -> None:
    with shop("flawed") as service:
        result = _probe(project, service, _config(tmp_path), "--format", "json")

    report = json.loads(result.out)
    assert result.code == 1
    assert report["schema"] == "gonogo.http-probe/v1"
    assert {f["rule"] for f in report["findings"]} == HTTP_RULES
    assert report["passed"] == []
    assert report["skipped"] == [
        {"rule": "headers.hsts", "detail": "the URL is http: HSTS is checked on https only"}
    ]
    _no_secrets(result)


@pytest.mark.usefixtures("shop_env")
def test_each_flaw_has_a_clear_reason(project: Project, tmp_path: Path) -> None:
    with shop("flawed") as service:
        result = _probe(project, service, _config(tmp_path), "--format", "json")

    reasons: dict[str, list[str]] = {}
    for f in json.loads(result.out)["findings"]:
        reasons.setdefault(f["rule"], []).append(f["reason"])
    assert reasons["headers.csp"] == ["Content-Security-Policy missing on GET /"]
    assert reasons["cookies.flags"] == [
        "cookie visitor lacks Secure, HttpOnly, SameSite (GET /); "
        "cookie session lacks Secure, HttpOnly, SameSite (POST /login)"
    ]
    assert reasons["access.unauthenticated"] == [
        "GET /admin/users answered 200 without credentials"
    ]
    assert "GET /orders answered 500 with an invalid token" in reasons["access.wrong-credentials"]
    assert 'GET /orders answered 200 with a token using alg "none"' in reasons["jwt.alg-none"]
    assert "GET /orders answered 200 with a wrong signature" in reasons["jwt.bad-signature"]
    assert "GET /orders answered 200 with an expired token" in reasons["jwt.expired"]
    assert (
        "GET /orders answered 200 with a token for another audience"
        in (reasons["jwt.wrong-audience"])
    )
    assert reasons["session.logout"] == [
        "GET /orders still accepted the session after POST /logout (200)"
    ]
    assert "POST /login answered 500 to malformed input" in reasons["input.malformed"]
    assert "GET /orders answered 500 to malformed input" in reasons["input.malformed"]
    assert "POST /login returned a Python stack trace (status 500)" in reasons["leaks.stack-trace"]
    assert set(reasons["leaks.server-version"]) == {
        "Server: BaseHTTP/0.6 Python/3.11 (GET /)",
        "X-Powered-By: tinyshop/1.2.3 (GET /)",
    }


@pytest.mark.usefixtures("shop_env")
def test_the_fixed_twin_passes_every_probe(project: Project, tmp_path: Path) -> None:
    with shop("fixed") as service:
        result = _probe(project, service, _config(tmp_path), "--format", "json")

    report = json.loads(result.out)
    assert result.code == 0, report["findings"]
    assert report["findings"] == []
    assert {p["rule"] for p in report["passed"]} == HTTP_RULES
    passed = {p["rule"]: p["detail"] for p in report["passed"]}
    assert passed["session.logout"] == "GET /orders refused the session after logout (401)"
    assert passed["jwt.expired"] == "2 endpoint(s) refused requests with an expired token"
    _no_secrets(result)


@pytest.mark.usefixtures("shop_env")
def test_hsts_is_checked_over_https(project: Project, tmp_path: Path) -> None:
    config = _config(tmp_path, PROBE_CONFIG + f'ca_file = "{CERT}"\n')

    with shop("fixed", tls=True) as service:
        fixed = _probe(project, service, config, "--format", "json")
    with shop("flawed", tls=True) as service:
        flawed = _probe(project, service, config, "--format", "json")

    assert fixed.code == 0
    assert "headers.hsts" in {p["rule"] for p in json.loads(fixed.out)["passed"]}
    hsts = [f for f in json.loads(flawed.out)["findings"] if f["rule"] == "headers.hsts"]
    assert [f["reason"] for f in hsts] == [
        "Strict-Transport-Security missing or max-age < 15552000 on GET /"
    ]
    assert hsts[0]["file"].startswith("https://127.0.0.1:")


@pytest.mark.usefixtures("shop_env")
@pytest.mark.parametrize("fmt", ["text", "markdown", "sarif", "html"])
def test_no_format_prints_a_token_or_password(project: Project, tmp_path: Path, fmt: str) -> None:
    with shop("flawed") as service:
        result = _probe(project, service, _config(tmp_path), "--format", fmt)

    assert result.code == 1
    _no_secrets(result)
    if fmt == "text":
        assert "CRITICAL  " in result.out
        assert "fix: pin the accepted algorithms" in result.out


@pytest.mark.usefixtures("shop_env")
def test_html_report_shows_each_failed_probe_and_what_was_skipped(
    project: Project, tmp_path: Path
) -> None:
    with shop("flawed") as service:
        result = _probe(project, service, _config(tmp_path), "--format", "html")

    assert result.code == 1
    page = Page.parse(result.out)
    assert page.title == f"http-probe: {service.url}"
    assert page.badge == ("FAIL", "bad")
    rows = page.section("Findings")
    assert {r["rule"] for r in rows} == HTTP_RULES
    csp = next(r for r in rows if r["rule"] == "headers.csp")
    assert csp["reason"] == "Content-Security-Policy missing on GET /"
    assert csp["where"].startswith(service.url)
    assert page.section("Skipped") == [
        {"rule": "headers.hsts", "detail": "the URL is http: HSTS is checked on https only"}
    ]
    _no_secrets(result)


@pytest.mark.usefixtures("shop_env")
def test_html_report_of_the_fixed_twin_passes_and_lists_what_passed(
    project: Project, tmp_path: Path
) -> None:
    with shop("fixed") as service:
        result = _probe(project, service, _config(tmp_path), "--format", "html")

    assert result.code == 0
    page = Page.parse(result.out)
    assert page.badge == ("PASS", "good")
    assert "Findings" not in page.headings
    passed = {r["rule"]: r["detail"] for r in page.section("Passed")}
    assert passed["session.logout"] == "GET /orders refused the session after logout (401)"


@pytest.mark.usefixtures("shop_env")
def test_skip_leaves_probes_out_and_fail_on_raises_the_bar(
    project: Project, tmp_path: Path
) -> None:
    config = _config(tmp_path, PROBE_CONFIG + 'skip = ["leaks.server-version"]\n')

    with shop("flawed") as service:
        critical_only = _probe(project, service, config, "--fail-on", "critical")
        report = json.loads(_probe(project, service, config, "--format", "json").out)

    assert critical_only.code == 1  # alg none, bad signature, open admin endpoint
    assert "leaks.server-version" not in {f["rule"] for f in report["findings"]}
    assert {"rule": "leaks.server-version", "detail": "left out by `skip`"} in report["skipped"]


def test_without_config_only_headers_cookies_and_leaks(project: Project) -> None:
    with shop("fixed") as service:
        result = project.run("security", "probe", service.url, "--format", "json")

    report = json.loads(result.out)
    assert result.code == 0
    assert {p["rule"] for p in report["passed"]} == {
        "headers.csp",
        "headers.nosniff",
        "headers.frame-options",
        "cookies.flags",
        "leaks.stack-trace",
        "leaks.server-version",
    }
    assert "access.unauthenticated" in {s["rule"] for s in report["skipped"]}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_url_is_one_line(project: Project) -> None:
    port = _closed_port()

    result = project.run("security", "probe", f"http://127.0.0.1:{port}")

    line = result.assert_one_error_line()
    assert result.code == 2
    assert f"cannot reach http://127.0.0.1:{port}/" in line
    assert result.out == ""


def test_a_url_that_is_not_http_is_one_line(project: Project) -> None:
    result = project.run("security", "probe", "ftp://example.com/")

    assert result.code == 2
    assert "not an http(s) URL" in result.assert_one_error_line()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[::1", "not a valid URL: 'http://[::1' (Invalid IPv6 URL)"),
        ("http://127.0.0.1:99999", "not a valid URL: 'http://127.0.0.1:99999' (Port out of range"),
        ("http://127.0.0.1:abc", "not a valid URL: 'http://127.0.0.1:abc' (Port could not be"),
        ("user:s3cr3t-pw@staging.example", "not an http(s) URL: 'staging.example'"),
        ("http://u:s3cr3t-pw@[::1/x?t=s3cr3t-q", "not a valid URL: 'http://[::1/x'"),
    ],
)
def test_a_malformed_url_is_one_line_without_its_user_info(
    project: Project, url: str, expected: str
) -> None:
    result = project.run("security", "probe", url)

    assert result.code == 2
    line = result.assert_one_error_line()
    assert expected in line
    assert "s3cr3t" not in line
    assert line.endswith("give the full URL, e.g. https://staging.example.com")


def test_a_path_the_url_cannot_hold_is_one_line(project: Project, tmp_path: Path) -> None:
    config = tmp_path / "probe.toml"
    config.write_text('paths = ["/orders\\u0000"]\n', encoding="utf-8")
    port = _closed_port()

    result = project.run("security", "probe", f"http://127.0.0.1:{port}", "-c", str(config))

    assert result.code == 2
    line = result.assert_one_error_line()
    assert "cannot request 'http://127.0.0.1:" in line
    assert "Invalid non-printable ASCII character" in line


@pytest.mark.usefixtures("shop_env")
def test_a_wrong_password_in_the_environment_is_one_line_without_it(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", "not-the-password-123")

    with shop("fixed") as service:
        result = _probe(project, service, _config(tmp_path))

    line = result.assert_one_error_line()
    assert result.code == 2
    assert "login with POST /login failed with status 401" in line
    assert "$SHOP_PASSWORD" in line
    assert "not-the-password-123" not in result.err + result.out


def test_a_missing_variable_is_one_line(project: Project, tmp_path: Path) -> None:
    with shop("fixed") as service:
        result = _probe(project, service, _config(tmp_path))

    assert result.code == 2
    assert "environment variable SHOP_USER (the user name) is not set" in (
        result.assert_one_error_line()
    )


def test_a_bad_config_is_one_line_with_the_key(project: Project, tmp_path: Path) -> None:
    config = _config(tmp_path, 'protected = [{ path = "/orders", method = "FETCH" }]\n')

    result = project.run("security", "probe", "http://127.0.0.1:1", "--config", str(config))

    assert result.code == 2
    assert "probe.toml: protected.0.method:" in result.assert_one_error_line()


def test_without_httpx_the_error_names_the_extra(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)

    result = project.run("security", "probe", "http://127.0.0.1:1")

    assert result.code == 2
    assert "pip install 'gonogo[sync]'" in result.assert_one_error_line()


def _policy(url: str) -> str:
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
        id = "probe"
        check = "http-probe"

        [gates.criteria.params]
        url = "{url}"
        protected = [{{ path = "/orders" }}, {{ path = "/admin/users" }}]
        logout = {{ path = "/logout" }}
        jwt = {{ secret_env = "SHOP_JWT_SECRET" }}

        [gates.criteria.params.auth.login]
        username_env = "SHOP_USER"
        password_env = "SHOP_PASSWORD"
        """
    )


def _probe_result(project: Project, mode: str) -> tuple[int, dict[str, Any]]:
    with shop(mode) as service:
        project.policy(_policy(service.url))
        code, report = project.check_json()
    return code, criterion(report, "security.probe")


@pytest.mark.usefixtures("shop_env")
def test_the_check_fails_the_flawed_and_passes_the_fixed_service(project: Project) -> None:
    code, flawed = _probe_result(project, "flawed")
    assert code == 1
    assert flawed["status"] == "fail"
    assert flawed["measured"] == 22
    assert flawed["reason"].startswith("22 finding(s) at or above low: http://127.0.0.1:")
    assert SHOP_PASSWORD not in json.dumps(flawed)

    code, fixed = _probe_result(project, "fixed")
    assert code == 0
    assert fixed["status"] == "pass"
    assert fixed["reason"] == "14 probe(s) passed, no findings"


def test_the_check_errors_when_the_service_is_down(project: Project) -> None:
    project.policy(_policy(f"http://127.0.0.1:{_closed_port()}"))

    code, report = project.check_json()

    result = criterion(report, "security.probe")
    assert code == 1
    assert result["status"] == "error"
    assert "cannot reach http://127.0.0.1:" in result["reason"]


@pytest.mark.usefixtures("shop_env")
def test_probe_reads_its_settings_from_the_policy(project: Project) -> None:
    with shop("flawed") as service:
        project.policy(_policy(service.url))
        project.monkeypatch.chdir(project.root)
        result = project.run("security", "probe", service.url, "--format", "json")

    assert result.code == 1
    assert {f["rule"] for f in json.loads(result.out)["findings"]} == HTTP_RULES


def test_forged_tokens_are_correctly_signed_so_only_the_claim_is_wrong() -> None:
    import hashlib
    import hmac

    from gonogo.security import jwt

    key = b"k" * 32
    valid = jwt.sign({"alg": "HS256", "typ": "JWT"}, {"sub": "alice", "aud": "shop"}, key)

    for forged, claim in (
        (jwt.expired(valid, key, now=1000), "exp"),
        (jwt.wrong_audience(valid, key), "aud"),
    ):
        head, body, signature = forged.split(".")
        expected = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        assert jwt.b64url(expected) == signature
        decoded = jwt.decode(forged)
        assert decoded is not None
        assert decoded[1]["sub"] == "alice"
        assert decoded[1][claim] == (-2600 if claim == "exp" else jwt.WRONG_AUDIENCE)
    none = jwt.alg_none(valid)
    assert [jwt.decode(t)[0]["alg"] for t in none] == ["none", "None", "NONE"]  # type: ignore[index]
    assert all(t.endswith(".") for t in none)
    assert jwt.bad_signature(valid).rsplit(".", 1)[0] == valid.rsplit(".", 1)[0]
    assert jwt.bad_signature(valid) != valid
