"""The keyword prefilter and anchored matching find exactly what a full regex search finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.secrets.detect import Detector
from gonogo.secrets.model import Rule, RuleSet
from gonogo.secrets.prefilter import Prefilter, keyword_anchored, literal_prefixes
from gonogo.secrets.rules import builtin_rules, compile_regex
from gonogo.secrets.validators import github_checksum, valid_github_checksum, valid_jwt

PIECES = ["key", "KEY", "Secret", "token", "=", " ", '"', "'", ":", "\n", "abc", "Z9", "x_", "7"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def test_most_built_in_rules_are_tried_only_where_a_keyword_starts() -> None:
    anchored = [
        r.id
        for r in builtin_rules().rules
        if r.regex and keyword_anchored(compile_regex(r.regex, rule_id=r.id), r.keywords)
    ]

    assert {"generic-api-key", "github-pat", "private-key", "aws-access-key-id"} <= set(anchored)
    assert len(anchored) >= 50


def test_literal_prefixes_follow_groups_and_alternations() -> None:
    def prefixes(pattern: str) -> set[bytes] | None:
        return literal_prefixes(re.compile(pattern.encode()))

    assert prefixes(r"\b(ghp_[0-9]{3})") == {b"ghp_"}
    assert prefixes(r"(?i)(?:Key|secret)_x") == {b"key_x", b"secret_x"}
    assert prefixes(r"(a[0-9])b") == {b"a"}
    assert prefixes(r"[a-z]+") is None


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_anchored_matching_equals_a_full_search(text: str) -> None:
    pattern = r'(?i)(?:key|secret|token)[\w]{0,5}\s*[=:]\s*["\']?([\w]{3,})'
    ruleset = RuleSet(
        rules=(Rule(id="g", regex=pattern, keywords=("key", "secret", "token")),),
    )
    detector = Detector(ruleset)
    data = text.encode()

    found = [(h.line, h.column) for h in detector.scan(data, "f.txt")]

    expected = []
    for m in re.finditer(pattern.encode(), data):
        at = m.start()
        expected.append((data.count(b"\n", 0, at) + 1, at - (data.rfind(b"\n", 0, at) + 1) + 1))
    assert found == expected


def test_the_prefilter_reports_keyword_offsets_case_insensitively() -> None:
    prefilter = Prefilter([("ghp_",), ("key",), ()])

    hits = prefilter.hits(b"KEY ghp_ key")

    assert prefilter.rules_hit(hits) == {0, 1, 2}
    assert prefilter.starts(1, hits) == [0, 9]
    assert prefilter.rules_hit(prefilter.hits(b"nothing")) == {2}


def test_github_checksum_validation() -> None:
    body = "A" * 29 + "b"
    token = f"ghp_{body}{github_checksum(body)}".encode()

    assert valid_github_checksum(token)
    assert not valid_github_checksum(token[:-1] + b"x")
    assert not valid_github_checksum(b"ghp_short")


def test_jwt_validation_needs_json_header_with_alg() -> None:
    assert valid_jwt(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
    assert not valid_jwt(b"eyJ0eXAiOiJ4In0.eyJzdWIiOiIxIn0.c2ln")
    assert not valid_jwt(b"eyJnotbase64!.eyJ.x")
