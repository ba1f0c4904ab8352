"""docs/rollout-deployers.md: its examples are valid and it documents every key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from gonogo.rollout.deploy.command import CommandDeployerConfig
from gonogo.rollout.deploy.local import LocalDeployerConfig, LocalVersion
from tests.policy.policies import toml_blocks

DEPLOYERS_MD = Path(__file__).resolve().parents[2] / "docs" / "rollout-deployers.md"
MODELS: dict[str, type[BaseModel]] = {
    "local": LocalDeployerConfig,
    "command": CommandDeployerConfig,
}


def test_every_toml_example_is_a_valid_deployer_table() -> None:
    blocks = toml_blocks(DEPLOYERS_MD.read_text(encoding="utf-8"))
    seen = set()
    for block in blocks:
        table = tomllib.loads(block)["rollout"]["deployer"]
        MODELS[table["type"]].model_validate(table)
        seen.add(table["type"])
    assert seen == set(MODELS)


@pytest.mark.parametrize("model", [LocalDeployerConfig, LocalVersion, CommandDeployerConfig])
def test_every_key_is_documented(model: type[BaseModel]) -> None:
    text = DEPLOYERS_MD.read_text(encoding="utf-8")
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert missing == []
