"""The start-up validator: every problem at once, typed values, never a secret's value."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from gonogo.config.build import build_inventory
from gonogo.config.inventory import Inventory, InventoryError, Variable, VarType, write_inventory
from gonogo.config.runtime import (
    EnvironmentInvalid,
    SecretValue,
    parse_duration,
    validate_environment,
)
from gonogo.config.scan import scan_tree

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shopapi"
SECRET = "s3cr3t-Value-0123456789"

INVENTORY = Inventory(
    (
        Variable("DATABASE_URL", type=VarType.URL, required=True, secret=True),
        Variable("PORT", type=VarType.INT, min=1, max=65535, default="8000"),
        Variable("WORKERS", type=VarType.INT, required=True),
        Variable("RATIO", type=VarType.FLOAT, default="0.5"),
        Variable("DEBUG", type=VarType.BOOL, default="false"),
        Variable("LOG_LEVEL", type=VarType.ENUM, choices=("DEBUG", "INFO"), ignore_case=True),
        Variable("TIMEOUT", type=VarType.DURATION, default="30s"),
        Variable("FEATURES", type=VarType.JSON, default="{}"),
        Variable("DATA_DIR", type=VarType.PATH),
        Variable("API_TOKEN", required=True, secret=True),
        Variable("PIN_CODE", type=VarType.INT, secret=True),
        Variable("GREETING"),
    )
)


def test_every_problem_is_listed_at_once_and_no_secret_value_is_shown() -> None:
    environ = {
        "DATABASE_URL": SECRET,  # not a URL, and secret
        "PORT": "70000",
        "RATIO": "half",
        "DEBUG": "maybe",
        "LOG_LEVEL": "chatty",
        "TIMEOUT": "soon",
        "FEATURES": "{not json",
        "PIN_CODE": SECRET,  # secret and not an int
    }
    with pytest.raises(EnvironmentInvalid) as caught:
        validate_environment(INVENTORY, environ)

    error = caught.value
    assert error.problems == (  # in name order
        "API_TOKEN is required but not set",
        "DATABASE_URL must be a URL (scheme://host/...), got <secret, 23 chars>",
        "DEBUG must be a boolean (true/false, 1/0, yes/no, on/off), got 'maybe'",
        "FEATURES must be valid JSON, got '{not json'",
        "LOG_LEVEL must be one of DEBUG, INFO, got 'chatty'",
        "PIN_CODE must be an integer, got <secret, 23 chars>",
        "PORT must be an integer from 1 to 65535, got '70000'",
        "RATIO must be a number, got 'half'",
        "TIMEOUT must be a duration such as 30s, 5m or 1h30m, got 'soon'",
        "WORKERS is required but not set",
    )
    assert str(error).endswith("(10 problems, checked against the inventory)")
    assert SECRET not in str(error)
    assert SECRET not in repr(error)


def test_valid_values_come_back_typed_and_secrets_stay_hidden() -> None:
    environ = {
        "DATABASE_URL": f"postgresql://app:{SECRET}@db/app",
        "WORKERS": " 4 ",
        "DEBUG": "Yes",
        "LOG_LEVEL": "info",
        "TIMEOUT": "1h30m",
        "FEATURES": '{"beta": true}',
        "DATA_DIR": "/srv/data",
        "API_TOKEN": SECRET,
        "GREETING": "",  # empty is unset
    }
    config = validate_environment(INVENTORY, environ)

    assert config["PORT"] == 8000  # the default, typed
    assert config["WORKERS"] == 4
    assert config["RATIO"] == 0.5
    assert config["DEBUG"] is True
    assert config["LOG_LEVEL"] == "INFO"  # the canonical choice
    assert config["TIMEOUT"] == timedelta(hours=1, minutes=30)
    assert config["FEATURES"] == {"beta": True}
    assert config["DATA_DIR"] == Path("/srv/data")
    assert config["GREETING"] is None
    assert isinstance(config["API_TOKEN"], SecretValue)
    assert config.secret("API_TOKEN") == SECRET
    assert repr(config["API_TOKEN"]) == "<secret, 23 chars>"
    assert SECRET not in repr(config)
    assert SECRET not in str(dict(config))


def test_a_name_that_says_secret_is_hidden_even_when_the_inventory_forgot() -> None:
    inventory = Inventory((Variable("STRIPE_API_KEY", type=VarType.INT),))
    with pytest.raises(EnvironmentInvalid) as caught:
        validate_environment(inventory, {"STRIPE_API_KEY": SECRET})
    assert "got <secret, 23 chars>" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_password_in_a_url_is_masked_even_when_the_variable_is_not_secret() -> None:
    inventory = Inventory((Variable("CACHE_URL", type=VarType.URL),))
    with pytest.raises(EnvironmentInvalid) as caught:
        validate_environment(inventory, {"CACHE_URL": f"redis://:{SECRET}@cache:6379/ 0"})
    assert caught.value.problems == (
        "CACHE_URL must be a URL (scheme://host/...), got 'redis://:***@cache:6379/ 0'",
    )


def test_a_secret_can_come_from_a_mounted_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "api_token"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    inventory = Inventory((Variable("API_TOKEN", required=True, secret=True),))

    config = validate_environment(inventory, {"API_TOKEN_FILE": str(secret_file)})
    assert config.secret("API_TOKEN") == SECRET

    with pytest.raises(EnvironmentInvalid) as caught:
        validate_environment(inventory, {"API_TOKEN_FILE": str(tmp_path / "missing")})
    assert caught.value.problems == (
        f"API_TOKEN_FILE names {tmp_path / 'missing'}, which cannot be read "
        "(No such file or directory)",
    )


def test_references_no_resolver_handles_are_reported_not_passed_on() -> None:
    inventory = Inventory((Variable("A_TOKEN", secret=True), Variable("B_TOKEN", secret=True)))
    environ = {"A_TOKEN": "op://vault/item/field", "B_TOKEN": "ref+nope://x"}
    with pytest.raises(EnvironmentInvalid) as caught:
        validate_environment(inventory, environ)
    assert caught.value.problems == (
        "A_TOKEN holds a 1password reference, which gonogo cannot resolve; "
        "resolve it before start (vals exec, op run, berglas exec)",
        "B_TOKEN: ref+nope:// is not a provider gonogo knows",
    )
    config = validate_environment(inventory, environ | {"B_TOKEN": "sm://p/n"}, resolve_refs=False)
    assert config.secret("A_TOKEN") == "op://vault/item/field"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("250ms", 0.25),
        ("2d", 172800),
        ("90", 90),
        ("PT1M30S", 90),
        ("P1D", 86400),
        ("01:02:03", 3723),
    ],
)
def test_durations_in_every_common_spelling(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_the_inventory_file_is_read_and_its_absence_is_clear(tmp_path: Path) -> None:
    path = tmp_path / "gonogo.env.toml"
    write_inventory(path, Inventory((Variable("PORT", type=VarType.INT, required=True),)))
    assert validate_environment(path, {"PORT": "80"})["PORT"] == 80
    with pytest.raises(EnvironmentInvalid, match=r"\(1 problem, checked against gonogo.env.toml\)"):
        validate_environment(str(path), {})
    with pytest.raises(InventoryError, match="does not exist"):
        validate_environment(tmp_path / "missing.toml", {})


def test_importing_the_runtime_imports_no_heavy_dependency() -> None:
    heavy = ("pydantic", "pydantic_settings", "sqlalchemy", "typer", "rich", "yaml", "httpx")
    code = (
        "import sys, gonogo.config.runtime\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]"


def test_the_example_service_validates_against_its_own_inventory() -> None:
    # the example's inventory matches its code, and its start-up uses the validator
    inventory = build_inventory(scan_tree(EXAMPLE / "shopapi"))
    assert {v.name for v in inventory} == {"SHOPAPI_PORT", "SHOPAPI_LOG_LEVEL"}
    config_source = (EXAMPLE / "shopapi" / "config.py").read_text(encoding="utf-8")
    assert "validate_environment(INVENTORY, env)" in config_source
    run = subprocess.run(
        [sys.executable, "-m", "shopapi"],
        cwd=EXAMPLE,
        env={"SHOPAPI_PORT": "0", "SHOPAPI_LOG_LEVEL": "loud", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "shopapi: configuration error: SHOPAPI_LOG_LEVEL must be one of DEBUG, INFO, WARNING, "
        "ERROR, got 'loud'; SHOPAPI_PORT must be an integer from 1 to 65535, got '0' "
        "(2 problems, checked against gonogo.env.toml)"
    )
