"""``gonogo env runbook``: one runbook from the policy, the inventory and the definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.policy.environments import UnknownEnvironment, environment_commands
from gonogo.policy.load import find_policy, load_policy
from tests.config.parity_project import HELM_SECRET, LITERAL_PASSWORD, POLICY, write, write_project
from tests.helpers import Project

INVENTORY = """
schema = "gonogo.env/v1"

[[variables]]
name = "DATABASE_URL"
type = "url"
required = true
secret = true
locations = ["app/settings.py:3"]

[[variables]]
name = "CACHE_URL"
required = true
locations = ["app/settings.py:4"]

[[variables]]
name = "PORT"
type = "int"
default = "8080"
locations = ["app/settings.py:5"]

[[variables]]
name = "SIGNING_KEY"
required = true
secret = true
locations = ["app/settings.py:6"]
"""


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """The two-environment project with an inventory, driven through the CLI."""
    root = write_project(tmp_path / "shop")
    write(root, "gonogo.env.toml", INVENTORY)
    return Project(root, capsys, monkeypatch)


def _section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_runbook_is_written_to_the_policy_path_with_every_environment(project: Project) -> None:
    run = project.run("env", "runbook")

    assert run.code == 0, run.err
    written = (project.root / "RUNBOOK.md").read_text(encoding="utf-8")
    assert written.startswith("# Runbook: shop\n")
    assert "Environments: [staging](#staging), [production](#production)." in written
    assert written.index("\n## staging\n") < written.index("\n## production\n")
    assert run.err_lines[-1].startswith(f"wrote {project.root / 'RUNBOOK.md'}: 2 environments")
    assert run.out == ""


def test_each_environment_has_its_deploy_verify_and_rollback_commands(project: Project) -> None:
    project.run("env", "runbook")
    text = (project.root / "RUNBOOK.md").read_text(encoding="utf-8")
    staging = _section(text, "## staging")

    assert "Pre-production: production's topology on one replica." in staging
    assert (
        "### Deploy\n\n```sh\nkubectl apply -k k8s/overlays/staging\n"
        "kubectl rollout status deployment/api -n staging\n```"
    ) in staging
    assert (
        "### Verify\n\nRun these after every deploy and every rollback:\n\n"
        "```sh\ncurl -fsS https://staging.shop.example/healthz\n```"
    ) in staging
    assert "### Rollback\n\n```sh\nkubectl rollout undo deployment/api -n staging\n```" in staging
    assert "| `new_checkout` | `true` |" in staging
    assert "Defined by: `.env.staging`, `k8s/overlays/staging/kustomization.yaml`," in staging


def test_config_sources_come_from_the_definitions_and_the_inventory(project: Project) -> None:
    project.run("env", "runbook")
    text = (project.root / "RUNBOOK.md").read_text(encoding="utf-8")
    staging, production = _section(text, "## staging"), _section(text, "## production")

    assert "| `CACHE_URL` | yes | `.env.staging:4` |" in staging
    assert "| `CACHE_URL` | yes | **not set, but required**: it must be injected at run time |" in (
        production
    )
    assert "| `PORT` | no | not set: the code's default `8080` |" in staging
    assert (
        "| `PAYMENTS_ENABLED` |  | `k8s/overlays/production/kustomization.yaml` "
        "(ConfigMap api-config) |"
    ) in production
    assert (
        "| `WORKERS` |  | `k8s/base/deployment.yaml` (Deployment api, container api) |" in staging
    )


def test_secret_sources_are_shown_and_secret_values_never(project: Project) -> None:
    project.run("env", "runbook")
    text = (project.root / "RUNBOOK.md").read_text(encoding="utf-8")
    staging, production = _section(text, "## staging"), _section(text, "## production")

    assert (
        "| `DATABASE_URL` | yes | a Vault reference: `ref+vault://secret/shop/staging/db#url` "
        "| `.env.staging:2` |"
    ) in staging
    assert (
        "| `DATABASE_URL` | yes | **a literal value in the repository** (not shown): move it to a "
        "secret store | `.env.production:1` |"
    ) in production
    assert "| `API_TOKEN` |  | Kubernetes Secret api, key token | `k8s/base/deployment.yaml` |" in (
        staging
    )
    assert (
        "| `SIGNING_KEY` | yes | not defined here: it must be injected at run time |  |"
    ) in production
    assert LITERAL_PASSWORD not in text
    assert HELM_SECRET not in text


def test_a_reference_with_a_secret_query_parameter_is_masked(project: Project) -> None:
    write(
        project.root,
        ".env.staging",
        "DATABASE_URL=ref+vault://secret/db?token=s.LeakedVaultToken#url\n",
    )
    project.run("env", "runbook")
    text = (project.root / "RUNBOOK.md").read_text(encoding="utf-8")
    assert "`ref+vault://secret/db?token=%2A%2A%2A#url`" in text
    assert "LeakedVaultToken" not in text


def test_output_elsewhere_or_to_stdout(project: Project) -> None:
    elsewhere = project.root / "docs" / "deploy.md"
    run = project.run("env", "runbook", "--output", str(elsewhere))
    assert run.code == 0
    assert elsewhere.read_text(encoding="utf-8").startswith("# Runbook: shop")
    printed = project.run("env", "runbook", "--output", "-")
    assert printed.out == elsewhere.read_text(encoding="utf-8")
    assert project.run("env", "runbook", "--check", "--output", str(elsewhere)).code == 0
    assert not (project.root / "RUNBOOK.md").exists()


def test_the_same_inputs_give_the_same_file(project: Project) -> None:
    project.run("env", "runbook")
    first = (project.root / "RUNBOOK.md").read_bytes()
    project.run("env", "runbook")
    assert (project.root / "RUNBOOK.md").read_bytes() == first


def test_check_finds_the_runbook_missing_then_current_then_stale(project: Project) -> None:
    missing = project.run("env", "runbook", "--check")
    assert (missing.code, missing.out) == (
        1,
        "RUNBOOK.md does not exist; write it with `gonogo env runbook`\n",
    )
    project.run("env", "runbook")
    current = project.run("env", "runbook", "--check")
    assert (current.code, current.out) == (0, "RUNBOOK.md is up to date\n")

    write(
        project.root,
        "gonogo.toml",
        POLICY.replace(
            "rollout undo deployment/api -n staging", "rollout undo deploy/api -n staging"
        ),
    )
    stale = project.run("env", "runbook", "--check")
    assert stale.code == 1
    assert stale.out.startswith("RUNBOOK.md is stale (it differs from what would be generated ")
    assert "regenerate it with `gonogo env runbook`" in stale.out


def test_a_changed_definition_makes_the_runbook_stale(project: Project) -> None:
    project.run("env", "runbook")
    write(project.root, ".env.production", "CACHE_URL=redis://cache.prod:6379/0\n")
    assert project.run("env", "runbook", "--check").code == 1


def test_an_environment_without_rollback_is_flagged(project: Project) -> None:
    policy = POLICY.replace(
        'rollback = ["kubectl rollout undo deployment/api -n production"]\n', ""
    )
    write(project.root, "gonogo.toml", policy)

    run = project.run("env", "runbook")

    assert run.code == 0
    assert "gonogo: warning: production has no rollback commands" in run.err_lines
    text = (project.root / "RUNBOOK.md").read_text(encoding="utf-8")
    assert (
        "### Rollback\n\n> **Missing:** `[env.environments.production]` has no `rollback` commands."
    ) in text
    check = project.run("env", "runbook", "--check")
    assert (check.code, check.out) == (1, "production has no rollback commands\n")


def test_a_policy_without_environments_is_a_usage_error(project: Project) -> None:
    write(project.root, "gonogo.toml", POLICY.split("[env.environments.staging]")[0])
    run = project.run("env", "runbook")
    assert run.code == 2
    assert run.assert_one_error_line() == (
        "gonogo: error: gonogo.toml declares no environment under [env.environments]; add "
        "[env.environments.NAME] tables with deploy, rollback and verify commands"
    )


def test_a_named_inventory_must_exist(project: Project) -> None:
    run = project.run("env", "runbook", "--inventory", "nope.toml")
    assert run.code == 2
    assert "--inventory nope.toml does not exist" in run.assert_one_error_line()


def test_the_rollout_gets_the_same_commands_from_the_policy(project: Project) -> None:
    env = load_policy(find_policy(project.root)).policy.env
    commands = environment_commands(env, "production")
    assert commands.deploy == ("kubectl apply -k k8s/overlays/production",)
    assert commands.rollback == ("kubectl rollout undo deployment/api -n production",)
    assert commands.verify == ("curl -fsS https://shop.example/healthz",)
    assert commands.missing == ()
    with pytest.raises(UnknownEnvironment, match="no environment 'qa' under"):
        environment_commands(env, "qa")
