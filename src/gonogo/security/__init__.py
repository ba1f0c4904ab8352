"""Security checks of a release: dependency vulnerabilities (OSV), CVSS scoring, the SBOM.

* :mod:`gonogo.security.osv` loads an offline OSV database (JSON, YAML or the
  ecosystem ``all.zip`` archives) and indexes it by package.
* :mod:`gonogo.security.match` decides whether a version is affected (PEP 440 for
  PyPI, semver for npm) and which release fixes it.
* :mod:`gonogo.security.cvss` scores CVSS v2, v3.0, v3.1 and v4.0 vectors.
* :mod:`gonogo.security.audit` is the gate: severity threshold, unscored
  advisories, exceptions with approver and expiry.
* :mod:`gonogo.security.sbom` writes CycloneDX 1.6; :mod:`gonogo.security.sync`
  downloads the OSV archives.
"""

from __future__ import annotations

from gonogo.errors import GonogoError


class SecurityError(GonogoError):
    """Base of the security package's expected errors."""


class AdvisoryDatabaseError(SecurityError):
    """The advisory database is missing, empty or unreadable."""
