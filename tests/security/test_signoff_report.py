"""``gonogo security report``: the security sign-off report of Phase 5.

The bundled example's report is generated here on every run of the suite (so CI produces
it): its security gate audits its pinned runtime dependencies against the shared OSV
snapshot, checks the credentials ledger and its hosts' IAM role, so three of the six
areas carry real results (the other three need a running staging service and on-call
hooks the example does not have; its SECURITY.md says so). A project with real Phase-5
checks (the OSV snapshot, real RBAC manifests, the credentials ledger) shows each area
with its evidence digests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from defusedxml import ElementTree

from tests.helpers import SAM, Project
from tests.security.live import FIXTURES
from tests.security.osvdata import SNAPSHOT, small_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shopapi"
CACHES = ("reports", ".gonogo", "__pycache__", ".pytest_cache", ".benchmarks", ".coverage")
OLGA = "olga@example.com"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A copy of examples/shopapi, with this interpreter first on PATH for its commands, and
    the shared OSV snapshot linked as its advisory database by its own script."""
    root = tmp_path / "shopapi"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(*CACHES))
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    monkeypatch.setenv("PATH", path)
    linked = subprocess.run(
        ["bash", "scripts/advisories.sh"],
        cwd=root,
        env={**os.environ, "GONOGO_OSV_DB": str(SNAPSHOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert linked.returncode == 0, linked.stdout + linked.stderr
    assert (root / ".gonogo" / "osv").resolve() == SNAPSHOT.resolve()
    monkeypatch.chdir(root)
    return Project(root=root, capsys=capsys, monkeypatch=monkeypatch)


@pytest.mark.slow
def test_the_examples_security_report_goes_go_once_rotated_and_signed(example: Project) -> None:
    assert example.run("release", "create", "1.4.0").code == 0

    first = example.run("security", "report", "--run")
    assert first.code == 1
    md = first.out
    assert md.startswith("# Security sign-off report — shopapi 1.4.0\n")
    assert "| Dependency vulnerabilities | security.dependencies | ✅ pass |" in md
    assert "0 vulnerabilities in 28 packages, 0 excepted" in md
    requirements = example.root / "requirements.txt"
    assert f"- lockfile requirements.txt sha256:{_sha256(requirements)}" in md
    assert "| Least privilege | security.least-privilege | ✅ pass |" in md
    assert "no least-privilege findings in 1 file(s)" in md
    role = example.root / "deploy" / "host-role.yaml"
    assert f"- manifest deploy/host-role.yaml sha256:{_sha256(role)}" in md
    assert "| Credential rotation | security.credentials | ❌ fail |" in md
    assert "security: credentials: fail: 1 to rotate (staging-deploy-key never rotated)" in md
    assert "| ❌ never rotated | staging-deploy-key | operations | never | —/90 days |" in md
    for check in ("http-probe", "audit-log", "incident-hooks"):
        assert f"⚠️ not covered: no `{check}` criterion in the security gates" in md
    assert "| ✅ pass | `security.no-debug` No debug flags" in md
    assert "| ✅ pass | `security.security-policy` SECURITY.md covers" in md
    assert "- [ ] security — missing" in md

    rotated = example.run(
        "security", "rotated", "staging-deploy-key", "--note", "OPS-140", user=OLGA
    )
    assert rotated.code == 0, rotated.err
    html = example.run(
        "security", "report", "--run", "--format", "html", "--output", "security-report.html"
    )
    assert html.code == 1, html.err  # green, but nobody has signed
    assert "wrote the security sign-off report to security-report.html: no-go" in html.err
    page = (example.root / "security-report.html").read_text(encoding="utf-8")
    ElementTree.fromstring(page.removeprefix("<!DOCTYPE html>"))  # well-formed, self-contained
    assert "<title>Security sign-off report — shopapi 1.4.0</title>" in page
    assert '<span class="badge no-go">NO-GO</span> NO-GO: 1 of 1 security gate no-go' in page
    assert "security: needs sign-off by security" in page
    for area, criterion in (
        ("Dependency vulnerabilities", "dependencies"),
        ("Credential rotation", "credentials"),
        ("Least privilege", "least-privilege"),
    ):
        row = f'<tr><td>{area}</td><td>security.{criterion}</td><td class="status s-pass">'
        assert row in page
    assert f"(recorded by {OLGA})" in page
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    policy = example.root / "SECURITY.md"
    assert f"file SECURITY.md sha256:{_sha256(policy)}" in page

    signed = example.run("signoff", "security", "--role", "security", user=SAM)
    assert signed.code == 0, signed.err
    final = example.run("security", "report", "--output", "security-report.md")
    assert final.code == 0
    report = (example.root / "security-report.md").read_text(encoding="utf-8")
    assert "**✅ GO: security gate security green and signed off**" in report
    assert "- [x] security — sam@example.com" in report
    assert "**Why not go**" not in report

    # new evidence: the sign-off no longer covers what the gate now shows
    policy.write_text(policy.read_text(encoding="utf-8") + "\nContact: security@shop.example\n")
    stale = example.run("security", "report", "--run")
    assert stale.code == 1
    assert "security sign-off by sam@example.com is stale: the evidence changed" in stale.out
    assert example.run("audit", "verify").code == 0


@pytest.mark.slow
def test_the_examples_report_catches_a_vulnerable_pin_and_a_widened_role(
    example: Project,
) -> None:
    assert example.run("release", "create", "1.4.0").code == 0
    assert example.run("security", "rotated", "staging-deploy-key", user=OLGA).code == 0
    requirements = example.root / "requirements.txt"
    pins = requirements.read_text(encoding="utf-8")
    assert "\nidna==3.20\n" in pins
    requirements.write_text(pins.replace("\nidna==3.20\n", "\nidna==3.6\n"), encoding="utf-8")
    role = example.root / "deploy" / "host-role.yaml"
    text = role.read_text(encoding="utf-8")
    widened = text.replace("- logs:CreateLogStream", "- logs:*").replace(
        'Resource: !Sub "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:/shop/shopapi:*"',
        'Resource: "*"',
    )
    assert widened.count("logs:*") == 1 and 'Resource: "*"' in widened
    role.write_text(widened, encoding="utf-8")

    result = example.run("security", "report", "--run", "--format", "json")
    assert result.code == 1
    doc = result.json()
    areas = {a["id"]: a["status"] for a in doc["areas"]}
    assert areas == {
        "dependencies": "fail",
        "credentials": "pass",
        "least-privilege": "fail",
        "probe": "not_covered",
        "audit-log": "not_covered",
        "incident-hooks": "not_covered",
    }
    [gate] = doc["gates"]
    results = {c["criterion"]: c for c in gate["criteria"]}
    assert "idna 3.6 PYSEC-2024-60 (high)" in results["dependencies"]["reason"]
    privileges = results["least-privilege"]["reason"]
    assert "deploy/host-role.yaml" in privileges
    assert "iam-service-wildcard" in privileges


POLICY = """\
version = 1

[project]
name = "shop"

[owners]
engineering = ["alice@example.com"]
security = ["sam@example.com"]

[deps]
db = "osv"

[security]
credential_owner = "security"

[security.credentials.deploy-key]
max_age_days = 30

[[gates]]
id = "security"
title = "Security"
phase = 5
owners = ["security"]

[[gates.criteria]]
id = "dependencies"
check = "vulns"
params = { paths = ["requirements.txt"] }

[[gates.criteria]]
id = "credentials"
check = "credentials"

[[gates.criteria]]
id = "rbac"
check = "least-privilege"
params = { paths = ["k8s"] }

[[gates]]
id = "quality"
title = "Quality"
phase = 4

[[gates.criteria]]
id = "tests"
check = "file"
params = { path = "README.md" }
"""


@pytest.fixture
def shop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project whose security gate runs vulns, credentials and least-privilege for real."""
    root = tmp_path / "shop"
    root.mkdir()
    small_db(root / "osv", ("idna", "jinja2"))
    (root / "requirements.txt").write_text("idna==3.6\njinja2==3.1.6\n", encoding="utf-8")
    shutil.copytree(FIXTURES / "k8s" / "least", root / "k8s")
    project = Project(root=root, capsys=capsys, monkeypatch=monkeypatch)
    project.policy(POLICY)
    monkeypatch.chdir(root)
    assert project.run("release", "create", "2.0.0").code == 0
    return project


def test_each_area_shows_its_results_evidence_and_the_ledger(shop: Project) -> None:
    assert shop.run("security", "rotated", "deploy-key", "--at", "2026-01-05", user=SAM).code == 0

    result = shop.run("security", "report", "--run")
    assert result.code == 1
    md = result.out
    assert "| Dependency vulnerabilities | security.dependencies | ❌ fail |" in md
    assert "| Least privilege | security.rbac | ✅ pass |" in md
    assert "| Credential rotation | security.credentials |" in md
    assert "| Audit logging | — | ⚠️ not covered: no `audit-log` criterion" in md
    assert "PYSEC-2024-60" in md  # idna 3.6, high
    requirements = shop.root / "requirements.txt"
    assert f"- lockfile requirements.txt sha256:{_sha256(requirements)}" in md
    rbac = shop.root / "k8s" / "rbac.yaml"
    assert f"- manifest k8s/rbac.yaml sha256:{_sha256(rbac)}" in md
    assert "Credentials ledger of `security.credentials`:" in md
    assert "deploy-key | security | 2026-01-05 (recorded by sam@example.com) |" in md
    assert "quality" not in md  # only the security gate (phase 5) is reported


def test_json_report_is_versioned_and_lists_areas(shop: Project) -> None:
    shop.run("security", "rotated", "deploy-key", user=SAM)
    (shop.root / "requirements.txt").write_text("jinja2==3.1.6\n", encoding="utf-8")

    result = shop.run("security", "report", "--run", "--format", "json")
    doc = result.json()
    assert doc["schema"] == "gonogo.security-report/v1"
    assert (doc["project"], doc["release"]) == ("shop", "2.0.0")
    areas = {a["id"]: a for a in doc["areas"]}
    assert areas["dependencies"]["status"] == "pass"
    assert areas["credentials"] == {
        "id": "credentials",
        "title": "Credential rotation",
        "checks": ["credentials"],
        "status": "pass",
        "criteria": ["security.credentials"],
    }
    assert areas["incident-hooks"]["status"] == "not_covered"
    [gate] = doc["gates"]
    assert gate["id"] == "security"
    assert gate["evaluated_at"]
    assert gate["outcome"] == "pass"
    assert doc["verdict"] == "no-go"
    assert doc["reasons"] == ["security: needs sign-off by security"]
    assert result.code == 1

    assert shop.run("signoff", "security", "--role", "security", user=SAM).code == 0
    signed = shop.run("security", "report", "--format", "json")
    assert signed.code == 0
    assert signed.json()["verdict"] == "go"


def test_without_run_a_gate_never_evaluated_says_so(shop: Project) -> None:
    result = shop.run("security", "report")

    assert result.code == 1
    assert "| `security` Security | never | — |" in result.out
    assert "not evaluated yet: run \\`gonogo check --gate security\\`" in result.out


def test_bad_gates_are_one_line(shop: Project) -> None:
    unknown = shop.run("security", "report", "--gate", "nope")
    assert unknown.code == 2
    assert "no gate named 'nope'; gates are: security, quality" in unknown.assert_one_error_line()

    shop.policy(POLICY.replace("phase = 5", "phase = 6"))
    none = shop.run("security", "report")
    assert none.code == 2
    assert "the policy has no security gate" in none.assert_one_error_line()

    chosen = shop.run("security", "report", "--gate", "security", "--format", "json")
    assert [g["id"] for g in chosen.json()["gates"]] == ["security"]
