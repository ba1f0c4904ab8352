"""JS/TS, Go, shell, Dockerfile, compose, Kubernetes, GitHub Actions and dotenv findings."""

from __future__ import annotations

from pathlib import Path

from gonogo.config.inventory import Inventory
from gonogo.config.scan import ScanResult, scan_tree
from gonogo.config.scanners.interface import Source
from tests.config.helpers import definitions_in, entry, reads_in


def test_every_source_kind_is_scanned(scanned: ScanResult) -> None:
    assert {source for _, source in scanned.files} == set(Source)
    assert scanned.warnings == []


def test_javascript_and_typescript_process_env(scanned: ScanResult) -> None:
    assert reads_in(scanned, "web/server.js") == [
        ("API_BASE_URL", 3, False, None, None),
        ("FEATURE_FLAGS", 4, False, "{}", None),  # destructuring default
        ("STRIPE_SECRET_KEY", 4, False, None, None),
        ("VERBOSE", 7, False, None, "bool"),
        ("WEB_PORT", 2, False, "3000", "int"),
    ]  # not COMMENTED_OUT (a comment) nor NODE_ENV (an assignment)
    assert reads_in(scanned, "web/config.ts") == [
        ("SESSION_SECRET", 4, False, "", None),
        ("VITE_API_URL", 5, False, None, None),
    ]  # not ALSO_COMMENTED (a block comment)


def test_go_getenv_and_lookupenv(scanned: ScanResult, inventory: Inventory) -> None:
    assert reads_in(scanned, "cmd/main.go") == [
        ("GITHUB_TOKEN", 12, False, None, None),
        ("LISTEN_ADDR", 10, False, None, None),
        ("READ_TIMEOUT_SECONDS", 11, False, None, "int"),
    ]  # not IGNORED (a comment)
    assert entry(inventory, "GITHUB_TOKEN")["secret"]


def test_shell_expansions_defaults_required_and_set_u(scanned: ScanResult) -> None:
    assert reads_in(scanned, "scripts/entrypoint.sh") == [
        ("APP_ENV", 3, True, None, None),  # ${APP_ENV:?…}
        ("GUNICORN_PORT", 8, False, "8000", None),  # ${GUNICORN_PORT:-8000}
        ("LOG_DIR", 4, False, "/var/log/app", None),  # read once, then the script's own
        ("WSGI_MODULE", 8, True, None, None),  # plain, after `set -u`
    ]  # not HOSTNAME/USER (the shell's), workers (lower case), single quotes, comments


def test_dockerfile_env_and_arg(scanned: ScanResult) -> None:
    assert definitions_in(scanned, "Dockerfile") == [
        ("API_TOKEN", 8, "image", "passthrough"),
        ("APP_HOME", 5, "image", "literal"),
        ("APP_VERSION", 3, "image", "literal"),
        ("LEGACY_MODE", 7, "image", "literal"),  # legacy `ENV NAME value`
        ("PIP_INDEX_URL", 2, "image", "empty"),
        ("PYTHONUNBUFFERED", 5, "image", "literal"),
    ]  # not COMMENTED


def test_compose_environment_list_map_env_file_and_interpolation(
    scanned: ScanResult, inventory: Inventory
) -> None:
    assert definitions_in(scanned, "docker-compose.yml") == [
        ("API_TOKEN", 7, "compose", "passthrough"),  # a bare name: from the shell
        ("DATABASE_URL", 5, "compose", "passthrough"),  # password interpolated
        ("DEBUG", 6, "compose", "literal"),
        ("POSTGRES_DB", 15, "compose", "passthrough"),  # `KEY:` with no value
        ("POSTGRES_PASSWORD", 14, "compose", "passthrough"),
        ("POSTGRES_USER", 13, "compose", "literal"),
    ]
    env_file = [d for d in scanned.definitions if d.path == "config/api.env"]
    assert {(d.name, d.line, d.environment) for d in env_file if d.source is Source.COMPOSE} == {
        ("WORKERS", 1, "compose"),
        ("SENTRY_DSN", 3, "compose"),
    }
    assert reads_in(scanned, "docker-compose.yml") == [
        ("POSTGRES_PASSWORD", 5, False, None, None),
        ("POSTGRES_PASSWORD", 14, True, None, None),  # ${POSTGRES_PASSWORD:?set it}
    ]
    assert entry(inventory, "POSTGRES_PASSWORD") == {
        "locations": ["docker-compose.yml:5", "docker-compose.yml:14"],
        "required": True,
        "default": None,
        "secret": True,
        "type": "str",
    }


def test_kubernetes_env_secret_key_ref_field_ref_and_env_from(
    scanned: ScanResult, inventory: Inventory
) -> None:
    path = "k8s/overlays/production/deployment.yaml"
    assert definitions_in(scanned, path) == [
        ("DATABASE_URL", 20, "production", "secret-store"),
        ("LOG_LEVEL", 32, "production", "literal"),  # envFrom the ConfigMap
        ("POD_NAME", 27, "production", "field-ref"),
        ("PORT", 32, "production", "literal"),
        ("REDIS_URL", 25, "production", "literal"),
    ]
    assert next(d for d in scanned.definitions if d.line == 20 and d.path == path).secret
    assert inventory.get("LOG_LEVEL").environments == ("production",)  # type: ignore[union-attr]


def test_github_actions_workflow_job_and_step_env(scanned: ScanResult) -> None:
    assert definitions_in(scanned, ".github/workflows/deploy.yml") == [
        ("API_TOKEN", 10, "production", "secret-store"),  # the job's environment
        ("DATABASE_URL", 15, "production", "secret-store"),
        ("DEBUG", 16, "production", "literal"),
        ("PYTHON_VERSION", 4, "ci", "literal"),  # the workflow's env
    ]


def test_dotenv_example_gives_descriptions_and_environments(
    scanned: ScanResult, inventory: Inventory
) -> None:
    assert definitions_in(scanned, ".env.example") == [
        ("API_TOKEN", 5, "example", "placeholder"),
        ("DATABASE_URL", 2, "example", "empty"),
        ("DEBUG", 4, "example", "literal"),
        ("PORT", 6, "example", "literal"),
    ]
    database = inventory.get("DATABASE_URL")
    assert database is not None
    assert database.description == "Primary database, with credentials"
    assert database.environments == ("compose", "example", "production")
    assert database.definitions == (
        ".env.example:2",
        ".github/workflows/deploy.yml:15",
        "docker-compose.yml:5",
        "k8s/overlays/production/deployment.yaml:20",
    )


def test_definitions_nothing_reads_are_listed_apart(scanned: ScanResult) -> None:
    assert sorted(scanned.unread()) == [
        "APP_HOME",
        "APP_VERSION",
        "LEGACY_MODE",
        "PIP_INDEX_URL",
        "POD_NAME",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "PYTHONUNBUFFERED",
        "PYTHON_VERSION",
    ]


def test_secret_classification_from_names_and_use(inventory: Inventory) -> None:
    secret = {v.name for v in inventory if v.secret}
    assert secret == {
        "API_TOKEN",
        "DATABASE_URL",
        "DJANGO_SECRET_KEY",
        "GITHUB_TOKEN",
        "POSTGRES_PASSWORD",
        "SESSION_SECRET",
        "SHOP_API_KEY",
        "SHOP_DB__PASSWORD",
        "SMTP_PASSWORD",
        "STRIPE_SECRET_KEY",
    }


def test_environment_names_come_from_paths(tmp_path: Path) -> None:
    files = {
        ".env": "A=1\n",
        ".env.staging": "A=1\n",
        "production.env": "A=1\n",
        "docker-compose.prod.yml": "services:\n  x:\n    environment:\n      A: 1\n",
        "Dockerfile.dev": "ENV A=1\n",
        "deploy/staging/app.yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
            "spec:\n  containers:\n    - name: c\n      env:\n        - {name: A, value: x}\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = scan_tree(tmp_path)
    assert {(d.path, d.environment) for d in result.definitions} == {
        (".env", "local"),
        (".env.staging", "staging"),
        ("production.env", "production"),
        ("docker-compose.prod.yml", "prod"),
        ("Dockerfile.dev", "dev"),
        ("deploy/staging/app.yaml", "staging"),
    }
