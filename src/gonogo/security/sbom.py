"""A CycloneDX 1.6 SBOM (JSON) of the audited dependencies, with their vulnerabilities.

Written with cyclonedx-python-lib (``pip install 'gonogo[sbom]'``), imported
lazily. Every component carries a package URL. Each vulnerability lists the
components it affects, its CVSS rating and the fix; when a policy exception
names it, its ``analysis`` carries the exception: state ``in_triage`` (a
time-boxed acceptance is a decision pending the fix), the reason, approver and
expiry in ``detail``, and the same as ``gonogo:exception:*`` properties.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gonogo import __version__
from gonogo.evidence.lockfiles import Dependency, Ecosystem
from gonogo.security import SecurityError
from gonogo.security.audit import AuditReport, Finding

_EXTRA_HINT = "pip install 'gonogo[sbom]'"
_PURL_TYPES = {Ecosystem.PYPI: "pypi", Ecosystem.NPM: "npm"}
_METHODS = {
    "CVSS:4.0": "CVSS_V4",
    "CVSS:3.1": "CVSS_V3_1",
    "CVSS:3.0": "CVSS_V3",
    "CVSS:2.0": "CVSS_V2",
}


class SbomError(SecurityError):
    """The SBOM cannot be written (the extra is missing, or the library refused it)."""


def _lib() -> Any:
    try:
        import cyclonedx.model.vulnerability as vuln  # noqa: PLC0415 - optional extra
        from cyclonedx.model import Property  # noqa: PLC0415 - optional extra
        from cyclonedx.model.bom import Bom  # noqa: PLC0415 - optional extra
        from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415
        from cyclonedx.model.impact_analysis import (  # noqa: PLC0415 - optional extra
            ImpactAnalysisAffectedStatus,
            ImpactAnalysisResponse,
            ImpactAnalysisState,
        )
        from cyclonedx.output.json import JsonV1Dot6  # noqa: PLC0415 - optional extra
        from packageurl import PackageURL  # noqa: PLC0415 - installed with cyclonedx
    except ImportError as exc:
        raise SbomError(
            f"writing an SBOM needs cyclonedx-python-lib ({exc.name} is missing)",
            hint=_EXTRA_HINT,
        ) from None
    return {
        "vuln": vuln,
        "Property": Property,
        "Bom": Bom,
        "Component": Component,
        "ComponentType": ComponentType,
        "Affected": ImpactAnalysisAffectedStatus,
        "Response": ImpactAnalysisResponse,
        "State": ImpactAnalysisState,
        "Json": JsonV1Dot6,
        "PackageURL": PackageURL,
    }


def purl(dep: Dependency) -> str:
    """The package URL of a dependency (``pkg:pypi/flask@2.2.2``, ``pkg:npm/%40types/node@…``)."""
    from packageurl import PackageURL  # noqa: PLC0415 - shipped with the sbom extra

    namespace = None
    name = dep.name
    if dep.ecosystem is Ecosystem.NPM and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    return str(
        PackageURL(
            type=_PURL_TYPES[dep.ecosystem], namespace=namespace, name=name, version=dep.version
        )
    )


def build_sbom(
    dependencies: Iterable[Dependency],
    report: AuditReport | None,
    *,
    project: str,
    version: str | None = None,
    now: datetime | None = None,
) -> str:
    """The CycloneDX 1.6 JSON document; ``report`` adds the vulnerabilities section."""
    lib = _lib()
    try:
        return _build(lib, list(dependencies), report, project, version, now)
    except ImportError as exc:
        raise SbomError(f"cyclonedx-python-lib is incomplete: {exc}", hint=_EXTRA_HINT) from None


def _build(
    lib: Any,
    dependencies: list[Dependency],
    report: AuditReport | None,
    project: str,
    version: str | None,
    now: datetime | None,
) -> str:
    bom = lib["Bom"]()
    bom.metadata.timestamp = now or datetime.now(UTC)
    root = lib["Component"](
        name=project,
        version=version,
        type=lib["ComponentType"].APPLICATION,
        bom_ref=f"project:{project}",
    )
    bom.metadata.component = root
    bom.metadata.tools.components.add(
        lib["Component"](name="gonogo", version=__version__, type=lib["ComponentType"].APPLICATION)
    )
    components: dict[str, Any] = {}
    for dep in dependencies:
        ref = purl(dep)
        if ref in components:
            continue
        components[ref] = lib["Component"](
            name=dep.name,
            version=dep.version,
            type=lib["ComponentType"].LIBRARY,
            purl=lib["PackageURL"].from_string(ref),
            bom_ref=ref,
            properties=[lib["Property"](name="gonogo:source", value=dep.location)],
        )
        bom.components.add(components[ref])
    bom.register_dependency(root, components.values())
    if report is not None:
        for vulnerability in _vulnerabilities(lib, report, components):
            bom.vulnerabilities.add(vulnerability)
    return str(lib["Json"](bom).output_as_string(indent=2))


def _vulnerabilities(lib: Any, report: AuditReport, components: dict[str, Any]) -> list[Any]:
    grouped: dict[str, list[Finding]] = {}
    for finding in report.findings:
        grouped.setdefault(finding.advisory.id, []).append(finding)
    vuln = lib["vuln"]
    out = []
    for advisory_id, findings in grouped.items():
        first = findings[0]
        advisory = first.advisory
        osv = vuln.VulnerabilitySource(
            name="OSV", url=_url(f"https://osv.dev/vulnerability/{advisory_id}")
        )
        references = [
            vuln.VulnerabilityReference(
                id=alias, source=vuln.VulnerabilitySource(name=_source_of(alias))
            )
            for alias in advisory.aliases
        ]
        affects = []
        for finding in findings:
            ref = purl(finding.dependency)
            if ref not in components:
                continue
            affects.append(
                vuln.BomTarget(
                    ref=ref,
                    versions=[
                        vuln.BomTargetVersionRange(
                            version=finding.dependency.version, status=lib["Affected"].AFFECTED
                        )
                    ],
                )
            )
        fixes = sorted({f.fixed_in for f in findings if f.fixed_in})
        out.append(
            vuln.Vulnerability(
                bom_ref=f"vulnerability:{advisory_id}",
                id=advisory_id,
                source=osv,
                references=references,
                ratings=_ratings(vuln, first),
                description=advisory.summary or None,
                recommendation=("Upgrade to " + " / ".join(fixes)) if fixes else None,
                affects=affects,
                analysis=_analysis(lib, first),
                properties=_properties(lib, first),
            )
        )
    return out


def _url(text: str) -> Any:
    from cyclonedx.model import XsUri  # noqa: PLC0415 - optional extra

    return XsUri(text)


def _source_of(alias: str) -> str:
    prefix = alias.split("-", 1)[0].upper()
    return {"CVE": "NVD", "GHSA": "GitHub Advisories", "PYSEC": "PyPA"}.get(prefix, "OSV")


def _ratings(vuln: Any, finding: Finding) -> list[Any]:
    rating = finding.rating
    severity = vuln.VulnerabilitySeverity(str(rating.severity))
    if rating.score is None:
        return [vuln.VulnerabilityRating(severity=severity)]
    method = getattr(vuln.VulnerabilityScoreSource, _METHODS.get(rating.method, "OTHER"))
    return [
        vuln.VulnerabilityRating(
            score=Decimal(f"{rating.score:.1f}"),
            severity=severity,
            method=method,
            vector=rating.vector,
        )
    ]


def _analysis(lib: Any, finding: Finding) -> Any:
    rule = finding.exception
    if rule is None:
        return None
    state = "in force" if finding.excepted else "EXPIRED"
    detail = (
        f"Exception {state}: approved by {rule.approver}, expires {rule.expires.isoformat()}. "
        f"Reason: {rule.reason}"
    )
    response = lib["Response"].UPDATE if finding.fixed_in else lib["Response"].WILL_NOT_FIX
    return lib["vuln"].VulnerabilityAnalysis(
        state=lib["State"].IN_TRIAGE, responses=[response], detail=detail
    )


def _properties(lib: Any, finding: Finding) -> list[Any]:
    rule = finding.exception
    if rule is None:
        return []
    prop = lib["Property"]
    return [
        prop(name="gonogo:exception:id", value=rule.id),
        prop(name="gonogo:exception:approver", value=rule.approver),
        prop(name="gonogo:exception:expires", value=rule.expires.isoformat()),
        prop(name="gonogo:exception:state", value="active" if finding.excepted else "expired"),
        prop(name="gonogo:exception:reason", value=rule.reason),
    ]
