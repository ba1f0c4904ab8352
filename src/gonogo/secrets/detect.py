"""The detector: rules compiled once, applied to one fragment (a file or a commit's additions).

For each fragment: the keyword prefilter picks the rules worth running, their regexes run on
the raw bytes, and each match is kept only when its secret clears the rule's entropy, its
validator and every allowlist. The secret never leaves this module: a :class:`Hit` carries
its hashes and a redacted preview.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gonogo.secrets.model import Allowlist, Condition, Hit, RegexTarget, Rule, RuleSet
from gonogo.secrets.prefilter import Prefilter, keyword_anchored
from gonogo.secrets.redact import redact_bytes
from gonogo.secrets.rules import compile_regex
from gonogo.secrets.validators import VALIDATE, shannon_entropy

_KEY_HEADER = re.compile(rb"BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY")


@dataclass(frozen=True)
class _Allow:
    condition: Condition
    target: RegexTarget
    regexes: tuple[re.Pattern[bytes], ...]
    paths: tuple[re.Pattern[bytes], ...]
    stopwords: tuple[bytes, ...]
    commits: frozenset[str]
    target_rules: frozenset[str]

    @classmethod
    def build(cls, allow: Allowlist, owner: str) -> _Allow:
        def patterns(items: Sequence[str]) -> tuple[re.Pattern[bytes], ...]:
            return tuple(compile_regex(p, rule_id=owner, what="allowlist regex") for p in items)

        return cls(
            condition=allow.condition,
            target=allow.regex_target,
            regexes=patterns(allow.regexes),
            paths=patterns(allow.paths),
            stopwords=tuple(s.encode("utf-8") for s in allow.stopwords),
            commits=frozenset(allow.commits),
            target_rules=frozenset(allow.target_rules),
        )

    def path_allowed(self, path: bytes) -> bool:
        return any(p.search(path) for p in self.paths)

    def allows(self, ctx: _Candidate) -> bool:
        checks: list[bool] = []
        if self.commits:
            checks.append(ctx.commit is not None and ctx.commit in self.commits)
        if self.paths:
            checks.append(self.path_allowed(ctx.path))
        if self.regexes:
            target = ctx.target(self.target)
            checks.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            lowered = ctx.secret.lower()
            checks.append(any(word in lowered for word in self.stopwords))
        if not checks:
            return False
        return all(checks) if self.condition is Condition.AND else any(checks)


@dataclass
class _Candidate:
    """One regex match under judgement: everything an allowlist may look at."""

    data: bytes
    path: bytes
    commit: str | None
    start: int
    end: int
    secret: bytes

    def target(self, which: RegexTarget) -> bytes:
        if which is RegexTarget.SECRET:
            return self.secret
        if which is RegexTarget.MATCH:
            return self.data[self.start : self.end]
        first = self.data.rfind(b"\n", 0, self.start) + 1
        last = self.data.find(b"\n", self.end)
        return self.data[first : len(self.data) if last < 0 else last]


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    regex: re.Pattern[bytes] | None
    path: re.Pattern[bytes] | None
    allowlists: tuple[_Allow, ...]
    anchored: bool
    """Every match starts at one of the rule's keywords: try only there."""


def secret_sha1s(secret: bytes, match: bytes) -> tuple[str, ...]:
    """SHA-1s of the forms a detect-secrets baseline may have hashed for this secret."""
    forms = {secret, secret.strip(b"'\"`"), match}
    header = _KEY_HEADER.search(match)
    if header:
        forms.add(header.group(0))
    return tuple(sorted(hashlib.sha1(f, usedforsecurity=False).hexdigest() for f in forms if f))


class Detector:
    """A rule set compiled for scanning; cheap to call on many fragments."""

    def __init__(self, ruleset: RuleSet) -> None:
        """Compile every rule and build the keyword automaton."""
        self.ruleset = ruleset
        self._rules = tuple(self._compile(rule) for rule in ruleset.rules)
        global_allows = [_Allow.build(a, "global allowlist") for a in ruleset.allowlists]
        self._global = tuple(a for a in global_allows if not a.target_rules)
        self._targeted = tuple(a for a in global_allows if a.target_rules)
        self._path_only = tuple(c for c in self._rules if c.regex is None)
        self._content = tuple(c for c in self._rules if c.regex is not None)
        self._prefilter = Prefilter([c.rule.keywords for c in self._content])

    @staticmethod
    def _compile(rule: Rule) -> _Compiled:
        regex = compile_regex(rule.regex, rule_id=rule.id) if rule.regex else None
        path = compile_regex(rule.path, rule_id=rule.id, what="path regex") if rule.path else None
        return _Compiled(
            rule=rule,
            regex=regex,
            path=path,
            allowlists=tuple(_Allow.build(a, rule.id) for a in rule.allowlists),
            anchored=regex is not None and keyword_anchored(regex, rule.keywords),
        )

    def path_allowed(self, path: str) -> bool:
        """Whether a global allowlist's paths exclude ``path`` from scanning entirely."""
        raw = path.encode("utf-8", errors="surrogateescape")
        return any(
            a.paths and not (a.regexes or a.stopwords or a.commits) and a.path_allowed(raw)
            for a in self._global
        )

    def scan_path(self, path: str) -> list[Hit]:
        """Path-only rules (``path`` without ``regex``): the file's name is the finding."""
        raw = path.encode("utf-8", errors="surrogateescape")
        hits = []
        for compiled in self._path_only:
            if compiled.path is not None and compiled.path.search(raw):
                digest = hashlib.sha256(raw).hexdigest()
                hits.append(Hit(compiled.rule.id, 1, 1, digest, (), redact_bytes(raw), 0.0))
        return hits

    def scan(self, data: bytes, path: str, commit: str | None = None) -> list[Hit]:
        """Every secret in ``data`` (the content at ``path``), in order of position.

        When two rules match overlapping text, the earlier rule (the more specific one in
        the built-ins) keeps it.
        """
        raw_path = path.encode("utf-8", errors="surrogateescape")
        keyword_hits = self._prefilter.hits(data)
        found: list[tuple[int, int, Hit]] = []
        taken: list[tuple[int, int]] = []
        for index in sorted(self._prefilter.rules_hit(keyword_hits)):
            compiled = self._content[index]
            if compiled.path is not None and not compiled.path.search(raw_path):
                continue
            matches = (
                _anchored_matches(compiled, data, self._prefilter.starts(index, keyword_hits))
                if compiled.anchored
                else _all_matches(compiled, data)
            )
            for start, end, hit in self._judge(compiled, matches, data, raw_path, commit):
                if any(start < t_end and t_start < end for t_start, t_end in taken):
                    continue
                taken.append((start, end))
                found.append((start, end, hit))
        found.sort(key=lambda item: item[0])
        return [hit for _, _, hit in found]

    def _judge(
        self,
        compiled: _Compiled,
        matches: Iterator[re.Match[bytes]],
        data: bytes,
        path: bytes,
        commit: str | None,
    ) -> Iterator[tuple[int, int, Hit]]:
        rule = compiled.rule
        for match in matches:
            group = _secret_group(match, rule.secret_group)
            secret = match.group(group)
            if not secret:
                continue
            entropy = shannon_entropy(secret)
            if rule.entropy is not None and entropy < rule.entropy:
                continue
            if rule.validate is not None and not VALIDATE[rule.validate](secret):
                continue
            start, end = match.span(group)
            candidate = _Candidate(data, path, commit, match.start(), match.end(), secret)
            if self._allowed(compiled, candidate):
                continue
            at = match.start()  # where the finding starts, as gitleaks reports it
            line_start = data.rfind(b"\n", 0, at) + 1
            yield (
                start,
                end,
                Hit(
                    rule_id=rule.id,
                    line=data.count(b"\n", 0, at) + 1,
                    column=at - line_start + 1,
                    secret_sha256=hashlib.sha256(secret).hexdigest(),
                    secret_sha1s=secret_sha1s(secret, match.group(0)),
                    preview=redact_bytes(secret),
                    entropy=entropy,
                ),
            )

    def _allowed(self, compiled: _Compiled, candidate: _Candidate) -> bool:
        if any(a.allows(candidate) for a in compiled.allowlists):
            return True
        if any(a.allows(candidate) for a in self._global):
            return True
        rule_id = compiled.rule.id
        return any(rule_id in a.target_rules and a.allows(candidate) for a in self._targeted)


def _all_matches(compiled: _Compiled, data: bytes) -> Iterator[re.Match[bytes]]:
    assert compiled.regex is not None  # noqa: S101 - only content rules get here
    return compiled.regex.finditer(data)


def _anchored_matches(
    compiled: _Compiled, data: bytes, starts: Sequence[int]
) -> Iterator[re.Match[bytes]]:
    """What ``finditer`` finds, trying only the offsets where a keyword starts."""
    assert compiled.regex is not None  # noqa: S101 - only content rules get here
    match_at = compiled.regex.match
    resume = 0
    for start in starts:
        if start < resume:
            continue
        match = match_at(data, start)
        if match is not None:
            resume = max(match.end(), start + 1)
            yield match


def _secret_group(match: re.Match[bytes], wanted: int) -> int:
    """gitleaks' choice: ``secretGroup`` if set, else the first non-empty group, else all."""
    if wanted:
        return wanted
    for index in range(1, (match.re.groups or 0) + 1):
        if match.group(index):
            return index
    return 0
