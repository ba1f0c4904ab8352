"""Typed values of the secret scanner: rules as written, findings, notices, a scan's result.

A :class:`Finding` never holds the secret: only its SHA-256, a redacted preview and the
fingerprint that identifies it across runs (path, rule and secret hash, never the line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gonogo.digest import sha256_bytes
from gonogo.errors import GonogoError

#: the ``"schema"`` key of ``gonogo secrets scan --format json``
JSON_SCHEMA = "gonogo.secrets/v1"

#: the ``"schema"`` key of a gonogo secrets baseline file
BASELINE_SCHEMA = "gonogo.secrets-baseline/v1"


class SecretsError(GonogoError):
    """The scanner cannot run: a bad rule file, baseline or path."""


#: how to fix a rules file that cannot be used
RULES_HINT = "fix the rules file (gitleaks' format, see docs/secrets.md)"


class RuleError(SecretsError):
    """A rule file is malformed, or a rule's regex does not compile."""

    def __init__(self, message: str, *, hint: str | None = RULES_HINT) -> None:
        super().__init__(message, hint=hint)


class RegexTarget(StrEnum):
    """What an allowlist's regexes are matched against."""

    SECRET = "secret"  # noqa: S105 - a target name, not a password
    MATCH = "match"
    LINE = "line"


class Condition(StrEnum):
    """How an allowlist's criteria combine."""

    OR = "OR"
    AND = "AND"


@dataclass(frozen=True)
class Allowlist:
    """Matches that are not secrets after all (gitleaks' ``[[rules.allowlists]]``)."""

    description: str = ""
    condition: Condition = Condition.OR
    regex_target: RegexTarget = RegexTarget.SECRET
    regexes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()
    target_rules: tuple[str, ...] = ()
    """For a global allowlist: the rule ids it applies to (empty: every rule)."""


@dataclass(frozen=True)
class Rule:
    """One detection rule in gitleaks' format (plus gonogo's optional ``validate``)."""

    id: str
    description: str = ""
    regex: str | None = None
    secret_group: int = 0
    entropy: float | None = None
    keywords: tuple[str, ...] = ()
    path: str | None = None
    allowlists: tuple[Allowlist, ...] = ()
    tags: tuple[str, ...] = ()
    validate: str | None = None
    """A structural check beyond the regex: ``github-checksum`` or ``jwt``."""


@dataclass(frozen=True)
class RuleSet:
    """The rules a scan applies, with the allowlists that apply to all of them."""

    rules: tuple[Rule, ...]
    allowlists: tuple[Allowlist, ...] = ()
    source: str = "built-in"

    def rule(self, rule_id: str) -> Rule | None:
        """The rule named ``rule_id``, if any."""
        return next((r for r in self.rules if r.id == rule_id), None)


@dataclass(frozen=True)
class Hit:
    """What the detector found in one fragment; the secret itself stays behind."""

    rule_id: str
    line: int
    column: int
    secret_sha256: str
    secret_sha1s: tuple[str, ...]
    """SHA-1s of the secret's forms, to match detect-secrets baselines."""
    preview: str
    entropy: float


def fingerprint(path: str, rule_id: str, secret_sha256: str) -> str:
    """A finding's identity: path, rule and secret hash, never the line number."""
    return sha256_bytes("\0".join((path, rule_id, secret_sha256)).encode("utf-8"))


@dataclass(frozen=True)
class Finding:
    """A secret found at a place: in the tree, or added by a commit."""

    path: str
    line: int
    column: int
    rule_id: str
    description: str
    fingerprint: str
    preview: str
    entropy: float
    secret_sha1s: tuple[str, ...] = ()
    commit: str | None = None
    author: str | None = None
    date: str | None = None

    def to_json(self) -> dict[str, object]:
        """JSON form (no secret, no secret hash)."""
        data: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "rule_id": self.rule_id,
            "description": self.description,
            "fingerprint": self.fingerprint,
            "preview": self.preview,
            "entropy": round(self.entropy, 2),
        }
        if self.commit is not None:
            data.update(commit=self.commit, author=self.author, date=self.date)
        return data


class NoticeKind(StrEnum):
    """Why a file was skipped or scanned with a remark."""

    BINARY = "binary"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    SYMLINK_LOOP = "symlink_loop"
    NOT_REGULAR = "not_regular"
    INVALID_UTF8 = "invalid_utf8"
    MINIFIED = "minified"


#: notices that mean a file could not be scanned at all
SKIPPED = frozenset(
    {
        NoticeKind.BINARY,
        NoticeKind.TOO_LARGE,
        NoticeKind.UNREADABLE,
        NoticeKind.SYMLINK_LOOP,
        NoticeKind.NOT_REGULAR,
    }
)

#: notices a user should act on (the rest are expected: images, lockfiles)
WARNINGS = frozenset({NoticeKind.UNREADABLE, NoticeKind.SYMLINK_LOOP})


@dataclass(frozen=True)
class Notice:
    """A remark about one file: skipped (binary, too large, unreadable) or scanned oddly."""

    path: str
    kind: NoticeKind
    message: str

    def to_json(self) -> dict[str, str]:
        """JSON form."""
        return {"path": self.path, "kind": self.kind.value, "message": self.message}


@dataclass(frozen=True)
class FileOutcome:
    """What scanning one file (or one commit's change to it) produced."""

    path: str
    size: int
    """Bytes scanned (0 for a file skipped as binary or unreadable)."""
    hits: tuple[Hit, ...] = ()
    notices: tuple[Notice, ...] = ()
    commit: str | None = None
    author: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class ScanResult:
    """A whole scan: what is left after the baseline, what it suppressed, and the remarks."""

    root: str
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()
    notices: tuple[Notice, ...] = ()
    files: int = 0
    bytes: int = 0
    commits: int = 0
    rules: tuple[Rule, ...] = ()
    baseline: str | None = None
    baseline_sha256: str | None = None
    seconds: float = 0.0
    history: bool = False
    all_findings: tuple[Finding, ...] = field(default=(), repr=False)
    """Every finding before the baseline (what ``--update-baseline`` records)."""

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """Notices a user should act on."""
        return tuple(n for n in self.notices if n.kind in WARNINGS)
