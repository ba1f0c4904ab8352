#!/usr/bin/env python3
"""Security check: no debug switches, debugger hooks or hard-coded secrets in shopapi.

Scans every ``*.py`` file under the given directories (default: ``shopapi/``
next to this script's parent) and prints one line per finding::

    shopapi/app.py:12: debug-flag: app.run(debug=True)

Secret values are never printed: quoted values are masked and keys are cut
to their first four characters. Exit codes: 0 clean, 1 findings, 2 usage
error (a path that is not a directory).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("debug-flag", re.compile(r"\bdebug\s*=\s*True\b", re.IGNORECASE)),
    ("debugger", re.compile(r"\bbreakpoint\(\)|\bpdb\.set_trace\(|^\s*import\s+i?pdb\b")),
    (
        "hardcoded-secret",
        re.compile(
            r"(?i)\b\w*(?:password|passwd|secret|api_?key|access_?key|token)\w*\s*[:=]\s*"
            r"[rbuf]?([\"'])[^\"'\s]{6,}\1"
        ),
    ),
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
)
MASKED_RULES = {"hardcoded-secret", "private-key", "aws-access-key"}


def redact(rule: str, text: str) -> str:
    """A preview of a finding that never shows a secret value."""
    if rule == "hardcoded-secret":
        return re.sub(r"([\"'])[^\"']*\1", r"\1***\1", text)
    if rule in MASKED_RULES:
        return text[:4] + "***"
    return text.strip()


def scan_file(path: Path, base: Path) -> list[str]:
    """The findings in one file, as ``path:line: rule: preview`` strings."""
    findings = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in RULES:
            match = pattern.search(line)
            if match is not None:
                shown = redact(rule, match.group(0) if rule in MASKED_RULES else line)
                findings.append(f"{path.relative_to(base)}:{number}: {rule}: {shown}")
    return findings


def main(argv: list[str]) -> int:
    """Scan the directories in ``argv`` (or shopapi/) and report."""
    targets = [Path(arg) for arg in argv] or [ROOT / "shopapi"]
    findings: list[str] = []
    scanned = 0
    for target in targets:
        if not target.is_dir():
            print(f"check_no_debug: not a directory: {target}", file=sys.stderr)
            return 2
        base = target.resolve().parent
        for path in sorted(target.resolve().rglob("*.py")):
            scanned += 1
            findings.extend(scan_file(path, base))
    for finding in findings:
        print(finding)
    print(f"check_no_debug: {scanned} files scanned, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
