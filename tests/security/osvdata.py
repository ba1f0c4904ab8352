"""The shared OSV snapshot and small databases built from it for the security tests.

The PYSEC advisories under ``../shared/osv/pypi`` come from the Python Packaging
Authority's advisory database (github.com/pypa/advisory-database, CC-BY 4.0;
its licence is ``../shared/osv/pypi/LICENSE``). Tests read them in place or copy
a handful into a temporary folder, with that licence beside them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO.parent / "shared" / "osv" / "pypi"
VULNS = SNAPSHOT / "vulns"

#: packages whose real advisories the tests rely on (see each test for the versions)
PACKAGES = ("flask", "urllib3", "idna", "py", "gratient", "werkzeug", "jinja2")


def small_db(target: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    """Copy the advisories of ``packages`` (and the CC-BY licence) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in packages:
        shutil.copytree(VULNS / name, target / "vulns" / name)
    shutil.copy(SNAPSHOT / "LICENSE", target / "LICENSE")
    return target


def npm_advisory(
    ident: str,
    package: str,
    events: list[dict[str, str]],
    *,
    aliases: tuple[str, ...] = (),
    vector: str | None = None,
    versions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An OSV record for an npm package with a SEMVER range (written by the tests)."""
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": "2024-05-01T00:00:00Z",
        "aliases": list(aliases),
        "summary": f"test advisory for {package}",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": package},
                "ranges": [{"type": "SEMVER", "events": events}],
                "versions": list(versions),
            }
        ],
    }
    if vector:
        record["severity"] = [
            {"type": "CVSS_V4" if vector.startswith("CVSS:4") else "CVSS_V3", "score": vector}
        ]
    return record


def write_json(folder: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as ``folder/<id>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['id']}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


#: npm advisories the tests serve and match (ids are made up; the shapes are OSV's)
NPM_RECORDS = [
    npm_advisory(
        "GHSA-test-0001-lodash",
        "lodash",
        [{"introduced": "0"}, {"fixed": "4.17.21"}],
        aliases=("CVE-2021-23337",),
        vector="CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
    ),
    npm_advisory(
        "GHSA-test-0002-semver",
        "semver",
        [{"introduced": "7.0.0-rc.1"}, {"fixed": "7.5.2"}],
        vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
    ),
    npm_advisory(
        "GHSA-test-0003-types",
        "@types/node",
        [{"introduced": "1.0.0"}, {"last_affected": "1.2.0"}],
    ),
]
