"""``file``: a document exists and has the sections its readers need."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.checks.interface import CheckError, NotReported
from gonogo.digest import sha256_file
from gonogo.gates.results import Status
from tests.checks.helpers import context, evaluate, inputs

RUNBOOK = """\
# Runbook

## Deploy

Run `make deploy`.

Rollback plan:
--------------

Run `make rollback`.

```markdown
## Escalation
```
"""


def test_missing_file_is_not_reported(tmp_path: Path) -> None:
    with pytest.raises(NotReported) as caught:
        evaluate("file", {"path": "RUNBOOK.md"}, context(tmp_path))
    assert str(caught.value) == "RUNBOOK.md does not exist; write it or fix `path`"


def test_existing_file_without_required_sections_passes(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("Apache-2.0\n", encoding="utf-8")
    observation, judgement = evaluate("file", {"path": "LICENSE"}, context(tmp_path))
    assert (judgement.status, judgement.reason) == (Status.PASS, "LICENSE exists")
    [ref] = observation.evidence
    assert (ref.kind, ref.uri, ref.sha256) == ("file", "LICENSE", sha256_file(tmp_path / "LICENSE"))


def test_missing_markdown_sections_are_listed(tmp_path: Path) -> None:
    (tmp_path / "RUNBOOK.md").write_text(RUNBOOK, encoding="utf-8")
    params = {
        "path": "RUNBOOK.md",
        "sections": ["Deploy", "Rollback plan", "Escalation", "On-call"],
    }
    observation, judgement = evaluate("file", params, context(tmp_path))
    # "## Escalation" inside a code block is not a heading
    assert observation.details["missing"] == ["Escalation", "On-call"]
    assert observation.measured == 2
    assert judgement.status is Status.FAIL
    assert judgement.reason == "RUNBOOK.md lacks section(s): Escalation, On-call"
    assert judgement.expected == "sections: Deploy, Rollback plan, Escalation, On-call"


def test_all_sections_present_passes(tmp_path: Path) -> None:
    (tmp_path / "RUNBOOK.md").write_text(RUNBOOK, encoding="utf-8")
    params = {"path": "RUNBOOK.md", "sections": ["deploy", "Rollback Plan:"]}
    observation, judgement = evaluate("file", params, context(tmp_path))
    assert judgement.status is Status.PASS
    assert judgement.reason == "RUNBOOK.md has every required section"
    assert observation.details["headings"] == ["Runbook", "Deploy", "Rollback plan:"]


def test_folder_instead_of_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    with pytest.raises(CheckError) as caught:
        evaluate("file", {"path": "docs"}, context(tmp_path))
    assert not isinstance(caught.value, NotReported)
    assert "docs is a folder, not a file" in str(caught.value)


def test_the_file_is_what_the_result_depends_on(tmp_path: Path) -> None:
    assert inputs("file", {"path": "docs/RUNBOOK.md"}, context(tmp_path)).files == (
        tmp_path / "docs" / "RUNBOOK.md",
    )


def test_ingested_document_is_read_instead_of_the_path(tmp_path: Path) -> None:
    pushed = tmp_path / "pushed.md"
    pushed.write_text("# Deploy\n", encoding="utf-8")
    params = {"path": "RUNBOOK.md", "sections": ["Deploy"]}
    _, judgement = evaluate("file", params, context(tmp_path, ingested=pushed))
    assert judgement.status is Status.PASS
