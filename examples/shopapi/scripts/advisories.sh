#!/usr/bin/env bash
# Make the OSV advisory database that the dependency audit reads (criterion
# "security.dependencies", check "vulns") available at .gonogo/osv, the
# [deps] db of gonogo.toml:
#
#   GONOGO_OSV_DB=DIR bash scripts/advisories.sh   use a database you already have
#                                                  (air-gapped CI, a mirror's copy): linked, not copied
#   bash scripts/advisories.sh                     download OSV's PyPI archive (gonogo deps sync);
#                                                  run again to refresh it
#
# The audit never reads a missing or empty database as "no vulnerabilities":
# without one, the criterion is an error, not a pass.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p .gonogo
if [ -n "${GONOGO_OSV_DB:-}" ]; then
    db="$(cd "$GONOGO_OSV_DB" && pwd)"
    if [ -e .gonogo/osv ] && [ ! -L .gonogo/osv ]; then
        echo "advisories: .gonogo/osv already holds a database; remove it to link $db" >&2
        exit 1
    fi
    ln -sfn "$db" .gonogo/osv
    echo "advisories: .gonogo/osv -> $db"
else
    env -u GONOGO_OSV_DB gonogo deps sync
fi
