#!/usr/bin/env bash
# The readiness check on the bundled example project, start to finish:
# collect real evidence, open a release, check (no-go: nobody has signed yet),
# every owner signs, check again (go), write the checklist and the security
# sign-off report, verify the audit trail.
#
# The dependency audit reads OSV advisories offline: set GONOGO_OSV_DB to a
# database you have, or the example downloads one (gonogo deps sync).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gonogo-demo.XXXXXX")"
cp -r "$here/examples/shopapi" "$work/shopapi"
rm -rf "$work/shopapi/.gonogo" "$work/shopapi/reports"
cd "$work/shopapi"

step() { printf '\n== %s\n' "$*"; }

step "collect evidence: the example's own tests and coverage"
bash scripts/collect-evidence.sh

step "the advisory database for the dependency audit (OSV, read offline)"
if [ -z "${GONOGO_OSV_DB:-}" ] && [ -d "$here/../shared/osv/pypi" ]; then
    # the PyPA advisory snapshot this checkout's test suite reads, when it is beside it
    export GONOGO_OSV_DB="$here/../shared/osv/pypi"
fi
bash scripts/advisories.sh

step "open release 1.4.0"
gonogo release create 1.4.0 --notes "orders API: input validation, request ids"

step "operations rotated the staging deploy key for this release: record it"
GONOGO_USER=olga@example.com gonogo security rotated staging-deploy-key --note "new key for 1.4.0"

step "check: criteria are green, but no owner has signed yet"
if gonogo check; then echo "unexpected: go without sign-offs" >&2; exit 1; fi

step "owners approve the policy and sign off their gates"
GONOGO_USER=alice@example.com gonogo policy approve --role engineering
GONOGO_USER=quinn@example.com gonogo policy approve --role qa
GONOGO_USER=sam@example.com gonogo policy approve --role security
GONOGO_USER=olga@example.com gonogo policy approve --role operations
GONOGO_USER=alice@example.com gonogo signoff quality --role engineering --note "tests and coverage reviewed"
GONOGO_USER=quinn@example.com gonogo signoff quality --role qa
GONOGO_USER=sam@example.com gonogo signoff security --role security
GONOGO_USER=olga@example.com gonogo signoff operations --role operations
# the release gate depends on the others: evaluate it again now they are go
gonogo check --gate release >/dev/null || true
GONOGO_USER=alice@example.com gonogo signoff release --role engineering
GONOGO_USER=olga@example.com gonogo signoff release --role operations

step "check again: go"
gonogo check

step "the Phase-1 deliverable: readiness checklist"
gonogo status --format markdown --output readiness.md
echo "wrote $work/shopapi/readiness.md"

step "the Phase-5 deliverable: security sign-off report"
gonogo security report --output security-report.md
echo "wrote $work/shopapi/security-report.md"

step "verify the audit trail"
gonogo audit verify
gonogo audit log --limit 5
