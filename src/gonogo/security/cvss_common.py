"""Shared by the CVSS scorers: the error and the vector parser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gonogo.security import SecurityError


class CvssError(SecurityError):
    """A CVSS vector is malformed."""


def parse_metrics(
    vector: str,
    *,
    prefix: str | None,
    allowed: Mapping[str, Sequence[str]],
    required: Sequence[str],
) -> dict[str, str]:
    """``KEY:VALUE`` pairs of a vector, each key known and once, the required ones present."""
    text = vector.strip()
    parts = text.split("/")
    if prefix is not None:
        if not parts or parts[0] != prefix:
            raise CvssError(f"CVSS vector {vector!r} does not start with {prefix}/")
        parts = parts[1:]
    found: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition(":")
        if not sep:
            raise CvssError(f"CVSS vector {vector!r}: {part!r} is not METRIC:VALUE")
        if key not in allowed:
            raise CvssError(f"CVSS vector {vector!r}: unknown metric {key!r}")
        if value not in allowed[key]:
            choices = ", ".join(allowed[key])
            raise CvssError(f"CVSS vector {vector!r}: {key} must be one of {choices}")
        if key in found:
            raise CvssError(f"CVSS vector {vector!r}: {key} appears twice")
        found[key] = value
    missing = [key for key in required if key not in found]
    if missing:
        raise CvssError(f"CVSS vector {vector!r} lacks base metrics {', '.join(missing)}")
    return found
