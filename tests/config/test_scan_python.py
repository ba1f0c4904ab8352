"""The Python scanner finds exactly the reads of the fixture project's Python files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gonogo.config.inventory import Inventory
from gonogo.config.scan import ScanResult, scan_tree
from tests.config.helpers import entry, reads_in


def test_os_environ_getenv_and_an_alias_of_os_environ(scanned: ScanResult) -> None:
    assert reads_in(scanned, "app/settings.py") == [
        ("API_TOKEN", 12, True, None, None),
        ("DATABASE_URL", 6, True, None, None),
        ("DEBUG", 7, False, "false", "bool"),
        ("LOG_LEVEL", 18, False, "INFO", None),
        ("PORT", 8, False, "8000", "int"),
        ("REDIS_URL", 10, False, None, None),
        ("SENTRY_DSN", 11, False, None, None),
        ("WORKERS", 9, False, "4", "int"),
    ]  # WRITTEN_NOT_READ is assigned, not read


def test_pydantic_settings_prefix_aliases_nested_delimiter_and_secret_types(
    scanned: ScanResult, inventory: Inventory
) -> None:
    assert reads_in(scanned, "app/pyd_settings.py") == [
        ("AWS_REGION", 23, False, "eu", "str"),
        ("CACHE_URL", 22, False, "redis://localhost:6379/0", "str"),
        ("SHOP_API_KEY", 19, True, None, "str"),
        ("SHOP_CALLBACK_URL", 20, False, None, "url"),
        ("SHOP_DB__HOST", 10, False, "localhost", "str"),
        ("SHOP_DB__PASSWORD", 12, True, None, "str"),
        ("SHOP_DB__PORT", 11, False, "5432", "int"),
        ("SHOP_ENVIRONMENT", 18, False, "dev", "enum"),
        ("SHOP_REGION", 23, False, "eu", "str"),
        ("SHOP_TIMEOUT", 21, False, "2.5", "float"),
    ]
    assert inventory.get("SHOP_ENVIRONMENT").choices == ("dev", "staging", "production")  # type: ignore[union-attr]
    assert entry(inventory, "SHOP_API_KEY")["secret"]  # SecretStr
    assert entry(inventory, "SHOP_DB__PASSWORD")["secret"]
    assert not entry(inventory, "SHOP_DB__HOST")["secret"]


def test_django_environ_schema_typed_getters_and_default_names(scanned: ScanResult) -> None:
    assert reads_in(scanned, "app/django_settings.py") == [
        ("ALLOWED_HOSTS", 11, False, None, "str"),
        ("DATABASE_URL", 9, True, None, "url"),  # env.db() reads DATABASE_URL
        ("DJANGO_DEBUG", 7, False, "false", "bool"),  # from the schema (bool, False)
        ("DJANGO_SECRET_KEY", 8, True, None, None),
        ("EMAIL_TIMEOUT", 10, False, "30", "int"),
    ]


def test_python_decouple_defaults_and_casts(scanned: ScanResult, inventory: Inventory) -> None:
    assert reads_in(scanned, "app/mail.py") == [
        ("MAIL_MODE", 8, False, "smtp", "enum"),
        ("MAIL_RECIPIENTS", 9, False, "", "str"),
        ("SMTP_HOST", 5, True, None, None),
        ("SMTP_PASSWORD", 7, False, "", None),
        ("SMTP_PORT", 6, False, "25", "int"),
    ]
    assert inventory.get("MAIL_MODE").choices == ("smtp", "console")  # type: ignore[union-attr]


def test_inventory_entries_of_python_reads(inventory: Inventory) -> None:
    assert entry(inventory, "DATABASE_URL") == {
        "locations": ["app/django_settings.py:9", "app/settings.py:6"],
        "required": True,
        "default": None,
        "secret": True,  # a secretKeyRef in k8s and a GitHub secret define it
        "type": "url",
    }
    assert entry(inventory, "PORT") == {
        "locations": ["app/settings.py:8"],
        "required": False,
        "default": "8000",
        "secret": False,
        "type": "int",
    }
    assert entry(inventory, "SMTP_PASSWORD") == {
        "locations": ["app/mail.py:7"],
        "required": False,
        "default": None,  # a secret's default is never written down
        "secret": True,
        "type": "str",
    }
    assert entry(inventory, "DJANGO_SECRET_KEY")["secret"]
    assert not entry(inventory, "LOG_LEVEL")["secret"]


def test_module_constants_fallbacks_and_pops(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text(
        textwrap.dedent(
            """\
            import os as system

            DEFAULT_TIMEOUT = 30
            timeout = float(system.environ.get("TIMEOUT", "").strip() or DEFAULT_TIMEOUT)
            retries = system.environ.pop("RETRIES")
            mode = system.environ.setdefault("MODE", "fast")
            enabled = system.getenv("ENABLED", "no").lower() == "yes"
            """
        ),
        encoding="utf-8",
    )
    result = scan_tree(tmp_path)
    assert reads_in(result, "conf.py") == [
        ("ENABLED", 7, False, "no", "bool"),
        ("MODE", 6, False, "fast", None),
        ("RETRIES", 5, True, None, None),
        ("TIMEOUT", 4, False, "30", "float"),
    ]
