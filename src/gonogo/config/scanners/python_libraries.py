"""What django-environ and python-decouple calls mean: types, default names, casts."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from gonogo.config.inventory import VarType

DJANGO_TYPES = {
    "str": VarType.STR,
    "bool": VarType.BOOL,
    "int": VarType.INT,
    "float": VarType.FLOAT,
    "json": VarType.JSON,
    "url": VarType.URL,
    "db_url": VarType.URL,
    "db": VarType.URL,
    "cache_url": VarType.URL,
    "cache": VarType.URL,
    "email_url": VarType.URL,
    "email": VarType.URL,
    "search_url": VarType.URL,
    "path": VarType.PATH,
    "list": VarType.STR,
    "tuple": VarType.STR,
    "dict": VarType.STR,
}
DJANGO_DEFAULT_NAMES = {
    "db_url": "DATABASE_URL",
    "db": "DATABASE_URL",
    "cache_url": "CACHE_URL",
    "cache": "CACHE_URL",
    "email_url": "EMAIL_URL",
    "email": "EMAIL_URL",
    "search_url": "SEARCH_URL",
}
CAST_NAMES = {"int": VarType.INT, "float": VarType.FLOAT, "bool": VarType.BOOL, "str": VarType.STR}


@dataclass(frozen=True)
class Scheme:
    """A django-environ schema entry: ``bool`` or ``(bool, False)``."""

    var_type: VarType | None = None
    default: ast.expr | None = None


def scheme(node: ast.expr) -> Scheme:
    """A django-environ schema entry given to ``Env(NAME=...)``."""
    cast, default = (node, None)
    if isinstance(node, ast.Tuple) and node.elts:
        cast = node.elts[0]
        default = node.elts[1] if len(node.elts) > 1 else None
    var_type = CAST_NAMES.get(cast.id) if isinstance(cast, ast.Name) else None
    if isinstance(cast, ast.Name) and cast.id in {"list", "tuple", "dict"}:
        var_type = VarType.STR
    return Scheme(var_type, default)


def decouple_cast(cast: ast.expr | None) -> tuple[VarType | None, tuple[str, ...]]:
    """The type (and enum choices) a decouple ``cast=`` gives."""
    if cast is None:
        return None, ()
    if isinstance(cast, ast.Name):
        if cast.id in CAST_NAMES:
            return CAST_NAMES[cast.id], ()
        if cast.id == "Path":
            return VarType.PATH, ()
    if isinstance(cast, ast.Attribute) and cast.attr == "loads":
        return VarType.JSON, ()
    if isinstance(cast, ast.Call):
        called = cast.func.id if isinstance(cast.func, ast.Name) else getattr(cast.func, "attr", "")
        if called == "Csv":
            return VarType.STR, ()
        if called == "Choices" and cast.args and isinstance(cast.args[0], ast.List | ast.Tuple):
            choices = tuple(str(e.value) for e in cast.args[0].elts if isinstance(e, ast.Constant))
            return VarType.ENUM, choices
    return None, ()
