"""``gonogo env diff``: what two environments' real definition files say differently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gonogo.config.parity.compare import ParityReport, compare
from gonogo.config.parity.report import diff_text
from gonogo.config.parity.sources import known_environments, load_environment
from gonogo.policy.environments import EnvPolicy, ParityAllow, ParityKind, key_matches
from gonogo.policy.load import find_policy, load_policy
from tests.config.helpers import html_page, html_table_rows, html_text
from tests.config.parity_project import HELM_SECRET, LITERAL_PASSWORD, POLICY, write, write_project
from tests.helpers import Project


@pytest.fixture
def project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Project:
    """The two-environment project, driven through the CLI."""
    return Project(write_project(tmp_path / "shop"), capsys, monkeypatch)


def _report(root: Path) -> ParityReport:
    env = load_policy(find_policy(root)).policy.env
    staging = load_environment(root, env, "staging")
    production = load_environment(root, env, "production")
    return compare(staging, production, env)


def _by_key(report: ParityReport) -> dict[str, Any]:
    return {d.key: d for d in report.differences}


def test_every_kind_of_difference_is_found_and_replicas_are_allowed(project: Project) -> None:
    report = _report(project.root)

    undeclared = [(d.kind.value, d.key) for d in report.undeclared]
    assert undeclared == [
        ("missing", "var.CACHE_URL"),
        ("flag", "helm.api.features.newSearch"),
        ("flag", "var.FEATURE_SEARCH"),
        ("flag", "var.PAYMENTS_ENABLED"),
        ("toggle", "toggle.new_checkout"),
        ("secret", "helm.api.auth.apiToken"),
        ("secret", "var.DATABASE_URL"),
        ("resources", "k8s.Deployment/api.container.api.resources.limits.memory"),
        ("image", "k8s.Deployment/api.container.api.image"),
        ("dependency", "helm.api.redis.enabled"),
        ("dependency", "k8s.Service/redis"),
    ]
    assert [(d.key, d.reason) for d in report.allowed] == [
        ("helm.api.replicaCount", "production serves all traffic; staging runs one replica"),
        ("k8s.Deployment/api.replicas", "production serves all traffic; staging runs one replica"),
    ]


def test_a_missing_variable_names_where_the_other_side_sets_it(project: Project) -> None:
    missing = _by_key(_report(project.root))["var.CACHE_URL"]
    assert missing.describe() == (
        "var.CACHE_URL is set in staging: 'redis://cache.staging:6379/0' (.env.staging:4); "
        "not in production"
    )
    assert (missing.left.present, missing.right.present) == (True, False)


def test_flags_differ_in_env_files_generated_config_maps_and_helm_values(project: Project) -> None:
    found = _by_key(_report(project.root))
    assert found["var.FEATURE_SEARCH"].describe() == (
        "var.FEATURE_SEARCH differs: staging 'true' (.env.staging:3), "
        "production 'false' (.env.production:2)"
    )
    payments = found["var.PAYMENTS_ENABLED"]
    assert (payments.left.where, payments.right.where) == (
        "k8s/overlays/staging/kustomization.yaml",
        "k8s/overlays/production/kustomization.yaml",
    )
    search = found["helm.api.features.newSearch"]
    assert (search.left.value, search.right.value) == ("true", "false")
    assert search.left.where == "charts/api/values-staging.yaml"


def test_a_plain_value_that_differs_is_reported_only_when_asked(project: Project) -> None:
    keys = set(_by_key(_report(project.root)))
    assert "var.LOG_LEVEL" not in keys
    assert "helm.api.ingress.host" not in keys

    write(project.root, "gonogo.toml", POLICY + '\n[env.parity]\nvalues = "all"\n')
    every = _by_key(_report(project.root))
    assert every["var.LOG_LEVEL"].kind is ParityKind.VALUE
    assert every["helm.api.ingress.host"].describe() == (
        "helm.api.ingress.host differs: staging staging.shop.example "
        "(charts/api/values-staging.yaml), production shop.example "
        "(charts/api/values-production.yaml)"
    )


def test_resources_compare_by_quantity_and_name_the_patch_that_set_them(project: Project) -> None:
    found = _by_key(_report(project.root))
    memory = found["k8s.Deployment/api.container.api.resources.limits.memory"]
    assert memory.describe() == (
        "k8s.Deployment/api.container.api.resources.limits.memory differs: "
        "staging 256Mi (k8s/base/deployment.yaml), "
        "production 512Mi (k8s/overlays/production/resources.yaml)"
    )
    # 500m = "0.5" (strategic-merge patch) and 100m = "0.1" (inline JSON 6902 patch)
    assert not any(k.endswith(("limits.cpu", "requests.cpu")) for k in found)


def test_topology_replicas_image_and_dependencies(project: Project) -> None:
    found = _by_key(_report(project.root))
    replicas = found["k8s.Deployment/api.replicas"]
    assert (replicas.left.value, replicas.right.value) == ("1", "3")
    assert replicas.right.where == "k8s/overlays/production/kustomization.yaml"  # replicas:
    assert replicas.allowed
    image = found["k8s.Deployment/api.container.api.image"]
    assert (image.left.value, image.right.value) == (
        "ghcr.io/shop/api:1.5.0-rc.1",
        "ghcr.io/shop/api:1.4.0",
    )
    redis = found["k8s.Service/redis"]
    assert redis.describe() == (
        "k8s.Service/redis is set in production: present "
        "(k8s/overlays/production/redis.yaml); not in staging"
    )
    assert found["helm.api.redis.enabled"].kind is ParityKind.DEPENDENCY


def test_a_secret_that_differs_is_shown_by_source_never_by_value(project: Project) -> None:
    run = project.run("env", "diff", "staging", "production")
    as_json = project.run("env", "diff", "staging", "production", "--format", "json")
    markdown = project.run("env", "diff", "staging", "production", "--format", "markdown")
    html = project.run("env", "diff", "staging", "production", "--format", "html")

    assert "var.DATABASE_URL (secret) differs: staging a Vault reference (.env.staging:2), " in (
        run.out
    )
    assert "production a literal value in the repository (.env.production:1); values not shown" in (
        run.out
    )
    assert "helm.api.auth.apiToken (secret) differs: staging a literal value" in run.out
    assert (
        "| secret | var.DATABASE\\_URL (secret; values not shown) | a Vault reference "
        "(.env.staging:2) | a literal value in the repository (.env.production:1) |"
    ) in markdown.out
    assert [
        "secret",
        "var.DATABASE_URL (secret; values not shown)",
        "a Vault reference (.env.staging:2)",
        "a literal value in the repository (.env.production:1)",
    ] in html_table_rows(html.out)
    every = (as_json, markdown, html)
    for output in (run.out, run.err, *(r.out for r in every), *(r.err for r in every)):
        assert LITERAL_PASSWORD not in output
        assert HELM_SECRET not in output
        assert "secret/shop/staging/db" not in output  # not even the reference
    secret = next(d for d in as_json.json()["differences"] if d["key"] == "var.DATABASE_URL")
    assert secret["secret"] is True
    assert secret["right"]["value"] == "a literal value in the repository"


def test_secrets_from_the_same_kind_of_source_do_not_differ(project: Project) -> None:
    write(project.root, ".env.production", "DATABASE_URL=ref+vault://secret/shop/prod/db#url\n")
    found = _by_key(_report(project.root))
    assert "var.DATABASE_URL" not in found  # two vault references: values meant to differ
    assert "var.API_TOKEN" not in found  # secretKeyRef on both sides


def test_text_report_lists_undeclared_then_allowed_and_exits_1(project: Project) -> None:
    run = project.run("env", "diff", "staging", "production")

    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("staging against production (")
    assert lines.index("Undeclared differences:") < lines.index("Allowed by the policy:")
    assert "  reason: production serves all traffic; staging runs one replica" in "\n".join(lines)
    assert lines[-1] == (
        "11 undeclared differences between staging and production (2 allowed by the policy); "
        "allow the intended ones under [[env.parity.allow]] in the policy, each with a reason"
    )


def test_json_report_has_the_documented_shape(project: Project) -> None:
    run = project.run("env", "diff", "staging", "production", "--format", "json")

    assert run.code == 1
    document = run.json()
    assert document["schema"] == "gonogo.env-diff/v1"
    assert document["environments"] == ["staging", "production"]
    assert (document["in_parity"], document["undeclared"], document["allowed"]) == (False, 11, 2)
    replicas = next(d for d in document["differences"] if d["key"] == "k8s.Deployment/api.replicas")
    assert replicas == {
        "key": "k8s.Deployment/api.replicas",
        "kind": "replicas",
        "secret": False,
        "allowed": True,
        "reason": "production serves all traffic; staging runs one replica",
        "message": replicas["message"],
        "left": {
            "environment": "staging",
            "present": True,
            "value": "1",
            "where": "k8s/base/deployment.yaml",
        },
        "right": {
            "environment": "production",
            "present": True,
            "value": "3",
            "where": "k8s/overlays/production/kustomization.yaml",
        },
    }
    flag = next(d for d in document["differences"] if d["key"] == "var.FEATURE_SEARCH")
    assert (flag["left"]["value"], flag["right"]["value"]) == ("true", "false")  # unquoted
    assert "k8s/overlays/production/resources.yaml" in document["sources"]["production"]
    assert ".env.staging" in document["sources"]["staging"]


def test_declaring_every_difference_brings_parity_and_exit_0(project: Project) -> None:
    allow = "".join(
        f'\n[[env.parity.allow]]\nkind = "{kind}"\nreason = "intended for this release"\n'
        for kind in ("missing", "flag", "toggle", "secret", "resources", "image", "dependency")
    )
    write(project.root, "gonogo.toml", POLICY + allow)

    run = project.run("env", "diff", "staging", "production")

    assert run.code == 0, run.out
    assert run.out.splitlines()[-1] == (
        "staging and production are in parity (13 allowed by the policy)"
    )


def test_an_allow_entry_can_be_limited_to_two_environments(project: Project) -> None:
    limited = '\n[[env.parity.allow]]\nkey = "var.CACHE_URL"\nenvironments = ["qa", "production"]\n'
    write(project.root, "gonogo.toml", POLICY + limited + 'reason = "qa only"\n')
    assert "var.CACHE_URL" in {d.key for d in _report(project.root).undeclared}


def test_allow_keys_match_whole_keys_or_dotted_tails() -> None:
    assert key_matches("replicas", "k8s.Deployment/api.replicas")
    assert key_matches(
        "resources.limits.*", "k8s.Deployment/api.container.api.resources.limits.cpu"
    )
    assert key_matches("var.SENTRY_*", "var.SENTRY_DSN")
    assert not key_matches("replicas", "helm.api.replicaCount")
    assert not key_matches("DSN", "var.SENTRY_DSN")
    entry = ParityAllow(kind=ParityKind.IMAGE, reason="release candidate")
    assert entry.covers("any.key", ParityKind.IMAGE, ("staging", "production"))
    assert not entry.covers("any.key", ParityKind.RESOURCES, ("staging", "production"))


def test_the_inventory_marks_a_variable_secret(project: Project) -> None:
    write(project.root, ".env.staging", "LICENCE_CODE=abc-123\n")
    write(project.root, ".env.production", "LICENCE_CODE=ref+awssecrets://shop/licence#code\n")
    write(
        project.root,
        "gonogo.env.toml",
        'schema = "gonogo.env/v1"\n[[variables]]\nname = "LICENCE_CODE"\nsecret = true\n',
    )
    run = project.run("env", "diff", "staging", "production")
    assert "var.LICENCE_CODE (secret) differs: staging a literal value in the repository" in run.out
    assert "abc-123" not in run.out


def test_environments_are_found_by_the_default_patterns(project: Project) -> None:
    write(project.root, ".env.qa", "FEATURE_SEARCH=true\n")
    write(project.root, ".env.example", "FEATURE_SEARCH=\n")
    env = load_policy(find_policy(project.root)).policy.env
    assert known_environments(project.root, env) == ["staging", "production", "qa"]
    qa = load_environment(project.root, env, "qa")
    assert qa.files == (".env.qa",)
    assert qa.toggles == {}


def test_without_a_policy_the_default_sources_still_compare(tmp_path: Path) -> None:
    write(tmp_path, ".env.staging", "FEATURE_X=on\n")
    write(tmp_path, "config/production.env", "FEATURE_X=off\n")
    env = EnvPolicy()
    report = compare(
        load_environment(tmp_path, env, "staging"),
        load_environment(tmp_path, env, "production"),
        env,
    )
    assert [d.describe() for d in report.differences] == [
        "var.FEATURE_X differs: staging 'on' (.env.staging:1), "
        "production 'off' (config/production.env:1)"
    ]


def test_an_environment_can_name_its_own_definitions(project: Project) -> None:
    overlays = project.root / "k8s" / "overlays"
    (overlays / "production").rename(overlays / "prod")
    table = "[env.environments.production]\n"
    write(
        project.root,
        "gonogo.toml",
        POLICY.replace(table, table + 'kubernetes = ["k8s/overlays/prod"]\n'),
    )

    found = _by_key(_report(project.root))

    assert (
        found["k8s.Deployment/api.replicas"].right.where == "k8s/overlays/prod/kustomization.yaml"
    )
    assert "k8s.Service/redis" in found


def test_markdown_report_has_the_verdict_then_each_difference(project: Project) -> None:
    run = project.run("env", "diff", "staging", "production", "--format", "markdown")

    assert run.code == 1
    assert run.out.startswith(
        "# Environment parity: staging against production\n\n"
        "❌ **not in parity**: 11 undeclared differences between staging and production "
        "(2 allowed by the policy); allow the intended ones"
    )
    assert "| definition files read | 13 |" in run.out
    undeclared, allowed = run.out.index("## Undeclared"), run.out.index("## Allowed by the policy")
    flag = "| flag | var.FEATURE\\_SEARCH | 'true' (.env.staging:3) | 'false' (.env.production:2) |"
    assert undeclared < run.out.index(flag) < allowed
    assert (
        "| replicas | k8s.Deployment/api.replicas | 1 (k8s/base/deployment.yaml) | "
        "3 (k8s/overlays/production/kustomization.yaml) | "
        "production serves all traffic; staging runs one replica |"
    ) in run.out


def test_html_report_has_the_verdict_each_difference_and_the_files_read(
    project: Project, tmp_path: Path
) -> None:
    report = tmp_path / "parity.html"

    run = project.run(
        "env", "diff", "staging", "production", "--format", "html", "--output", str(report)
    )

    assert run.code == 1
    assert run.out == ""
    page = report.read_text(encoding="utf-8")
    root = html_page(page)
    assert html_text(root.find("head/title")) == "Environment parity: staging against production"
    badge = root.find("body/h1/span")
    assert badge is not None
    assert (html_text(badge), badge.get("class")) == ("not in parity", "badge bad")
    assert [html_text(h) for h in root.iter("h2")] == [
        "Undeclared differences",
        "Allowed by the policy",
        "Definition files",
    ]
    rows = html_table_rows(page)
    assert ["undeclared differences", "11"] in rows
    assert [
        "missing",
        "var.CACHE_URL",
        "'redis://cache.staging:6379/0' (.env.staging:4)",
        "not set",
    ] in rows
    replicas = next(r for r in rows if r[1] == "k8s.Deployment/api.replicas")
    assert replicas[2:] == [
        "1 (k8s/base/deployment.yaml)",
        "3 (k8s/overlays/production/kustomization.yaml)",
        "production serves all traffic; staging runs one replica",
    ]
    production = next(r for r in rows if r[0] == "production")
    assert ".env.production" in production[1].split(", ")


def test_html_report_of_environments_in_parity_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, ".env.staging", "FEATURE_X=on\n")
    write(tmp_path, ".env.production", "FEATURE_X=on\n")

    run = Project(tmp_path, capsys, monkeypatch).run(
        "env", "diff", "staging", "production", "--format", "html"
    )

    assert run.code == 0
    root = html_page(run.out)
    assert html_text(root.find("body/h1/span")) == "in parity"
    assert html_text(root.find("body/p")) == "staging and production are in parity"
    assert [html_text(p) for p in root.iter("p") if p.get("class") == "muted"] == [
        "No undeclared differences.",
        "No allowed differences.",
    ]


def test_the_text_report_is_built_in_the_domain_and_printed_as_is(project: Project) -> None:
    run = project.run("env", "diff", "staging", "production")

    assert run.out == diff_text(_report(project.root)) + "\n"
