"""Headings of Markdown documents such as runbooks and release notes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.evidence import Heading, headings, missing_sections

RUNBOOK = """\
---
title: Checkout runbook
owner: payments
---
# Checkout runbook #

Deploy and roll back the checkout service.

## Deploy

1. Run the pipeline.

```bash
# Rollback
kubectl rollout undo deploy/checkout
```

Rollback plan:
--------------

~~~~
## Not a heading either
```
## still inside the tilde fence
~~~~

    # indented code, not a heading

<!--
## Escalation (commented out until the rota exists)
-->

Risks
=====

### Contacts ###
#hashtag is not a heading
####### seven hashes are not a heading
"""


def test_runbook_headings_with_levels_and_line_numbers() -> None:
    assert headings(RUNBOOK) == (
        Heading(1, "Checkout runbook", 5),
        Heading(2, "Deploy", 9),
        Heading(2, "Rollback plan:", 18),
        Heading(1, "Risks", 33),
        Heading(3, "Contacts", 36),
    )


def test_required_sections_compare_case_and_punctuation_insensitively() -> None:
    assert missing_sections(RUNBOOK, ["deploy", "ROLLBACK PLAN", " Risks ", "contacts:"]) == ()


def test_sections_hidden_in_code_or_comments_are_reported_missing() -> None:
    required = ["Rollback", "Escalation", "Not a heading either", "Deploy", "Monitoring"]
    assert missing_sections(RUNBOOK, required) == (
        "Rollback",
        "Escalation",
        "Not a heading either",
        "Monitoring",
    )


def test_missing_sections_are_listed_once_in_the_order_required() -> None:
    assert missing_sections("# Intro\n", ["Owners", "Intro", "Owners", "SLOs"]) == (
        "Owners",
        "SLOs",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Title", (Heading(1, "Title", 1),)),
        ("###### Six", (Heading(6, "Six", 1),)),
        ("  ## Indented a little ##  ", (Heading(2, "Indented a little", 1),)),
        ("# Issue #42", (Heading(1, "Issue #42", 1),)),
        ("# C#", (Heading(1, "C#", 1),)),
        ("#", (Heading(1, "", 1),)),
        ("#\tTabbed", (Heading(1, "Tabbed", 1),)),
        ("Two line\nsetext title\n===", (Heading(1, "Two line setext title", 1),)),
        ("Title\r\n---\r\n", (Heading(2, "Title", 1),)),
        ("---\n\nNot setext", ()),
        ("- item\n---", ()),
        ("```\n# open fence runs to the end", ()),
        ("````\n```\n# still code\n````\n# After", (Heading(1, "After", 5),)),
        ("``` py\n# code\n```\n# After", (Heading(1, "After", 4),)),
        ("    # code\n# Real", (Heading(1, "Real", 2),)),
        ("\t# tab-indented code", ()),
        ("text\n    # lazy continuation, not a heading", ()),
        ("---\nkey: value\n---\n# Body", (Heading(1, "Body", 4),)),
        ("---\nA rule, not front matter\n\n# Body", (Heading(1, "Body", 4),)),
    ],
)
def test_heading_forms(text: str, expected: tuple[Heading, ...]) -> None:
    assert headings(text) == expected


# -- properties --------------------------------------------------------------------------------

_LINE = st.text(alphabet=st.sampled_from(list("# ~`=-abc:\t")), min_size=0, max_size=12).filter(
    lambda line: line.strip(" \t")[:3] not in ("```", "~~~")
)
_FENCE = st.sampled_from(["```", "~~~", "````", "~~~~~", "```python"])


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_LINE, max_size=4),  # ordinary text before the block
            _FENCE,
            st.lists(_LINE.map(lambda line: "#" + line), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_no_heading_is_ever_reported_from_inside_a_fenced_block(
    blocks: list[tuple[list[str], str, list[str]]],
) -> None:
    lines: list[str] = []
    fenced: set[int] = set()
    for before, fence, inside in blocks:
        lines += [*before, ""]  # a blank line so the fence never underlines a paragraph
        lines.append(fence)
        for line in inside:
            lines.append(line)
            fenced.add(len(lines))  # 1-based number of the line just added
        lines.append(fence.removesuffix("python"))
    reported = {heading.line for heading in headings("\n".join(lines))}
    assert not reported & fenced
