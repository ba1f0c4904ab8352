"""docs/rollout-builtin.md: its examples are valid, it documents every key and its errors."""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel

from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import RouterError
from gonogo.rollout.load import LoadStats
from gonogo.rollout.route.builtin import BuiltinRouter, BuiltinRouterConfig
from gonogo.rollout.source.builtin import BuiltinSourceConfig
from tests.policy.policies import toml_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "rollout-builtin.md"


def test_the_toml_example_is_a_valid_router_and_source() -> None:
    blocks = [tomllib.loads(block)["rollout"] for block in toml_blocks(DOC.read_text("utf-8"))]
    assert blocks
    for rollout in blocks:
        BuiltinRouterConfig.model_validate(rollout["router"])
        BuiltinSourceConfig.model_validate(rollout["source"])


@pytest.mark.parametrize("model", [BuiltinRouterConfig, BuiltinSourceConfig])
def test_every_key_is_documented(model: type[BaseModel]) -> None:
    text = DOC.read_text("utf-8")
    assert [name for name in model.model_fields if f"| `{name}` |" not in text] == []


def test_every_load_count_is_documented() -> None:
    text = DOC.read_text("utf-8")
    counts = [name for name in LoadStats().to_json() if name not in {"answered", "in_flight"}]
    assert [name for name in counts if f"| `{name}` |" not in text] == []


def test_the_documented_errors_are_the_real_ones() -> None:
    text = DOC.read_text("utf-8")
    router = BuiltinRouter()
    baseline = Backend(Variant.BASELINE, "v1", "http://127.0.0.1:8001")
    errors: list[str] = []
    calls: list[Callable[[], None]] = [
        lambda: router.configure(baseline, None, 150),
        lambda: router.configure(baseline, None, 10),
        lambda: router.configure(baseline, Backend(Variant.CANARY, "v2", "localhost:8002"), 5),
    ]
    for call in calls:
        with pytest.raises(RouterError) as caught:
            call()
        errors.append(str(caught.value))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RouterError) as caught:
            BuiltinRouter("127.0.0.1", port).start()
        errors.append(str(caught.value).replace(str(port), "8080"))
    assert [error for error in errors if error not in text] == []
