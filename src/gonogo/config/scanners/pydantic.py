"""pydantic-settings classes: the variable each field reads (AST, nothing is imported).

A class is a settings class when it derives from ``BaseSettings`` (pydantic-settings, or
pydantic v1) or from a settings class in the same module. Its configuration comes from
``model_config = SettingsConfigDict(...)`` (or a dict, or v1's inner ``class Config``),
inherited from base classes in the module: ``env_prefix``, ``case_sensitive`` and
``env_nested_delimiter``. A field reads ``PREFIX + NAME`` (upper-cased unless case
sensitive); ``alias``/``validation_alias`` (also ``AliasChoices``) and v1's ``env=``
replace that name, without the prefix. A field whose type is a model of the module is
expanded, with a nested delimiter, into ``PREFIX + FIELD + DELIM + SUBFIELD``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from gonogo.config.inventory import VarType
from gonogo.config.scanners.interface import Read, Source

_SETTINGS_BASES = frozenset({"BaseSettings"})
_MODEL_BASES = frozenset({"BaseModel"})
_SIMPLE_TYPES = {
    "str": VarType.STR,
    "int": VarType.INT,
    "float": VarType.FLOAT,
    "Decimal": VarType.FLOAT,
    "bool": VarType.BOOL,
    "SecretStr": VarType.STR,
    "SecretBytes": VarType.STR,
    "Path": VarType.PATH,
    "FilePath": VarType.PATH,
    "DirectoryPath": VarType.PATH,
    "NewPath": VarType.PATH,
    "timedelta": VarType.DURATION,
    "Json": VarType.JSON,
    "list": VarType.JSON,
    "List": VarType.JSON,
    "dict": VarType.JSON,
    "Dict": VarType.JSON,
    "set": VarType.JSON,
    "Set": VarType.JSON,
    "tuple": VarType.JSON,
    "Tuple": VarType.JSON,
}
_SECRET_TYPES = frozenset({"SecretStr", "SecretBytes"})
_WRAPPING = frozenset({"Optional", "Annotated", "ClassVar", "Final"})


@dataclass(frozen=True)
class _Config:
    prefix: str = ""
    case_sensitive: bool = False
    delimiter: str | None = None


@dataclass(frozen=True)
class _Type:
    var_type: VarType = VarType.STR
    choices: tuple[str, ...] = ()
    secret: bool = False
    model: str | None = None


def settings_reads(tree: ast.Module, rel: str) -> list[Read]:
    """The reads of every settings class in a module."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    enums = {name: _enum_values(node) for name, node in classes.items() if _is_enum(node)}
    scanner = _Settings(rel, classes, {k: v for k, v in enums.items() if v})
    reads: list[Read] = []
    for node in classes.values():
        if scanner.is_settings(node.name, set()):
            reads += scanner.reads(node)
    return reads


def _base_names(node: ast.ClassDef) -> list[str]:
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def _is_enum(node: ast.ClassDef) -> bool:
    return any(name in {"Enum", "StrEnum"} for name in _base_names(node))


def _enum_values(node: ast.ClassDef) -> tuple[str, ...]:
    values = []
    for item in node.body:
        if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant):
            values.append(str(item.value.value))
    return tuple(values)


def _const_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _Settings:
    def __init__(
        self, rel: str, classes: dict[str, ast.ClassDef], enums: dict[str, tuple[str, ...]]
    ) -> None:
        self.rel = rel
        self.classes = classes
        self.enums = enums

    def is_settings(self, name: str, seen: set[str]) -> bool:
        node = self.classes.get(name)
        if node is None or name in seen:
            return False
        seen.add(name)
        bases = _base_names(node)
        return bool(_SETTINGS_BASES & set(bases)) or any(self.is_settings(b, seen) for b in bases)

    def is_model(self, name: str) -> bool:
        node = self.classes.get(name)
        if node is None or self.is_settings(name, set()):
            return False
        bases = set(_base_names(node))
        return bool(_MODEL_BASES & bases) or any(self.is_model(b) for b in bases - {name})

    def config(self, node: ast.ClassDef) -> _Config:
        config = _Config()
        for base in _base_names(node):
            if base in self.classes and base != node.name:
                config = self.config(self.classes[base])
        values: dict[str, ast.expr] = {}
        for item in node.body:
            if isinstance(item, ast.Assign | ast.AnnAssign):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                    values.update(_config_values(item.value))
            elif isinstance(item, ast.ClassDef) and item.name == "Config":  # pydantic v1
                for stmt in item.body:
                    if isinstance(stmt, ast.Assign):
                        for target in stmt.targets:
                            if isinstance(target, ast.Name):
                                values[target.id] = stmt.value
        prefix = _const_str(values.get("env_prefix"))
        delimiter = _const_str(values.get("env_nested_delimiter"))
        case = values.get("case_sensitive")
        return _Config(
            prefix=config.prefix if prefix is None else prefix,
            case_sensitive=(
                case.value is True
                if isinstance(case, ast.Constant) and isinstance(case.value, bool)
                else config.case_sensitive
            ),
            delimiter=delimiter or config.delimiter,
        )

    def fields(self, node: ast.ClassDef) -> list[ast.AnnAssign]:
        inherited: dict[str, ast.AnnAssign] = {}
        for base in _base_names(node):
            if base in self.classes and base != node.name:
                inherited.update({_field_name(f): f for f in self.fields(self.classes[base])})
        for item in node.body:
            if (
                isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and not item.target.id.startswith("_")
                and item.target.id != "model_config"
                and not _is_classvar(item.annotation)
            ):
                inherited[item.target.id] = item
        return list(inherited.values())

    def reads(self, node: ast.ClassDef) -> list[Read]:
        config = self.config(node)
        reads: list[Read] = []
        for item in self.fields(node):
            reads += self._field(item, config, config.prefix, parent_required=True)
        return reads

    def _field(
        self, item: ast.AnnAssign, config: _Config, prefix: str, *, parent_required: bool
    ) -> list[Read]:
        name = _field_name(item)
        spec = _FieldSpec.of(item)
        kind = self.type_of(item.annotation)
        names = [n if config.case_sensitive else n.upper() for n in spec.aliases] or [
            prefix + name if config.case_sensitive else (prefix + name).upper()
        ]
        required = parent_required and spec.required
        if kind.model is not None and config.delimiter and not spec.aliases:
            nested_prefix = names[0] + config.delimiter
            reads: list[Read] = []
            for sub in self.fields(self.classes[kind.model]):
                reads += self._field(sub, config, nested_prefix, parent_required=required)
            return reads
        read = Read(
            name=names[0],
            path=self.rel,
            line=item.lineno,
            source=Source.PYTHON,
            required=required,
            default=spec.default,
            type=VarType.JSON if kind.model else kind.var_type,
            choices=kind.choices,
            secret=kind.secret,
        )
        return [replace(read, name=n) for n in names]

    def type_of(self, annotation: ast.expr) -> _Type:
        node = annotation
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return _Type()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
            sides = [s for s in (node.left, node.right) if not _is_none(s)]
            return self.type_of(sides[0]) if len(sides) == 1 else _Type()
        if isinstance(node, ast.Subscript):
            outer = _simple_name(node.value)
            inner = node.slice
            if outer in _WRAPPING:
                first = inner.elts[0] if isinstance(inner, ast.Tuple) else inner
                return self.type_of(first)
            if outer == "Union" and isinstance(inner, ast.Tuple):
                sides = [s for s in inner.elts if not _is_none(s)]
                return self.type_of(sides[0]) if len(sides) == 1 else _Type()
            if outer == "Literal":
                elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
                choices = tuple(str(e.value) for e in elts if isinstance(e, ast.Constant))
                return _Type(VarType.ENUM, choices)
            return _Type(_SIMPLE_TYPES.get(outer or "", VarType.STR))
        name = _simple_name(node)
        if name is None:
            return _Type()
        if name in self.enums:
            return _Type(VarType.ENUM, self.enums[name])
        if self.is_model(name):
            return _Type(VarType.JSON, model=name)
        if name.endswith(("Url", "Dsn")):
            return _Type(VarType.URL)
        return _Type(_SIMPLE_TYPES.get(name, VarType.STR), secret=name in _SECRET_TYPES)


@dataclass(frozen=True)
class _FieldSpec:
    required: bool
    default: str | None
    aliases: tuple[str, ...]

    @classmethod
    def of(cls, item: ast.AnnAssign) -> _FieldSpec:
        value = item.value
        field_call = _field_call(value) or _annotated_field(item.annotation)
        if field_call is None:
            return cls(value is None, _text(value), ())
        default: ast.expr | None = None
        if field_call.args:
            default = field_call.args[0]
        for kw in field_call.keywords:
            if kw.arg == "default":
                default = kw.value
        if field_call is not _field_call(value) and value is not None:
            default = value  # Annotated[int, Field(alias=...)] = 5
        has_factory = any(kw.arg == "default_factory" for kw in field_call.keywords)
        required = not has_factory and (
            default is None or (isinstance(default, ast.Constant) and default.value is Ellipsis)
        )
        aliases: list[str] = []
        for kw in field_call.keywords:
            if kw.arg in {"validation_alias", "alias", "env"}:
                aliases += _alias_names(kw.value)
        return cls(required, None if required else _text(default), tuple(dict.fromkeys(aliases)))


def _field_call(value: ast.expr | None) -> ast.Call | None:
    if isinstance(value, ast.Call) and _simple_name(value.func) == "Field":
        return value
    return None


def _annotated_field(annotation: ast.expr) -> ast.Call | None:
    if isinstance(annotation, ast.Subscript) and _simple_name(annotation.value) == "Annotated":
        inner = annotation.slice
        for element in inner.elts[1:] if isinstance(inner, ast.Tuple) else []:
            found = _field_call(element)
            if found is not None:
                return found
    return None


def _alias_names(node: ast.expr) -> list[str]:
    if (text := _const_str(node)) is not None:
        return [text]
    if isinstance(node, ast.List | ast.Tuple):
        return [t for e in node.elts if (t := _const_str(e)) is not None]
    if isinstance(node, ast.Call) and _simple_name(node.func) in {"AliasChoices", "AliasPath"}:
        if _simple_name(node.func) == "AliasPath":
            first = _const_str(node.args[0]) if node.args else None
            return [first] if first else []
        return [t for a in node.args if (t := _const_str(a)) is not None]
    return []


def _text(node: ast.expr | None) -> str | None:
    if not isinstance(node, ast.Constant) or node.value is None or node.value is Ellipsis:
        return None
    if isinstance(node.value, bool):
        return "true" if node.value else "false"
    return str(node.value) if isinstance(node.value, str | int | float) else None


def _field_name(item: ast.AnnAssign) -> str:
    assert isinstance(item.target, ast.Name)  # noqa: S101 - fields() keeps only names
    return item.target.id


def _simple_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return _simple_name(target) == "ClassVar"


def _config_values(value: ast.expr | None) -> dict[str, ast.expr]:
    if isinstance(value, ast.Call):
        return {kw.arg: kw.value for kw in value.keywords if kw.arg is not None}
    if isinstance(value, ast.Dict):
        return {
            key.value: val
            for key, val in zip(value.keys, value.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }
    return {}
