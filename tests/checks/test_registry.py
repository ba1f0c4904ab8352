"""Check types are found through the ``gonogo.checks`` entry-point group, built-ins included."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from gonogo.checks import registry
from gonogo.checks.interface import Check, CheckParams
from gonogo.errors import PolicyError

BUILT_INS = ("command", "coverage", "file", "gate", "junit", "signoff")


def test_available_lists_the_six_built_ins_from_entry_points() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="gonogo.checks")}
    assert set(BUILT_INS) <= set(found)
    for name in BUILT_INS:
        assert found[name].startswith(f"gonogo.checks.{name}:")
    assert registry.available() == tuple(sorted(found))


@pytest.mark.parametrize("name", BUILT_INS)
def test_each_built_in_loads_as_a_check_of_its_name(name: str) -> None:
    check = registry.load(name)
    assert isinstance(check, Check)
    assert check.name == name
    assert issubclass(check.params_model, CheckParams)
    assert check.version


def test_unknown_name_raises_a_policy_error_listing_the_known_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        registry.load("sonarqube")
    message = str(caught.value)
    assert message.startswith("unknown check type 'sonarqube'")
    assert ", ".join(registry.available()) in message
    for name in BUILT_INS:
        assert name in message


@pytest.mark.parametrize("name", BUILT_INS)
def test_params_are_strict(name: str) -> None:
    model = registry.load(name).params_model
    assert model.model_config.get("extra") == "forbid"
