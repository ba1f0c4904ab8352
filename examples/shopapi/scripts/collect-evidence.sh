#!/usr/bin/env bash
# Produce the CI artifacts that gonogo's quality gate reads:
#   reports/junit.xml      test results          (check "junit")
#   reports/coverage.json  coverage per file     (check "coverage")
#   reports/coverage.xml   the same, Cobertura   (for CI dashboards)
# The reports are written even when tests fail, so the failure is evidence
# too; the script still exits non-zero in that case.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p reports
# Stale evidence must never survive a run that fails half-way.
rm -f .coverage reports/junit.xml reports/coverage.json reports/coverage.xml

status=0
python -m coverage run --branch --source=shopapi -m pytest -q --junitxml=reports/junit.xml tests \
    || status=$?
python -m coverage json -o reports/coverage.json
python -m coverage xml -o reports/coverage.xml
python -m coverage report --skip-covered
exit "$status"
