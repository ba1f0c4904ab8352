"""Start-up configuration from environment variables."""

from __future__ import annotations

import pytest
from shopapi.config import Config, ConfigError, load_config


def test_defaults_when_unset_or_empty() -> None:
    assert load_config({}) == Config(port=8080, log_level="INFO", host="127.0.0.1")
    assert load_config({"SHOPAPI_PORT": "", "SHOPAPI_LOG_LEVEL": " "}) == Config()


def test_values_are_read_and_normalised() -> None:
    config = load_config({"SHOPAPI_PORT": " 9090 ", "SHOPAPI_LOG_LEVEL": "debug"})
    assert config == Config(port=9090, log_level="DEBUG")


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPAPI_PORT", "8181")
    monkeypatch.delenv("SHOPAPI_LOG_LEVEL", raising=False)
    assert load_config().port == 8181


@pytest.mark.parametrize("port", ["http", "80.5", "-1", "0", "65536", "123456", "8o80"])
def test_bad_port_is_a_clear_error(port: str) -> None:
    with pytest.raises(ConfigError, match=r"SHOPAPI_PORT must be an integer from 1 to 65535"):
        load_config({"SHOPAPI_PORT": port})


def test_bad_log_level_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"SHOPAPI_LOG_LEVEL must be one of DEBUG, INFO"):
        load_config({"SHOPAPI_LOG_LEVEL": "verbose"})
