"""Bad environment definitions: one clear line (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.parity_project import POLICY, write, write_project
from tests.helpers import Project
from tests.secrets.helpers import fresh


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """The two-environment project, driven through the CLI."""
    return Project(write_project(tmp_path / "shop"), capsys, monkeypatch)


def _error(project: Project, *args: str) -> str:
    run = project.run(*args)
    assert run.code == 2, run.out + run.err
    assert run.out == ""
    return run.assert_one_error_line()


def test_an_unknown_environment_lists_the_known_ones(project: Project) -> None:
    line = _error(project, "env", "diff", "staging", "prodution")
    assert line == (
        "gonogo: error: unknown environment 'prodution': the policy does not declare it and "
        "no definition names it; known environments: production, staging"
    )


def test_a_name_that_is_no_environment_name_is_refused(project: Project) -> None:
    line = _error(project, "env", "diff", "staging", "../../etc")
    assert "'../../etc' is not an environment name" in line


def test_the_same_environment_twice_is_a_usage_error(project: Project) -> None:
    line = _error(project, "env", "diff", "staging", "staging")
    assert line == "gonogo: error: both sides are 'staging'; name two different environments"


def test_invalid_yaml_in_an_overlay_patch_names_the_file_and_line(project: Project) -> None:
    write(
        project.root,
        "k8s/overlays/production/resources.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: [3\n",
    )
    line = _error(project, "env", "diff", "staging", "production")
    assert line.startswith(
        "gonogo: error: k8s/overlays/production/resources.yaml:6: invalid YAML: "
    )
    assert line.endswith("; fix the syntax at that line")


def test_invalid_yaml_in_a_kustomization_and_in_helm_values(project: Project) -> None:
    write(project.root, "charts/api/values-staging.yaml", "features:\n\tnewSearch: true\n")
    line = _error(project, "env", "diff", "staging", "production")
    assert line.startswith("gonogo: error: charts/api/values-staging.yaml:2: invalid YAML: ")

    write(project.root, "charts/api/values-staging.yaml", "features: {}\n")
    write(
        project.root,
        "k8s/overlays/staging/kustomization.yaml",
        "resources:\n- ../../base\n  x: [\n",
    )
    line = _error(project, "env", "diff", "staging", "production")
    assert line.startswith("gonogo: error: k8s/overlays/staging/kustomization.yaml:")
    assert "invalid YAML" in line


def test_invalid_yaml_in_an_inline_patch_names_the_kustomization(project: Project) -> None:
    text = "resources: [../../base]\npatches:\n  - target: {kind: Deployment}\n    patch: 'a: [b'\n"
    write(project.root, "k8s/overlays/production/kustomization.yaml", text)
    line = _error(project, "env", "diff", "staging", "production")
    assert line.startswith(
        "gonogo: error: k8s/overlays/production/kustomization.yaml (inline patch):1: invalid YAML:"
    )


def test_a_missing_resource_folder_names_the_kustomization(project: Project) -> None:
    write(project.root, "k8s/overlays/staging/kustomization.yaml", "resources: [../../bsae]\n")
    line = _error(project, "env", "diff", "staging", "production")
    assert line == (
        "gonogo: error: k8s/overlays/staging/kustomization.yaml: resources entry "
        "'../../bsae' does not exist; fix the path or create it"
    )


def test_a_missing_folder_the_policy_names_is_an_error(project: Project) -> None:
    table = "[env.environments.production]\n"
    own = table + 'kubernetes = ["deploy/prod"]\n'
    write(project.root, "gonogo.toml", POLICY.replace(table, own))
    line = _error(project, "env", "diff", "staging", "production")
    assert line == (
        "gonogo: error: deploy/prod does not exist (named by "
        "[env.environments.production].kubernetes); create it or fix the path in the policy"
    )


def test_a_missing_patch_file_and_a_patch_for_nothing(project: Project) -> None:
    (project.root / "k8s/overlays/production/resources.yaml").unlink()
    line = _error(project, "env", "diff", "staging", "production")
    assert "kustomization.yaml: patch file 'resources.yaml' does not exist" in line

    write(
        project.root,
        "k8s/overlays/production/resources.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n",
    )
    line = _error(project, "env", "diff", "staging", "production")
    assert line == (
        "gonogo: error: k8s/overlays/production/kustomization.yaml: patch resources.yaml "
        "changes Deployment/web, which no resource declares"
    )


def test_a_json_patch_on_a_path_that_is_not_there(project: Project) -> None:
    text = (
        "resources: [../../base]\npatches:\n  - target: {kind: Deployment, name: api}\n"
        "    patch: |-\n      - op: replace\n        path: /spec/strategy/type\n"
        "        value: Recreate\n"
    )
    write(project.root, "k8s/overlays/production/kustomization.yaml", text)
    line = _error(project, "env", "diff", "staging", "production")
    assert line == (
        "gonogo: error: k8s/overlays/production/kustomization.yaml: patch (inline) on "
        "Deployment/api: operation 1 (replace /spec/strategy/type) does not apply: no such path"
    )


def test_resources_that_lead_back_to_themselves(project: Project) -> None:
    write(project.root, "k8s/base/kustomization.yaml", "resources: [../overlays/staging]\n")
    line = _error(project, "env", "diff", "staging", "production")
    assert "its resources lead back to" in line


def test_an_env_file_that_is_not_utf8(project: Project) -> None:
    (project.root / ".env.staging").write_bytes(b"FEATURE_SEARCH=\xff\xfe\n")
    line = _error(project, "env", "diff", "staging", "production")
    assert line == "gonogo: error: cannot read .env.staging: it is not UTF-8 text"


def test_remote_resources_and_bad_dotenv_lines_are_warnings(project: Project) -> None:
    write(
        project.root,
        "k8s/overlays/staging/kustomization.yaml",
        "resources:\n  - ../../base\n  - github.com/org/repo//deploy?ref=v1\n",
    )
    write(project.root, ".env.staging", "FEATURE_SEARCH=false\nnot an assignment\n")
    run = project.run("env", "diff", "staging", "production")
    assert run.code == 1
    assert (
        "gonogo: warning: k8s/overlays/staging/kustomization.yaml: remote resource "
        "github.com/org/repo//deploy?ref=v1 not fetched; skipped"
    ) in run.err_lines
    assert (
        "gonogo: warning: .env.staging: line 2 is not a KEY=value assignment; skipped"
    ) in run.err_lines


def test_an_invalid_allow_entry_is_a_policy_error(project: Project) -> None:
    write(project.root, "gonogo.toml", POLICY + '\n[[env.parity.allow]]\nreason = "why not"\n')
    line = _error(project, "env", "diff", "staging", "production")
    assert "env.parity.allow[1]" in line
    assert "an allowed difference needs a `key`, a `kind` or both" in line


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_a_token_given_to_a_flag_or_a_helm_value_is_never_shown(project: Project, fmt: str) -> None:
    tokens = fresh(43)
    flag, helm = tokens["slack-bot-token"].secret, tokens["github-pat"].secret
    env = (project.root / ".env.staging").read_text("utf-8")
    write(
        project.root, ".env.staging", env.replace("FEATURE_SEARCH=true", f"FEATURE_SEARCH={flag}")
    )
    values = project.root / "charts/api/values-staging.yaml"
    write(
        project.root,
        "charts/api/values-staging.yaml",
        values.read_text("utf-8") + f"greeting: {helm}\n",
    )

    run = project.run("env", "diff", "staging", "production", "--format", fmt)

    assert run.code == 1
    assert flag not in run.out + run.err
    assert helm not in run.out + run.err
    assert "helm.api.greeting" in run.out  # reported, by its source only


@pytest.mark.parametrize("command", [("env", "diff", "staging", "production"), ("env", "runbook")])
def test_a_folder_where_the_inventory_belongs_is_named_not_ignored(
    project: Project, command: tuple[str, ...]
) -> None:
    (project.root / "gonogo.env.toml").mkdir()

    line = _error(project, *command)

    assert "gonogo.env.toml is a folder, not an inventory file" in line
