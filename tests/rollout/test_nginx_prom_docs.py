"""docs/rollout-nginx-prometheus.md: its examples are valid and it documents every key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from gonogo.rollout.route.gateway_api import GatewayApiRouterConfig
from gonogo.rollout.route.nginx import NginxRouterConfig
from gonogo.rollout.source.prometheus import (
    PrometheusMetricQueries,
    PrometheusQueries,
    PrometheusSourceConfig,
)
from tests.policy.policies import toml_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "rollout-nginx-prometheus.md"
MODELS: dict[str, type[BaseModel]] = {
    "nginx": NginxRouterConfig,
    "gateway-api": GatewayApiRouterConfig,
    "prometheus": PrometheusSourceConfig,
}


def test_every_toml_example_is_a_valid_router_or_source_table() -> None:
    seen: list[str] = []
    for block in toml_blocks(DOC.read_text(encoding="utf-8")):
        rollout = tomllib.loads(block)["rollout"]
        for area in ("router", "source"):
            if area in rollout:
                table = rollout[area]
                MODELS[table["type"]].model_validate(table)
                seen.append(table["type"])
    assert set(seen) == set(MODELS)
    assert seen.count("nginx") == 3  # managed, external with and without a server block


@pytest.mark.parametrize(
    "model",
    [
        NginxRouterConfig,
        GatewayApiRouterConfig,
        PrometheusSourceConfig,
        PrometheusQueries,
        PrometheusMetricQueries,
    ],
)
def test_every_key_is_documented(model: type[BaseModel]) -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert missing == []


def test_the_documented_query_defaults_are_the_real_ones() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, value in PrometheusQueries().model_dump().items():
        assert f"| `{name}` | `{value}` |" in text
