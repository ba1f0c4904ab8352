"""gonogo.env.toml: written, read back, merged with what people wrote, refused when invalid."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonogo.config.inventory import (
    Inventory,
    InventoryError,
    Variable,
    VarType,
    dumps_inventory,
    load_inventory,
    merge,
    parse_inventory,
)


def test_the_fixture_inventory_survives_a_round_trip(inventory: Inventory) -> None:
    assert parse_inventory(dumps_inventory(inventory)) == inventory


@given(
    description=st.text(),
    default=st.none() | st.text(),
    choices=st.lists(st.text(min_size=1), min_size=1, max_size=4),
    low=st.none() | st.integers(-(10**9), 10**9),
)
def test_any_text_survives_a_round_trip(
    description: str, default: str | None, choices: list[str], low: int | None
) -> None:
    var = Variable(
        name="X",
        description=description,
        type=VarType.ENUM,
        default=default,
        choices=tuple(choices),
        min=None if low is None else float(low),
        locations=("a b/c.py:1",),
    )
    assert parse_inventory(dumps_inventory(Inventory((var,)))).variables == (var,)


def test_a_rescan_keeps_what_people_wrote_and_drops_what_nothing_reads() -> None:
    written = Inventory(
        (
            Variable(
                "LOG_LEVEL",
                description="How chatty the logs are",
                type=VarType.ENUM,
                choices=("DEBUG", "INFO"),
                ignore_case=True,
            ),
            Variable("PORT", description="Listen port", min=1, max=65535, required=True),
            Variable("TOKEN_LIMIT", secret=True),
            Variable("GONE", description="removed from the code"),
        )
    )
    scanned = Inventory(
        (
            Variable("LOG_LEVEL", default="INFO", locations=("app.py:3",)),
            Variable("PORT", type=VarType.INT, default="8000", locations=("app.py:4",)),
            Variable("TOKEN_LIMIT", locations=("app.py:5",)),
            Variable("NEW", description="from .env.example", locations=("app.py:6",)),
        )
    )
    merged = merge(written, scanned)
    assert [v.name for v in merged] == ["LOG_LEVEL", "NEW", "PORT", "TOKEN_LIMIT"]
    level = merged.get("LOG_LEVEL")
    assert level == replace(
        scanned.get("LOG_LEVEL"),  # type: ignore[arg-type]
        description="How chatty the logs are",
        type=VarType.ENUM,
        choices=("DEBUG", "INFO"),
        ignore_case=True,
    )
    port = merged.get("PORT")
    assert port is not None
    assert (port.description, port.type, port.min, port.max) == (
        "Listen port",
        VarType.INT,
        1,
        65535,
    )
    assert port.required  # marked required by hand, so the code's default no longer applies
    assert port.default is None
    assert merged.get("TOKEN_LIMIT").secret  # type: ignore[union-attr]
    assert merged.get("NEW").description == "from .env.example"  # type: ignore[union-attr]


def test_a_rescan_drops_the_code_default_of_a_variable_marked_secret_by_hand() -> None:
    written = Inventory((Variable("LICENCE_CODE", secret=True),))
    scanned = Inventory((Variable("LICENCE_CODE", default="abc-123", locations=("a.py:3",)),))
    merged = merge(written, scanned).get("LICENCE_CODE")
    assert merged is not None
    assert merged.secret and merged.default is None
    assert "abc-123" not in dumps_inventory(merge(written, scanned))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 'gonogo.env/v9'", "schema 'gonogo.env/v9' is not 'gonogo.env/v1'"),
        ("variables = 3", "`variables` must be an array of tables"),
        ("[[variables]]\nname = 'A'\ntype = 'uuid'", "variables[0] (A).type 'uuid' is not one of"),
        ("[[variables]]\nname = 'A'\ntype = 'enum'", "variables[0] (A): type enum needs `choices`"),
        ("[[variables]]\nname = 'A'\ncolour = 'red'", "variables[0]: unknown key 'colour'"),
        ("[[variables]]\nname = 'A'\nrequired = 'yes'", "variables[0] (A).required must be a bool"),
        ("[[variables]]\nname = 'A'\nmin = 'low'", "variables[0] (A).min must be a number"),
        ("[[variables]]\nname = 'A'\n[[variables]]\nname = 'A'", "A is listed twice"),
        ("[[variables]]\ntype = 'str'", "variables[0].name must be a non-empty string"),
        ("variables = [", "is not valid TOML"),
    ],
)
def test_an_invalid_inventory_names_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "gonogo.env.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_missing_inventory_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="does not exist; write it with `gonogo env scan`"):
        load_inventory(tmp_path / "gonogo.env.toml")
