"""The secret scanner: gitleaks-format rules, a keyword prefilter, tree and history scans.

``run_scan(ScanRequest(root=...))`` returns a :class:`ScanResult`; ``render`` turns it into
text, JSON, SARIF, Markdown or HTML. No finding, report or baseline ever holds a secret.
"""

from __future__ import annotations

from gonogo.secrets.baseline import Baseline, load_baseline, write_baseline
from gonogo.secrets.model import (
    Finding,
    Notice,
    NoticeKind,
    Rule,
    RuleError,
    RuleSet,
    ScanResult,
    SecretsError,
)
from gonogo.secrets.redact import printable
from gonogo.secrets.report import ScanFormat, render
from gonogo.secrets.rules import builtin_rules, load_rules
from gonogo.secrets.run import ScanRequest, run_scan
from gonogo.secrets.values import looks_like_secret

__all__ = [
    "Baseline",
    "Finding",
    "Notice",
    "NoticeKind",
    "Rule",
    "RuleError",
    "RuleSet",
    "ScanFormat",
    "ScanRequest",
    "ScanResult",
    "SecretsError",
    "builtin_rules",
    "load_baseline",
    "load_rules",
    "looks_like_secret",
    "printable",
    "render",
    "run_scan",
    "write_baseline",
]
