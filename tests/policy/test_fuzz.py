"""Fuzz the loader: whatever is in the file, the answer is a Policy or one clear GonogoError."""

from __future__ import annotations

import json
import math
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gonogo.errors import GonogoError
from gonogo.gates import plan
from gonogo.policy import LoadedPolicy, Policy, PolicyInvalid, Problem, load_policy
from gonogo.policy.explain import explain
from gonogo.policy.starter import starter
from tests.policy.policies import EXAMPLE, MINIMAL

FUZZ = settings(
    max_examples=150,
    deadline=None,  # the first example imports the check plugins
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- a tiny TOML writer ------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # ASCII with \\uXXXX escapes: a valid TOML basic string
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(type(value))


def toml_document(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """Tables as ``[a.b]`` headers, lists of tables as ``[[a]]``, like a person writes TOML."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in document.items():
        if isinstance(value, dict) or (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            tables.append((key, value))
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in tables:
        path = (*prefix, key)
        header = ".".join(toml_key(p) for p in path)
        for item in value if isinstance(value, list) else [value]:
            brackets = ("[[", "]]") if isinstance(value, list) else ("[", "]")
            lines += ["", f"{brackets[0]}{header}{brackets[1]}"]
            lines.append(toml_document(item, path))
    return "\n".join(lines)


def test_the_toml_writer_round_trips_the_example_policy() -> None:
    original = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert tomllib.loads(toml_document(original)) == original


# -- the property ------------------------------------------------------------------------------


def _assert_located(problem: Problem, text: str) -> None:
    assert "\n" not in str(problem)
    assert problem.line is None or 1 <= problem.line <= text.count("\n") + 1


def assert_loads_or_refuses_clearly(file: Path, text: str) -> LoadedPolicy | None:
    """The loader's contract: a Policy, or a GonogoError that is one line; nothing else."""
    try:
        loaded = load_policy(file)
    except PolicyInvalid as exc:
        assert exc.problems
        for problem in exc.problems:
            _assert_located(problem, text)
        assert "\n" not in str(exc)
        return None
    except GonogoError as exc:
        assert "\n" not in str(exc)
        return None
    assert isinstance(loaded.policy, Policy)
    assert len(loaded.digest) == 64  # approvals bind to it: it must always be computable
    for problem in plan.problems(loaded):
        _assert_located(problem, text)
    assert explain(loaded.policy, today=date(2030, 1, 1))
    return loaded


_TEXT = st.text(st.characters(exclude_categories=["Cs"]))  # no lone surrogates: not UTF-8


@FUZZ
@given(text=_TEXT)
def test_arbitrary_text_loads_or_is_refused_clearly(tmp_path: Path, text: str) -> None:
    file = tmp_path / "gonogo.toml"
    file.write_text(text, encoding="utf-8")
    assert_loads_or_refuses_clearly(file, text)


@FUZZ
@given(data=st.binary())
def test_arbitrary_bytes_load_or_are_refused_clearly(tmp_path: Path, data: bytes) -> None:
    file = tmp_path / "gonogo.toml"
    file.write_bytes(data)
    assert_loads_or_refuses_clearly(file, data.decode("utf-8", errors="replace"))


# Keys the model knows, so random documents reach deep into validation, and keys it does not.
_FIELD_NAMES = sorted(
    {
        *Policy.model_fields,
        "name", "jobs", "id", "title", "phase", "owners", "aggregation", "pass_score",
        "warn_score", "criteria", "check", "params", "threshold", "blocking", "key", "weight",
        "applies_if", "source", "timeout", "min", "max", "relative_to", "tolerance", "exists",
        "criterion", "reason", "approver", "expires", "allowed_signers", "required",
        "namespace", "path", "run", "gate", "roles", "sections", "modules", "inputs",
    }
)  # fmt: skip
_KEYS = st.one_of(st.sampled_from(_FIELD_NAMES), _TEXT.filter(bool))
_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),
    _TEXT,
    st.sampled_from(["quality", "junit", "file", "gate", "last_pass", "weighted", "ingest"]),
    st.dates(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=20,
)
_DOCUMENTS = st.dictionaries(_KEYS, _VALUES, max_size=6)


@FUZZ
@given(document=_DOCUMENTS)
def test_random_toml_documents_load_or_are_refused_clearly(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    text = toml_document(document)
    file = tmp_path / "gonogo.toml"
    file.write_text(text, encoding="utf-8")
    assert_loads_or_refuses_clearly(file, text)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _mutate(document: Any, path: tuple[Any, ...], action: str, value: Any, key: str) -> None:
    *parents, last = path
    container = document
    for part in parents:
        container = container[part]
    if action == "delete":
        del container[last]
    elif action == "replace":
        container[last] = value
    elif action == "duplicate" and isinstance(container, list):
        container.append(container[last])
    elif action == "add-key" and isinstance(container[last], dict):
        container[last][key] = value


_BASES = {
    "example": tomllib.loads(EXAMPLE.read_text(encoding="utf-8")),
    "minimal": tomllib.loads(MINIMAL),
}


@FUZZ
@given(base=st.sampled_from(sorted(_BASES)), data=st.data())
def test_mutated_policies_load_or_are_refused_clearly(
    tmp_path: Path, base: str, data: st.DataObject
) -> None:
    document = json.loads(json.dumps(_BASES[base]))  # a deep copy (no dates in the bases)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = _paths(document)
        if not paths:
            break
        _mutate(
            document,
            data.draw(st.sampled_from(paths), label="path"),
            data.draw(st.sampled_from(["delete", "replace", "duplicate", "add-key"])),
            data.draw(_VALUES, label="value"),
            data.draw(_KEYS, label="key"),
        )
    for name in ("gonogo.toml", "pyproject.toml"):
        text = toml_document(document if name == "gonogo.toml" else {"tool": {"gonogo": document}})
        file = tmp_path / name
        file.write_text(text, encoding="utf-8")
        assert_loads_or_refuses_clearly(file, text)


@FUZZ
@given(
    name=_TEXT.filter(lambda s: s.strip() != ""),
    identity=st.emails() | _TEXT.filter(lambda s: s.strip() != ""),
)
def test_the_starter_policy_loads_for_any_project_name_and_identity(
    tmp_path: Path, name: str, identity: str
) -> None:
    file = tmp_path / "gonogo.toml"
    file.write_text(starter(name, identity), encoding="utf-8")
    loaded = load_policy(file)
    assert plan.problems(loaded) == []
