"""The ``env-parity`` and ``runbook`` check types, alone and through the gate engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gonogo.checks import registry
from gonogo.checks.interface import CheckError
from gonogo.config.runbook import generate
from gonogo.gates.results import Status
from gonogo.policy.load import find_policy, load_policy
from tests.checks.helpers import context, evaluate, inputs
from tests.config.parity_project import LITERAL_PASSWORD, POLICY, write, write_project
from tests.helpers import Project, criterion

EVERYTHING_ALLOWED = "".join(
    f'\n[[env.parity.allow]]\nkind = "{kind}"\nreason = "intended for this release"\n'
    for kind in ("missing", "flag", "toggle", "secret", "resources", "image", "dependency")
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The two-environment project."""
    return write_project(tmp_path / "shop")


def test_env_parity_fails_on_undeclared_differences_and_names_them(root: Path) -> None:
    observation, judgement = evaluate("env-parity", {}, context(root))

    assert observation.measured == 11
    assert judgement.status is Status.FAIL
    assert judgement.reason == (
        "11 undeclared differences between staging and production: var.CACHE_URL, "
        "helm.api.features.newSearch, var.FEATURE_SEARCH (and 8 more)"
    )
    assert judgement.expected == "0 undeclared differences"
    details = observation.details
    assert details["allowed"] == [
        "helm.api.replicaCount: production serves all traffic; staging runs one replica",
        "k8s.Deployment/api.replicas: production serves all traffic; staging runs one replica",
    ]
    assert any(
        line.startswith("var.DATABASE_URL (secret) differs") for line in details["undeclared"]
    )
    assert LITERAL_PASSWORD not in repr(observation.to_json()) + judgement.reason
    uris = {e.uri for e in observation.evidence}
    assert {".env.staging", "k8s/overlays/production/resources.yaml"} <= uris


def test_env_parity_passes_when_the_policy_allows_every_difference(root: Path) -> None:
    write(root, "gonogo.toml", POLICY + EVERYTHING_ALLOWED)
    observation, judgement = evaluate("env-parity", {}, context(root))
    assert observation.measured == 0
    assert (judgement.status, judgement.reason) == (
        Status.PASS,
        "staging and production are in parity (13 allowed by the policy)",
    )


def test_env_parity_compares_the_environments_it_is_given(root: Path) -> None:
    write(root, ".env.qa", "FEATURE_SEARCH=true\n")
    write(root, ".env.preview", "FEATURE_SEARCH=true\n")
    _, same = evaluate("env-parity", {"environments": ["qa", "preview"]}, context(root))
    assert (same.status, same.reason) == (Status.PASS, "qa and preview are in parity")


def test_env_parity_errors_on_an_unknown_environment_or_broken_yaml(root: Path) -> None:
    with pytest.raises(CheckError, match="unknown environment 'prod'"):
        evaluate("env-parity", {"environments": ["staging", "prod"]}, context(root))
    write(root, "charts/api/values-production.yaml", "redis: {enabled: [true}\n")
    with pytest.raises(CheckError, match=r"charts/api/values-production\.yaml:1: invalid YAML"):
        evaluate("env-parity", {}, context(root))


def test_env_parity_params_need_two_different_environments() -> None:
    model = registry.load("env-parity").params_model
    with pytest.raises(ValidationError, match="name two different environments"):
        model.model_validate({"environments": ["staging", "staging"]})
    with pytest.raises(ValidationError):
        model.model_validate({"environments": ["staging"]})


def test_env_parity_depends_on_every_definition_file_and_the_policy(root: Path) -> None:
    found = inputs("env-parity", {}, context(root))
    names = {p.relative_to(root).as_posix() for p in found.files}
    assert {
        "gonogo.toml",
        ".env.production",
        "k8s/base/deployment.yaml",
        "k8s/overlays/production/redis.yaml",
        "charts/api/values.yaml",
        "charts/api/Chart.yaml",
    } <= names


def test_runbook_check_missing_then_current_then_stale(root: Path) -> None:
    observation, judgement = evaluate("runbook", {}, context(root))
    assert observation.measured == 1
    assert (judgement.status, judgement.reason) == (
        Status.FAIL,
        "RUNBOOK.md does not exist; write it with `gonogo env runbook`",
    )

    book = generate(load_policy(find_policy(root)))
    (root / "RUNBOOK.md").write_text(book.text, encoding="utf-8")
    observation, judgement = evaluate("runbook", {}, context(root))
    assert (judgement.status, judgement.reason) == (Status.PASS, "RUNBOOK.md is up to date")
    assert observation.evidence[0].uri == "RUNBOOK.md"

    write(root, ".env.staging", "FEATURE_SEARCH=true\n")
    _, judgement = evaluate("runbook", {}, context(root))
    assert judgement.status is Status.FAIL
    assert judgement.reason.startswith("RUNBOOK.md is stale (it differs from what would be ")


def test_runbook_check_fails_on_an_environment_without_verification(root: Path) -> None:
    write(
        root,
        "gonogo.toml",
        POLICY.replace('verify = ["curl -fsS https://shop.example/healthz"]\n', ""),
    )
    observation, judgement = evaluate("runbook", {"path": "docs/RUNBOOK.md"}, context(root))
    assert observation.details["problems"] == [
        "docs/RUNBOOK.md does not exist; write it with `gonogo env runbook`",
        "production has no verify commands",
    ]
    assert judgement.status is Status.FAIL
    assert judgement.reason == "; ".join(observation.details["problems"])


def test_runbook_check_errors_without_environments(root: Path) -> None:
    write(root, "gonogo.toml", POLICY.split("[env.environments.staging]")[0])
    with pytest.raises(CheckError, match=r"declares no environment under \[env\.environments\]"):
        evaluate("runbook", {}, context(root))


def test_both_checks_in_a_gate_through_gonogo_check(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(root, capsys, monkeypatch)
    write(root, "gonogo.toml", POLICY + EVERYTHING_ALLOWED)
    assert project.run("env", "runbook").code == 0

    code, report = project.check_json()

    assert criterion(report, "environments.parity")["status"] == "pass"
    assert criterion(report, "environments.runbook")["status"] == "pass"
    assert code == 1  # the criteria pass; the operations owner has not signed

    # a definition changes: the cached results must not hide it (no --no-cache here)
    write(root, ".env.production", "CACHE_URL=redis://cache.prod:6379/0\nNEW_FLAG_ENABLED=yes\n")
    _, report = project.check_json()
    runbook = criterion(report, "environments.runbook")
    assert runbook["status"] == "fail"
    assert runbook["reason"].startswith("RUNBOOK.md is stale")
    assert criterion(report, "environments.parity")["status"] == "pass"  # all allowed

    write(root, "gonogo.toml", POLICY)  # the allowances go
    _, report = project.check_json()
    parity = criterion(report, "environments.parity")
    assert parity["status"] == "fail"
    assert "undeclared differences between staging and production" in parity["reason"]
    assert LITERAL_PASSWORD not in project.run("check", "--format", "json").out
