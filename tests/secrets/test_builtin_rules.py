"""Every built-in rule reports a well-formed fake token and ignores its look-alikes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gonogo.secrets.detect import Detector
from gonogo.secrets.rules import builtin_rules
from gonogo.secrets.scan import Target, scan_target
from tests.secrets.tokens import cases

RULES = builtin_rules()
CASES = cases(random.Random(20240501))  # noqa: S311 - repeatable fakes
DETECTOR = Detector(RULES)


def _scan(tmp_path: Path, name: str, text: str) -> list[str]:
    """Rule ids reported for a real file ``name`` holding ``text``."""
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    outcome = scan_target(DETECTOR, Target(str(path), name, path.stat().st_size))
    return [h.rule_id for h in outcome.hits]


def test_the_built_in_set_is_large_and_every_rule_has_a_case() -> None:
    ids = [r.id for r in RULES.rules]
    assert len(ids) >= 60
    assert sorted(CASES) == sorted(ids)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_reports_its_token_redacted_and_ignores_look_alikes(
    rule_id: str, tmp_path: Path
) -> None:
    case = CASES[rule_id]
    path = tmp_path / case.name
    path.write_text(f"# config\n{case.line}\n# end\n", encoding="utf-8")

    outcome = scan_target(DETECTOR, Target(str(path), case.name, path.stat().st_size))

    assert [h.rule_id for h in outcome.hits] == [rule_id]
    (hit,) = outcome.hits
    assert hit.line == 2
    assert case.secret not in hit.preview
    assert hit.preview.endswith(f"…({len(case.secret)} chars)")
    assert len(hit.preview.split("…")[0]) <= 4
    assert _scan(tmp_path, "negative-" + case.name, case.negative) == []


def test_a_github_token_with_a_wrong_checksum_is_not_reported_anywhere_in_a_file(
    tmp_path: Path,
) -> None:
    good, bad = CASES["github-pat"].secret, CASES["github-pat"].negative

    assert _scan(tmp_path, "a.py", f"x = 1\n{bad}\n") == []
    assert _scan(tmp_path, "b.py", f"x = 1\nTOKEN = '{good}'\n") == ["github-pat"]


def test_a_specific_rule_wins_over_the_generic_ones_on_the_same_secret(tmp_path: Path) -> None:
    token = CASES["stripe-secret-key"].secret

    assert _scan(tmp_path, "settings.py", f'STRIPE_SECRET_KEY = "{token}"') == ["stripe-secret-key"]


def test_low_entropy_assignments_are_not_secrets(tmp_path: Path) -> None:
    text = "\n".join(
        [
            'api_key = "aaaaaaaaaaaaaaaaaaaaaaaa"',
            'secret = "0123456789"',
            'token = "SOME_CONSTANT_NAME"',
            'auth_token = "os.environ.get"',
            "API_KEY=${API_KEY}",
            'password = "password123"',
        ]
    )

    assert _scan(tmp_path, "settings.py", text) == []
