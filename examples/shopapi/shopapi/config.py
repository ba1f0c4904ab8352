"""Start-up configuration, read once from environment variables.

``SHOPAPI_PORT``       TCP port on 127.0.0.1 (1-65535, default 8080)
``SHOPAPI_LOG_LEVEL``  DEBUG, INFO, WARNING or ERROR (default INFO, any case)

The environment is first checked against ``gonogo.env.toml``, the inventory
``gonogo env scan`` writes, by gonogo's runtime validator (standard library
only). An unset or empty variable takes its default; anything else that is
not valid raises :class:`ConfigError` listing every problem at once, with the
variable, the value and what was expected (never a secret's value), so a bad
deploy fails at start-up instead of at the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gonogo.config.runtime import EnvironmentInvalid, validate_environment

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_LOG_LEVEL = "INFO"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
INVENTORY = Path(__file__).resolve().parent.parent / "gonogo.env.toml"


class ConfigError(ValueError):
    """A configuration variable has a value shopapi cannot use."""


@dataclass(frozen=True, slots=True)
class Config:
    """Validated settings for one server process."""

    port: int = DEFAULT_PORT
    log_level: str = DEFAULT_LOG_LEVEL
    host: str = HOST


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Validate the environment (``os.environ`` by default), then read it."""
    env = os.environ if environ is None else environ
    try:
        validate_environment(INVENTORY, env)
    except EnvironmentInvalid as exc:
        raise ConfigError(str(exc)) from None
    return Config(
        port=int(env.get("SHOPAPI_PORT", "").strip() or DEFAULT_PORT),
        log_level=(env.get("SHOPAPI_LOG_LEVEL", "").strip() or DEFAULT_LOG_LEVEL).upper(),
    )
