"""Start-up configuration, read once from environment variables.

``SHOPAPI_PORT``       TCP port on 127.0.0.1 (1-65535, default 8080)
``SHOPAPI_LOG_LEVEL``  DEBUG, INFO, WARNING or ERROR (default INFO, any case)

An unset or empty variable takes its default; anything else that is not
valid raises :class:`ConfigError` with the variable, the value and what was
expected, so a bad deploy fails at start-up instead of at the first request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_LOG_LEVEL = "INFO"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """A configuration variable has a value shopapi cannot use."""


@dataclass(frozen=True, slots=True)
class Config:
    """Validated settings for one server process."""

    port: int = DEFAULT_PORT
    log_level: str = DEFAULT_LOG_LEVEL
    host: str = HOST


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration (from ``os.environ`` by default)."""
    env = os.environ if environ is None else environ
    return Config(
        port=_port(env.get("SHOPAPI_PORT", "").strip()),
        log_level=_log_level(env.get("SHOPAPI_LOG_LEVEL", "").strip()),
    )


def _port(raw: str) -> int:
    if not raw:
        return DEFAULT_PORT
    if re.fullmatch(r"[0-9]{1,5}", raw) is None or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"SHOPAPI_PORT must be an integer from 1 to 65535, got {raw!r}")
    return int(raw)


def _log_level(raw: str) -> str:
    if not raw:
        return DEFAULT_LOG_LEVEL
    if raw.upper() not in LOG_LEVELS:
        expected = ", ".join(LOG_LEVELS)
        raise ConfigError(f"SHOPAPI_LOG_LEVEL must be one of {expected}, got {raw!r}")
    return raw.upper()
