"""The ``env-inventory`` and ``secret-refs`` check types, alone and in a gate."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from gonogo.checks.interface import CheckError, NotReported
from gonogo.config.build import build_inventory
from gonogo.config.inventory import write_inventory
from gonogo.config.scan import scan_tree
from gonogo.gates.results import Status
from tests.checks.helpers import context, evaluate, inputs
from tests.config.conftest import FIXTURE
from tests.helpers import Project

LITERAL = "sk_live_51HxLiteralSecretValue"


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    """A copy of the fixture project (every kind of env read, no literal secret)."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def test_env_inventory_without_an_inventory_is_not_reported(fixture_copy: Path) -> None:
    with pytest.raises(NotReported, match=r"gonogo\.env\.toml does not exist"):
        evaluate("env-inventory", {}, context(fixture_copy))


def test_env_inventory_passes_in_sync_and_counts_differences(fixture_copy: Path) -> None:
    write_inventory(fixture_copy / "gonogo.env.toml", build_inventory(scan_tree(fixture_copy)))
    observation, judgement = evaluate("env-inventory", {}, context(fixture_copy))
    assert observation.measured == 0
    assert (judgement.status, judgement.reason) == (
        Status.PASS,
        "inventory in sync: 42 variables",
    )
    assert observation.evidence[0].uri == "gonogo.env.toml"

    _write(fixture_copy, "app/new.py", 'import os\nNEW = os.environ["NEW_VAR"]\n')
    (fixture_copy / "web" / "config.ts").unlink()
    observation, judgement = evaluate("env-inventory", {}, context(fixture_copy))
    assert observation.measured == 3
    assert judgement.status is Status.FAIL
    assert judgement.reason == (
        "3 differences: NEW_VAR is read at app/new.py:2 but is not in gonogo.env.toml; "
        "SESSION_SECRET is in gonogo.env.toml but nothing reads it; "
        "VITE_API_URL is in gonogo.env.toml but nothing reads it"
    )


def test_env_inventory_depends_on_the_code_and_the_inventory(fixture_copy: Path) -> None:
    found = inputs("env-inventory", {"exclude": ["web/*"]}, context(fixture_copy))
    names = {p.relative_to(fixture_copy).as_posix() for p in found.files}
    assert "gonogo.env.toml" in names
    assert "app/settings.py" in names
    assert "web/server.js" not in names


def test_env_inventory_reports_an_invalid_inventory_as_an_error(fixture_copy: Path) -> None:
    _write(fixture_copy, "gonogo.env.toml", "[[variables]]\nname = 'X'\ntype = 'uuid'\n")
    with pytest.raises(CheckError, match="type 'uuid' is not one of"):
        evaluate("env-inventory", {}, context(fixture_copy))


def test_secret_refs_passes_on_references_and_pass_throughs(fixture_copy: Path) -> None:
    observation, judgement = evaluate("secret-refs", {}, context(fixture_copy))
    assert observation.measured == 0
    assert judgement.status is Status.PASS
    assert judgement.reason == "no literal secret in 15 scanned files"


def test_secret_refs_flags_literal_secrets_in_compose_and_dotenv_never_showing_them(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        "docker-compose.yml",
        f"""
        services:
          api:
            environment:
              - API_TOKEN={LITERAL}
              - DB_PASSWORD=${{DB_PASSWORD}}
              - STRIPE_KEY=ref+vault://secret/api#stripe
              - SESSION_SECRET_FILE=/run/secrets/session
              - LOG_LEVEL=debug
          worker:
            environment:
              DATABASE_URL: postgres://app:{LITERAL}@db/app
              CACHE_URL: redis://cache:6379/0
        """,
    )
    _write(tmp_path, ".env", f"SECRET_KEY={LITERAL}\nDEBUG=true\nAPI_TOKEN=\n")
    _write(tmp_path, ".env.example", "SECRET_KEY=<generate one>\n")

    observation, judgement = evaluate("secret-refs", {}, context(tmp_path))

    assert observation.measured == 3
    assert judgement.status is Status.FAIL
    assert judgement.reason == (
        "3 literal secrets: SECRET_KEY at .env:1, API_TOKEN at docker-compose.yml:4, "
        "DATABASE_URL at docker-compose.yml:11"
    )
    assert observation.details["findings"][0] == (
        ".env:1: SECRET_KEY (dotenv): a literal value (30 chars) for a secret; "
        "use a reference (ref+vault://…), a secret store or a mounted file"
    )
    everything = repr(observation.to_json()) + judgement.reason
    assert LITERAL not in everything


def test_secret_refs_flags_kubernetes_workflows_dockerfiles_and_marked_names(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        "k8s/secret.yaml",
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: api}
        stringData:
          anything: plain-text-in-git
          token: ref+gcpsecrets://proj/token
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api}
        spec:
          template:
            spec:
              containers:
                - name: api
                  env:
                    - name: API_PASSWORD
                      value: hunter2-in-a-manifest
                    - name: WEBHOOK_SECRET
                      valueFrom: {secretKeyRef: {name: api, key: token}}
        """,
    )
    _write(
        tmp_path,
        ".github/workflows/ci.yml",
        """
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            env:
              NPM_TOKEN: npm_literalTokenValue
              GH_TOKEN: ${{ secrets.GH_TOKEN }}
            steps: [{run: make}]
        """,
    )
    _write(tmp_path, "Dockerfile", "FROM alpine\nENV APP_SECRET=baked-into-the-image\n")
    _write(tmp_path, ".env.staging", "LICENCE=abc-def-ghi\nBROKER_REF=ref+vault://nomount\n")
    _write(
        tmp_path,
        "gonogo.env.toml",
        'schema = "gonogo.env/v1"\n[[variables]]\nname = "LICENCE"\nsecret = true\n',
    )

    observation, judgement = evaluate("secret-refs", {}, context(tmp_path))

    places = observation.details["places"]
    assert places == [
        "LICENCE at .env.staging:1",  # marked secret in the inventory
        "BROKER_REF at .env.staging:2",  # a malformed reference
        "NPM_TOKEN at .github/workflows/ci.yml:6",
        "APP_SECRET at Dockerfile:2",
        "anything at k8s/secret.yaml:5",  # a Secret manifest's data is in the repo
        "API_PASSWORD at k8s/secret.yaml:17",
    ]
    assert judgement.status is Status.FAIL
    text = repr(observation.to_json())
    for value in ("plain-text-in-git", "hunter2-in-a-manifest", "npm_literalTokenValue"):
        assert value not in text


def test_secret_refs_can_refuse_placeholders(tmp_path: Path) -> None:
    _write(tmp_path, ".env.example", "API_TOKEN=<your token>\nDB_PASSWORD=\n")
    assert evaluate("secret-refs", {}, context(tmp_path))[0].measured == 0
    strict, judgement = evaluate("secret-refs", {"allow_placeholders": False}, context(tmp_path))
    assert strict.details["places"] == ["API_TOKEN at .env.example:1"]
    assert judgement.status is Status.FAIL


POLICY = """
version = 1

[project]
name = "fixture"

[owners]
security = ["sam@example.com"]

[[gates]]
id = "environments"
title = "Environments"
phase = 3
owners = ["security"]

[[gates.criteria]]
id = "inventory"
check = "env-inventory"

[[gates.criteria]]
id = "secrets"
check = "secret-refs"
"""


def test_both_checks_in_a_gate_through_gonogo_check(
    fixture_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(root=fixture_copy, capsys=capsys, monkeypatch=monkeypatch)
    project.policy(POLICY)
    assert project.run("env", "scan").code == 0
    code, report = project.check_json()
    statuses = {c["criterion"]: c["status"] for c in report["gates"][0]["criteria"]}
    assert statuses == {"inventory": "pass", "secrets": "pass"}
    assert code == 1  # criteria pass, the owner has not signed

    override = f"services:\n  api:\n    environment:\n      API_TOKEN: {LITERAL}\n"
    _write(fixture_copy, "docker-compose.override.yml", override)
    _, report = project.check_json("--no-cache")
    secrets = report["gates"][0]["criteria"][1]
    assert secrets["status"] == "fail"
    assert "API_TOKEN at docker-compose.override.yml:4" in secrets["reason"]
    assert LITERAL not in project.run("check", "--format", "json").out
