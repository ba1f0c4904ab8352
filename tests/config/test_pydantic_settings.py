"""pydantic-settings validated against the inventory, with no value ever echoed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gonogo.config.build import build_inventory
from gonogo.config.inventory import Inventory, write_inventory
from gonogo.config.pydantic_settings import InventorySource, SettingsInvalid, load_settings
from gonogo.config.runtime import EnvironmentInvalid
from gonogo.config.scan import scan_tree

SECRET = "sk_live_do-not-echo-me-0123456789"
SETTINGS_MODULE = """
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_")

    api_key: SecretStr
    port: int = Field(default=8000, gt=1024)
    mode: Literal["fast", "safe"] = "safe"
"""


class Settings(BaseSettings):
    """The settings the module above declares (scanned from its source, used from here)."""

    model_config = SettingsConfigDict(env_prefix="SHOP_")

    api_key: SecretStr
    port: int = Field(default=8000, gt=1024)
    mode: Literal["fast", "safe"] = "safe"


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """The inventory ``gonogo env scan`` writes for the settings module."""
    (tmp_path / "settings.py").write_text(SETTINGS_MODULE, encoding="utf-8")
    path = tmp_path / "gonogo.env.toml"
    write_inventory(path, build_inventory(scan_tree(tmp_path)))
    return path


def test_the_scan_reads_the_settings_class(inventory: Path) -> None:
    from gonogo.config.inventory import load_inventory

    listed = load_inventory(inventory)
    assert [(v.name, v.required, v.secret, v.type.value) for v in listed] == [
        ("SHOP_API_KEY", True, True, "str"),
        ("SHOP_MODE", False, False, "enum"),
        ("SHOP_PORT", False, False, "int"),
    ]


def test_load_settings_builds_the_settings_from_a_valid_environment(inventory: Path) -> None:
    settings = load_settings(
        Settings, inventory, {"SHOP_API_KEY": SECRET, "SHOP_PORT": "8080", "SHOP_MODE": "fast"}
    )
    assert isinstance(settings, Settings)
    assert settings.api_key.get_secret_value() == SECRET
    assert (settings.port, settings.mode) == (8080, "fast")


def test_inventory_problems_are_listed_at_once_before_pydantic_runs(inventory: Path) -> None:
    with pytest.raises(EnvironmentInvalid) as caught:
        load_settings(Settings, inventory, {"SHOP_PORT": "lots", "SHOP_MODE": "reckless"})
    assert caught.value.problems == (
        "SHOP_API_KEY is required but not set",
        "SHOP_MODE must be one of fast, safe, got 'reckless'",
        "SHOP_PORT must be an integer, got 'lots'",
    )


def test_pydantic_errors_are_reraised_without_the_rejected_value(tmp_path: Path) -> None:
    class Strict(BaseSettings):
        api_key: SecretStr = Field(min_length=64)

    empty = tmp_path / "gonogo.env.toml"
    write_inventory(empty, Inventory())
    with pytest.raises(SettingsInvalid) as caught:
        load_settings(Strict, empty, {"API_KEY": SECRET})
    assert str(caught.value) == (
        "1 settings problem: api_key: Value should have at least 64 items after validation, not 33"
    )
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def test_inventory_source_plugs_into_settings_customise_sources(
    inventory: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "api_key"
    secret_file.write_text(SECRET, encoding="utf-8")

    class Validated(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, InventorySource(settings_cls, inventory))

    monkeypatch.setenv("SHOP_API_KEY_FILE", str(secret_file))  # a mounted secret
    monkeypatch.setenv("SHOP_PORT", "9000")
    settings = Validated()
    assert settings.api_key.get_secret_value() == SECRET
    assert settings.port == 9000

    monkeypatch.setenv("SHOP_PORT", "many")
    with pytest.raises(EnvironmentInvalid, match="SHOP_PORT must be an integer, got 'many'"):
        Validated()


def test_without_pydantic_settings_the_error_names_the_package_to_install() -> None:
    code = """
import sys

class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == "pydantic_settings" or name.startswith("pydantic_settings."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Hide())
try:
    import gonogo.config.pydantic_settings
except ImportError as exc:
    print(type(exc).__name__, exc)
"""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == (
        "MissingExtra gonogo.config.pydantic_settings needs pydantic-settings, which is not "
        "installed; pip install pydantic-settings (or pip install 'gonogo[settings]')"
    )
