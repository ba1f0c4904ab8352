"""docs/policy.md documents every key of the policy, and its examples are valid."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from gonogo.gates import plan
from gonogo.policy import load_policy, model
from tests.policy.policies import DOCS, full_example, toml_blocks, write_policy

POLICY_MD = DOCS / "policy.md"


def _policy_models() -> list[type[BaseModel]]:
    """Every public model of the policy (new ones are picked up without editing this test)."""
    return [
        value
        for name, value in vars(model).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == model.__name__
        and not name.startswith("_")
    ]


def test_the_models_found_are_the_whole_policy() -> None:
    names = {cls.__name__ for cls in _policy_models()}
    assert {"Policy", "Project", "Gate", "Criterion", "Threshold", "AppliesIf"} <= names
    assert {"Waiver", "Signing"} <= names


@pytest.mark.parametrize("cls", _policy_models(), ids=lambda cls: cls.__name__)
def test_policy_md_documents_every_field_of_every_policy_model(cls: type[BaseModel]) -> None:
    text = POLICY_MD.read_text(encoding="utf-8")
    missing = [name for name in cls.model_fields if f"`{name}`" not in text]
    assert missing == [], f"{cls.__name__} fields not in docs/policy.md: {missing}"


@pytest.mark.parametrize(
    "topic",
    [
        "`min`",
        "`max`",
        'relative_to = "last_pass"',
        "`tolerance`",
        "[[waivers]]",
        "applies_if = { exists",
        'source = "ingest"',
        "gonogo ingest",
        'aggregation = "weighted"',
        'aggregation = "all"',
        "key = true",
        "[signing]",
        "allowed_signers",
        "[tool.gonogo]",
        "gonogo policy validate",
        "not_applicable",
        "not_reported",
        "waived",
    ],
)
def test_policy_md_covers(topic: str) -> None:
    assert topic in POLICY_MD.read_text(encoding="utf-8")


def test_every_toml_snippet_in_policy_md_is_valid_toml() -> None:
    blocks = toml_blocks(POLICY_MD.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    for block in blocks:
        for line in block.splitlines():
            # one-line snippets such as `threshold = {...}  # comment` stand alone
            if line.startswith("threshold = "):
                tomllib.loads(line)
        if not block.startswith("threshold = "):
            tomllib.loads(block)


def test_full_example_validates_and_uses_every_key(tmp_path: Path) -> None:
    text = full_example()
    loaded = load_policy(write_policy(tmp_path, text))
    assert plan.problems(loaded) == []
    used = set(_keys(tomllib.loads(text)))
    for cls in _policy_models():
        unused = [name for name in cls.model_fields if name not in used]
        assert unused == [], f"the full example does not use {cls.__name__}: {unused}"


def _keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [k for k, v in value.items() for k in (k, *_keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []
