"""Rules in gitleaks' TOML format: load, translate Go regex syntax, compile to bytes patterns.

Supported keys: ``[[rules]]`` with ``id``, ``description``, ``regex``, ``secretGroup``,
``entropy``, ``keywords``, ``path``, ``tags``, ``[[rules.allowlists]]`` (and the older
``[rules.allowlist]``) with ``description``, ``condition``, ``regexTarget``, ``regexes``,
``paths``, ``stopwords``, ``commits``; global ``[allowlist]`` / ``[[allowlists]]`` (with
``targetRules``); ``[extend]`` with ``useDefault``, ``path`` and ``disabledRules``. gonogo
adds one optional rule key, ``validate`` (``github-checksum`` or ``jwt``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from gonogo.secrets.model import Allowlist, Condition, RegexTarget, Rule, RuleError, RuleSet

BUILTIN = "built-in"
VALIDATORS = frozenset({"github-checksum", "jwt"})

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_FLAGS = re.compile(r"\(\?([imsU]+)\)")


def go_to_python(pattern: str) -> str:
    """Translate the RE2 (Go) syntax gitleaks rules use into Python's ``re`` dialect.

    Handles ``\\z``, ``(?<name>``, POSIX classes (``[[:alnum:]]``) and inline flags in the
    middle of a pattern (``a(?i)b``), which Go scopes to the rest of the group.
    """
    return _Translator(pattern).run()


class _Translator:
    """One pass over a Go pattern, tracking character classes and open groups."""

    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.out: list[str] = []
        self.scopes: list[list[str]] = [[]]  # per open group: flag scopes opened inside it
        self.i = 0

    def run(self) -> str:
        while self.i < len(self.src):
            if self.src[self.i] == "\\" and self.i + 1 < len(self.src):
                nxt = self.src[self.i + 1]
                self.out.append("\\Z" if nxt == "z" else "\\" + nxt)
                self.i += 2
            elif self.src[self.i] == "[":
                self._char_class()
            else:
                self._outside()
        self.out.append(")" * len(self.scopes[0]))
        return "".join(self.out)

    def _char_class(self) -> None:
        src, out = self.src, self.out
        out.append("[")
        self.i += 1
        if src.startswith("^", self.i):
            out.append("^")
            self.i += 1
        if src.startswith("]", self.i):
            out.append("\\]")
            self.i += 1
        while self.i < len(src):
            posix = re.match(r"\[:([a-z]+):\]", src[self.i :])
            if posix and posix.group(1) in _POSIX_CLASSES:
                out.append(_POSIX_CLASSES[posix.group(1)])
                self.i += posix.end()
                continue
            step = 2 if src[self.i] == "\\" else 1
            out.append(src[self.i : self.i + step])
            self.i += step
            if out[-1] == "]":
                return

    def _outside(self) -> None:
        src, out, ch = self.src, self.out, self.src[self.i]
        flags = _FLAGS.match(src, self.i)
        if flags and not _only_flags(out):
            out.append(f"(?{flags.group(1)}:")
            self.scopes[-1].append(flags.group(1))
            self.i = flags.end()
            return
        if src.startswith("(?<", self.i) and not src.startswith(("(?<=", "(?<!"), self.i):
            out.append("(?P<")
            self.scopes.append([])
            self.i += 3
            return
        if ch == "(":
            self.scopes.append([])
        elif ch == "|":
            opened = self.scopes[-1]
            ch = ")" * len(opened) + "|" + "".join(f"(?{f}:" for f in opened)
        elif ch == ")" and len(self.scopes) > 1:
            ch = ")" * len(self.scopes.pop()) + ")"
        out.append(ch)
        self.i += 1


def _only_flags(out: Sequence[str]) -> bool:
    """Whether everything emitted so far is leading global flags like ``(?i)``."""
    return bool(re.fullmatch(r"(?:\(\?[imsx]+\))*", "".join(out)))


def compile_regex(pattern: str, *, rule_id: str, what: str = "regex") -> re.Pattern[bytes]:
    """Compile a rule's pattern (Go syntax) for bytes; a bad one names the rule."""
    translated = go_to_python(pattern)
    if "(?U" in translated:
        raise RuleError(f"rule {rule_id!r}: {what} uses (?U), which Python cannot express")
    try:
        return re.compile(translated.encode("utf-8"))
    except re.error as exc:
        raise RuleError(
            f"rule {rule_id!r}: invalid {what} {pattern!r}: {exc}",
            hint="fix the pattern in the rules file",
        ) from None


def _strings(value: Any, *, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RuleError(f"{where} must be a list of strings")


def _allowlist(data: Any, *, where: str) -> Allowlist:
    if not isinstance(data, Mapping):
        raise RuleError(f"{where} must be a table")
    condition = str(data.get("condition", "OR")).upper()
    target = str(data.get("regexTarget", "secret")).lower()
    if condition not in {c.value for c in Condition}:
        raise RuleError(f"{where}: condition must be OR or AND, not {condition!r}")
    if target not in {t.value for t in RegexTarget}:
        raise RuleError(f"{where}: regexTarget must be secret, match or line, not {target!r}")
    return Allowlist(
        description=str(data.get("description", "")),
        condition=Condition(condition),
        regex_target=RegexTarget(target),
        regexes=_strings(data.get("regexes"), where=f"{where}.regexes"),
        paths=_strings(data.get("paths"), where=f"{where}.paths"),
        stopwords=tuple(
            s.lower() for s in _strings(data.get("stopwords"), where=f"{where}.stopwords")
        ),
        commits=_strings(data.get("commits"), where=f"{where}.commits"),
        target_rules=_strings(data.get("targetRules"), where=f"{where}.targetRules"),
    )


def _allowlists(table: Mapping[str, Any], *, where: str) -> tuple[Allowlist, ...]:
    found: list[Allowlist] = []
    if "allowlist" in table:
        found.append(_allowlist(table["allowlist"], where=f"{where}.allowlist"))
    many = table.get("allowlists", [])
    if not isinstance(many, list):
        raise RuleError(f"{where}.allowlists must be an array of tables")
    found += [_allowlist(a, where=f"{where}.allowlists[{i}]") for i, a in enumerate(many)]
    return tuple(found)


def _rule(data: Any, index: int) -> Rule:
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
        raise RuleError(
            f"rules[{index}] has no id", hint="every [[rules]] needs id = '…' (a string)"
        )
    rule_id = data["id"]
    regex, path = data.get("regex"), data.get("path")
    if regex is None and path is None:
        raise RuleError(f"rule {rule_id!r} has neither regex nor path")
    if not isinstance(regex, str | None) or not isinstance(path, str | None):
        raise RuleError(f"rule {rule_id!r}: regex and path must be strings")
    group, entropy = data.get("secretGroup", 0), data.get("entropy")
    if not isinstance(group, int) or group < 0:
        raise RuleError(f"rule {rule_id!r}: secretGroup must be a whole number >= 0")
    if entropy is not None and (not isinstance(entropy, int | float) or entropy < 0):
        raise RuleError(f"rule {rule_id!r}: entropy must be a number >= 0")
    validate = data.get("validate")
    if validate is not None and validate not in VALIDATORS:
        raise RuleError(
            f"rule {rule_id!r}: unknown validate {validate!r}",
            hint=f"use one of {', '.join(sorted(VALIDATORS))}",
        )
    where = f"rule {rule_id!r}"
    return Rule(
        id=rule_id,
        description=str(data.get("description", "")),
        regex=regex,
        secret_group=group,
        entropy=float(entropy) if entropy else None,
        keywords=tuple(
            k.lower() for k in _strings(data.get("keywords"), where=f"{where} keywords")
        ),
        path=path,
        allowlists=_allowlists(data, where=where),
        tags=_strings(data.get("tags"), where=f"{where} tags"),
        validate=validate,
    )


def parse_rules(text: str, *, source: str, base: Path | None = None, depth: int = 0) -> RuleSet:
    """Parse a gitleaks-format rules document (``[extend]`` resolved against ``base``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source} is not valid TOML: {exc}") from None
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RuleError(f"{source}: rules must be an array of tables ([[rules]])")
    rules = [_rule(r, i) for i, r in enumerate(raw_rules)]
    allowlists = list(_allowlists(data, where="global"))
    extend = _extend(data.get("extend", {}), source=source)
    parents: list[RuleSet] = []
    if extend:
        if depth > 3:
            raise RuleError(f"{source}: [extend] nests too deeply")
        if extend.get("useDefault", False):
            parents.append(builtin_rules())
        if "path" in extend:
            parent_path = (base or Path.cwd()) / extend["path"]
            parents.append(load_rules(parent_path, depth=depth + 1))
        disabled = set(_strings(extend.get("disabledRules"), where="extend.disabledRules"))
        own = {r.id for r in rules}
        for parent in parents:
            rules = [r for r in parent.rules if r.id not in own and r.id not in disabled] + rules
            allowlists = list(parent.allowlists) + allowlists
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleError(f"{source}: rule id {duplicates[0]!r} is defined twice")
    ruleset = RuleSet(rules=tuple(rules), allowlists=tuple(allowlists), source=source)
    check_rules(ruleset)
    return ruleset


def _extend(extend: Any, *, source: str) -> Mapping[str, Any]:
    """``[extend]``, its keys' types checked: a wrong one must not drop the built-ins."""
    if not isinstance(extend, Mapping):
        raise RuleError(f"{source}: extend must be a table ([extend])")
    if not isinstance(extend.get("useDefault", False), bool):
        raise RuleError(f"{source}: extend.useDefault must be true or false")
    if not isinstance(extend.get("path", ""), str):
        raise RuleError(f"{source}: extend.path must be a string (a rules file)")
    return extend


def check_rules(ruleset: RuleSet) -> None:
    """Compile every pattern once, so a bad one is reported before any scanning."""
    for rule in ruleset.rules:
        if rule.regex is not None:
            compiled = compile_regex(rule.regex, rule_id=rule.id)
            if rule.secret_group > compiled.groups:
                raise RuleError(
                    f"rule {rule.id!r}: secretGroup {rule.secret_group} but the regex has "
                    f"{compiled.groups} group(s)"
                )
        if rule.path is not None:
            compile_regex(rule.path, rule_id=rule.id, what="path regex")
        for allow in rule.allowlists:
            for pattern in (*allow.regexes, *allow.paths):
                compile_regex(pattern, rule_id=rule.id, what="allowlist regex")
    for allow in ruleset.allowlists:
        for pattern in (*allow.regexes, *allow.paths):
            compile_regex(pattern, rule_id="global allowlist", what="allowlist regex")


def load_rules(path: Path, *, depth: int = 0) -> RuleSet:
    """Read a rules file; a missing or malformed one is a one-line RuleError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleError(f"rules file {path} does not exist", hint="fix --rules") from None
    except IsADirectoryError:
        raise RuleError(f"rules file {path} is a folder", hint="name a TOML file") from None
    except UnicodeDecodeError:
        raise RuleError(
            f"cannot read rules file {path}: it is not UTF-8 text", hint="save it as UTF-8"
        ) from None
    except OSError as exc:
        raise RuleError(f"cannot read rules file {path}: {exc.strerror}") from None
    ruleset = parse_rules(text, source=str(path), base=path.parent, depth=depth)
    if depth == 0 and not ruleset.rules:
        # a scan with no rule finds nothing and would pass every tree
        raise RuleError(
            f"rules file {path} defines no rules",
            hint="add [[rules]] tables, or [extend] useDefault = true to keep the built-ins",
        )
    return ruleset


@cache
def builtin_rules() -> RuleSet:
    """gonogo's own rule set (``builtin_rules.toml``)."""
    text = resources.files("gonogo.secrets").joinpath("builtin_rules.toml").read_text("utf-8")
    return parse_rules(text, source=BUILTIN)


def resolve_rules(path: Path | None) -> RuleSet:
    """The rules of a scan: ``path`` when given (gitleaks format), else the built-ins."""
    return builtin_rules() if path is None else load_rules(path)
