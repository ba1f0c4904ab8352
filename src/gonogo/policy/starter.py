"""The starter policy ``gonogo init`` writes."""

from __future__ import annotations

STARTER = """\
# gonogo release policy: what "production ready" means for {name}.
# Every key is described in gonogo's docs/policy.md.
version = 1

[project]
name = "{name}"

# owner role -> the people who may sign for it
[owners]
engineering = ["{identity}"]
qa = ["{identity}"]

[[gates]]
id = "quality"
title = "Quality"
phase = 4
owners = ["engineering", "qa"]

[[gates.criteria]]
id = "tests"
check = "junit"
title = "The test suite passes"
params = {{ path = "reports/junit.xml", min_tests = 1 }}

[[gates.criteria]]
id = "coverage"
check = "coverage"
title = "Coverage stays at 80% or more"
params = {{ path = "reports/coverage.json" }}
threshold = {{ min = 80 }}

[[gates]]
id = "operations"
title = "Operations"
phase = 6
owners = ["engineering"]

[[gates.criteria]]
id = "runbook"
check = "file"
title = "The runbook covers deploy and rollback"
params = {{ path = "RUNBOOK.md", sections = ["Deploy", "Rollback"] }}
"""


def _clean(text: str) -> str:
    # inside a one-line TOML string (and a comment): no quotes, backslashes, line breaks,
    # control characters or undecodable bytes from a folder name
    return "".join(ch for ch in text if ch not in '"\\' and ch.isprintable()).strip()


def starter(name: str, identity: str) -> str:
    """The starter policy text for a project."""
    safe_name = _clean(name) or "project"
    safe_identity = _clean(identity) or "owner@example.com"
    return STARTER.format(name=safe_name, identity=safe_identity)
