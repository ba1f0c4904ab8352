"""Is one value a secret? The built-in rules, asked about a single string.

Other tools ask this of a value they would otherwise print: a default in the code, a
value an environment gives a setting. A value the secret scanner would report is never
shown by them.
"""

from __future__ import annotations

from functools import cache

from gonogo.secrets.detect import Detector
from gonogo.secrets.rules import builtin_rules


@cache
def _detector() -> Detector:
    return Detector(builtin_rules())


def looks_like_secret(value: str | None) -> bool:
    """Whether the built-in rules find a secret in ``value`` (a token, a URL's password)."""
    if not value:
        return False
    data = value.encode("utf-8", errors="replace")
    return bool(_detector().scan(data, "value"))
