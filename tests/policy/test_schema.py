"""The policy's JSON Schema: printed by `gonogo policy schema`, committed, never stale."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from gonogo.cli.main import main
from gonogo.cli.policy_cmd import policy_schema
from gonogo.policy import model
from tests.policy.policies import EXAMPLE, MINIMAL, edit, full_example

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "policy.schema.json"


def _generated(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["policy", "schema"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _as_json(value: Any) -> Any:
    """A TOML document as the JSON a schema validator sees (dates become ISO strings)."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return value


def test_schema_command_prints_a_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads(_generated(capsys))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "gonogo.policy/v1"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_committed_schema_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    # regenerate with: gonogo policy schema > docs/policy.schema.json
    assert COMMITTED.read_text(encoding="utf-8") == _generated(capsys)


def test_schema_requires_exactly_the_required_top_level_keys() -> None:
    schema = policy_schema()
    assert sorted(schema["required"]) == ["gates", "owners", "project"]  # type: ignore[call-overload]
    assert set(schema["properties"]) == set(model.Policy.model_fields)  # type: ignore[call-overload]


def _models() -> list[type[BaseModel]]:
    return [
        value
        for name, value in vars(model).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == model.__name__
        and not name.startswith("_")
    ]


def test_schema_of_every_model_requires_what_the_model_requires() -> None:
    definitions: dict[str, Any] = policy_schema()["$defs"]  # type: ignore[assignment]
    for cls in _models():
        if cls is model.Policy:
            continue
        definition = definitions[cls.__name__]
        required = {name for name, field in cls.model_fields.items() if field.is_required()}
        assert set(definition.get("required", [])) == required, cls.__name__
        assert set(definition["properties"]) == set(cls.model_fields), cls.__name__
        assert definition["additionalProperties"] is False, cls.__name__


# -- cross-check with a real JSON Schema validator (jsonschema, a dev dependency) ---------------


def _validator() -> Any:
    import jsonschema  # a dev dependency

    schema = policy_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    "text",
    [EXAMPLE.read_text(encoding="utf-8"), MINIMAL, full_example()],
    ids=["shopapi example", "minimal", "docs/policy.md full example"],
)
def test_valid_policies_validate_against_the_schema(text: str) -> None:
    validator = _validator()
    document = _as_json(tomllib.loads(text))
    errors = [e.message for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("phase = 4", 'phase = "four"'),
        ("phase = 4", "phase = 9"),
        ("phase = 6", 'phase = 6\ncolour = "red"'),
        ('title = "Operations"\n', ""),
        ('id = "tests"', 'id = "Tests!"'),
    ],
)
def test_schema_rejects_what_the_loader_rejects(old: str, new: str) -> None:
    validator = _validator()
    document = _as_json(tomllib.loads(edit(MINIMAL, old, new)))
    assert list(validator.iter_errors(document))
