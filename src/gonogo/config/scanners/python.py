"""Python: ``os.environ``, ``os.getenv``, django-environ and python-decouple reads (AST).

Found: ``os.environ["X"]`` (required), ``os.environ.get("X", d)``, ``os.getenv("X", d)``,
``.setdefault``, ``.pop``, ``"X" in os.environ``, also through a name bound to
``os.environ`` (``env = os.environ if environ is None else environ``); django-environ
``env("X")`` / ``env.bool("X", default=...)`` with the schema given to ``Env(...)``;
python-decouple ``config("X", default=..., cast=int)``. pydantic-settings classes are
read by :mod:`gonogo.config.scanners.pydantic`. A wrapping ``int(...)``/``float(...)``,
a comparison with ``"true"``/``"1"``, or ``or "default"`` refine the type and default.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from gonogo.config.inventory import VarType
from gonogo.config.scanners.interface import FileInput, FileScan, Read, ScanWarning, Source
from gonogo.config.scanners.pydantic import settings_reads
from gonogo.config.scanners.python_libraries import (
    CAST_NAMES,
    DJANGO_DEFAULT_NAMES,
    DJANGO_TYPES,
    Scheme,
    decouple_cast,
    scheme,
)

_TRANSPARENT_METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "split"}
)
_WRAPPERS = {
    "int": VarType.INT,
    "float": VarType.FLOAT,
    "bool": VarType.BOOL,
    "Path": VarType.PATH,
    "loads": VarType.JSON,
    "timedelta": VarType.DURATION,
}
#: every read this scanner knows names one of these; a file with none is not walked
_KEYWORDS = ("environ", "getenv", "decouple", "BaseSettings")
_BOOL_WORDS = frozenset({"1", "0", "true", "false", "yes", "no", "on", "off", "y", "n"})


def scan_python(file: FileInput) -> FileScan:
    """Every environment read in one Python file."""
    try:
        tree = ast.parse(file.text, filename=file.rel)
    except SyntaxError as exc:
        reason = f"line {exc.lineno}: {exc.msg}" if exc.lineno else str(exc.msg)
        return FileScan(
            warnings=[ScanWarning(file.rel, f"cannot parse Python ({reason}); skipped")]
        )
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, deep nesting
        return FileScan(warnings=[ScanWarning(file.rel, f"cannot parse Python ({exc}); skipped")])
    if not any(word in file.text for word in _KEYWORDS):
        return FileScan()  # parsed (so a broken file is reported), but nothing to look for
    names = _Names.collect(tree)
    finder = _Finder(file.rel, names, _parents(tree))
    finder.visit(tree)
    reads = finder.reads + settings_reads(tree, file.rel)
    return FileScan(reads=reads)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


@dataclass
class _Names:
    """What names mean in this module: os, environ, getenv, decouple, django-environ."""

    os: set[str] = field(default_factory=set)
    environ: set[str] = field(default_factory=set)
    getenv: set[str] = field(default_factory=set)
    decouple_module: set[str] = field(default_factory=set)
    decouple_config: set[str] = field(default_factory=set)
    django_module: set[str] = field(default_factory=set)
    django_env_class: set[str] = field(default_factory=set)
    django_env: dict[str, dict[str, Scheme]] = field(default_factory=dict)
    constants: dict[str, ast.Constant] = field(default_factory=dict)

    @classmethod
    def collect(cls, tree: ast.AST) -> _Names:
        names = cls()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names._import(alias.name, alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    names._import_from(node.module, alias.name, alias.asname or alias.name)
        for stmt in getattr(tree, "body", []):  # module constants, for defaults
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Constant)
            ):
                names.constants[stmt.targets[0].id] = stmt.value
        # a second pass: names bound to os.environ, AutoConfig() or environ.Env()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    names._bind(target.id, node.value)
        return names

    def _import(self, module: str, bound: str) -> None:
        targets = {"os": self.os, "decouple": self.decouple_module, "environ": self.django_module}
        if module in targets:
            targets[module].add(bound)

    def _import_from(self, module: str | None, name: str, bound: str) -> None:
        targets = {
            ("os", "environ"): self.environ,
            ("os", "getenv"): self.getenv,
            ("decouple", "config"): self.decouple_config,
            ("environ", "Env"): self.django_env_class,
        }
        target = targets.get((module or "", name))
        if target is not None:
            target.add(bound)

    def _bind(self, name: str, value: ast.expr) -> None:
        branches = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        if any(self.is_environ(b) for b in branches):
            self.environ.add(name)
        elif isinstance(value, ast.Call) and self._is_autoconfig(value.func):
            self.decouple_config.add(name)
        elif isinstance(value, ast.Call) and self._is_django_env(value.func):
            self.django_env[name] = {
                kw.arg: scheme(kw.value) for kw in value.keywords if kw.arg is not None
            }

    def is_environ(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.environ
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.os
        )

    def is_getenv(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.getenv
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "getenv"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.os
        )

    def is_decouple_config(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.decouple_config
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "config"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.decouple_module
        )

    def _is_autoconfig(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Attribute):
            return (
                func.attr in {"AutoConfig", "Config"}
                and isinstance(func.value, ast.Name)
                and func.value.id in self.decouple_module
            )
        return isinstance(func, ast.Name) and func.id == "AutoConfig"

    def _is_django_env(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.django_env_class
        return (
            isinstance(func, ast.Attribute)
            and func.attr in {"Env", "FileAwareEnv"}
            and isinstance(func.value, ast.Name)
            and func.value.id in self.django_module
        )


def _literal(node: ast.expr | None) -> str | None:
    """A constant as the text an environment variable would hold."""
    if not isinstance(node, ast.Constant) or node.value is None:
        return None
    if isinstance(node.value, bool):
        return "true" if node.value else "false"
    if isinstance(node.value, int | float | str):
        return str(node.value)
    return None


def _const_type(node: ast.expr | None) -> VarType | None:
    if isinstance(node, ast.Constant) and not isinstance(node.value, str):
        if isinstance(node.value, bool):
            return VarType.BOOL
        if isinstance(node.value, int):
            return VarType.INT
        if isinstance(node.value, float):
            return VarType.FLOAT
    return None


def _name_arg(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


class _Finder(ast.NodeVisitor):
    def __init__(self, rel: str, names: _Names, parents: dict[ast.AST, ast.AST]) -> None:
        self.rel = rel
        self.names = names
        self.parents = parents
        self.reads: list[Read] = []

    def _add(
        self,
        node: ast.AST,
        name: str,
        *,
        required: bool,
        default: ast.expr | None = None,
        var_type: VarType | None = None,
        choices: tuple[str, ...] = (),
        raises: bool = False,
    ) -> None:
        default = self._constant(default)
        has_fallback, fallback, wrapped = self._context(node)
        text_default = _literal(default) if default is not None else fallback
        if has_fallback and text_default == "":  # get("X", "") or FALLBACK
            text_default = fallback
        inferred = var_type or wrapped or _const_type(default)
        self.reads.append(
            Read(
                name=name,
                path=self.rel,
                line=getattr(node, "lineno", 0),
                source=Source.PYTHON,
                required=raises or (required and text_default is None),
                default=text_default,
                type=inferred,
                choices=choices,
            )
        )

    def _constant(self, node: ast.expr | None) -> ast.expr | None:
        """A module constant's value in place of its name (``DEFAULT_PORT``)."""
        if isinstance(node, ast.Name) and node.id in self.names.constants:
            return self.names.constants[node.id]
        return node

    def _context(self, node: ast.AST) -> tuple[bool, str | None, VarType | None]:
        """A default from ``read or "x"`` and a type from ``int(read)`` around a read."""
        current, default, has_fallback = node, None, False
        while True:
            parent = self.parents.get(current)
            if (
                isinstance(parent, ast.Attribute)
                and parent.attr in _TRANSPARENT_METHODS
                and isinstance(self.parents.get(parent), ast.Call)
            ):
                current = self.parents[parent]
                continue
            if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.Or):
                last = parent.values[-1]
                if last is not current and not has_fallback:
                    has_fallback, default = True, _literal(self._constant(last))
                current = parent
                continue
            break
        if isinstance(parent, ast.Call) and current in parent.args:
            func = parent.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in _WRAPPERS:
                return has_fallback, default, _WRAPPERS[called]
        if isinstance(parent, ast.Compare) and _is_bool_compare(parent):
            return has_fallback, default, VarType.BOOL
        return has_fallback, default, None

    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = node.slice
        if (
            isinstance(node.ctx, ast.Load)
            and self.names.is_environ(node.value)
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            self._add(node, key.value, required=True, raises=True)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if (
            isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and self.names.is_environ(node.comparators[0])
        ):
            self.reads.append(Read(node.left.value, self.rel, node.lineno, Source.PYTHON))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._environ_call(node) or self._decouple(node) or self._django(node)
        self.generic_visit(node)

    def _environ_call(self, node: ast.Call) -> bool:
        func = node.func
        name = _name_arg(node)
        if name is None:
            return False
        default = node.args[1] if len(node.args) > 1 else _keyword(node, "default")
        if self.names.is_getenv(func):
            self._add(node, name, required=False, default=default)
            return True
        if not (isinstance(func, ast.Attribute) and self.names.is_environ(func.value)):
            return False
        if func.attr in {"get", "setdefault"}:
            self._add(node, name, required=False, default=default)
        elif func.attr == "pop":
            self._add(node, name, required=default is None, default=default)
        else:
            return False
        return True

    def _decouple(self, node: ast.Call) -> bool:
        if not self.names.is_decouple_config(node.func):
            return False
        name = _name_arg(node)
        if name is None:
            return True
        default = _keyword(node, "default")
        if default is None and len(node.args) > 1:
            default = node.args[1]
        var_type, choices = decouple_cast(_keyword(node, "cast"))
        self._add(
            node,
            name,
            required=default is None,
            default=default,
            var_type=var_type,
            choices=choices,
        )
        return True

    def _django(self, node: ast.Call) -> bool:
        func = node.func
        method: str | None = None
        if isinstance(func, ast.Name) and func.id in self.names.django_env:
            schema = self.names.django_env[func.id]
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.names.django_env
            and func.attr in DJANGO_TYPES
        ):
            schema = self.names.django_env[func.value.id]
            method = func.attr
        else:
            return False
        name = _name_arg(node) or DJANGO_DEFAULT_NAMES.get(method or "")
        if name is None:
            return True
        scheme = schema.get(name, Scheme())
        default = _keyword(node, "default") or scheme.default
        var_type = DJANGO_TYPES[method] if method else scheme.var_type
        if method is None and len(node.args) > 1 and isinstance(node.args[1], ast.Name):
            var_type = CAST_NAMES.get(node.args[1].id, var_type)
        self._add(node, name, required=default is None, default=default, var_type=var_type)
        return True


def _is_bool_compare(node: ast.Compare) -> bool:
    values: list[str] = []
    for comparator in node.comparators:
        items = comparator.elts if isinstance(comparator, ast.Tuple | ast.List | ast.Set) else []
        for item in items or [comparator]:
            if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                return False
            values.append(item.value.lower())
    return bool(values) and set(values) <= _BOOL_WORDS
