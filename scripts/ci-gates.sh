#!/usr/bin/env bash
# Dogfooding: run gonogo's own Phase-4 CI gate (gonogo.toml) on gonogo itself.
#
# The gate reads reports/junit.xml and reports/coverage.json. When scripts/test.sh
# already wrote both, and no Python file under src/ or tests/ changed since, they
# are used as they are; otherwise this script runs the suite under coverage first
# (any arguments go to pytest). It then runs `gonogo ci`, which also runs ruff
# and mypy --strict, and writes the CI reports:
#   reports/gonogo-ci.xml    JUnit, one test case per criterion
#   reports/gonogo-ci.sarif  SARIF, the red criteria and the findings behind them
#   reports/gonogo-ci.md     the Markdown summary (also appended to $GITHUB_STEP_SUMMARY)
# Exit status: gonogo's (0 green, 1 red, 2 a policy or usage error).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports

fresh() {
  [ -s reports/junit.xml ] && [ -s reports/coverage.json ] || return 1
  [ -z "$(find src tests -name '*.py' -newer reports/junit.xml -print -quit)" ] || return 1
  [ -z "$(find src tests -name '*.py' -newer reports/coverage.json -print -quit)" ]
}

if fresh; then
  echo "== gonogo ci: using the test reports scripts/test.sh wrote" >&2
else
  echo "== gonogo ci: running the test suite under coverage" >&2
  rm -f .coverage reports/junit.xml reports/coverage.json
  # a failing suite still writes its reports: the gate judges them
  python3 -m coverage run -m pytest -p no:cacheprovider --junitxml=reports/junit.xml "$@" || true
  python3 -m coverage json -o reports/coverage.json
fi

echo "== gonogo ci" >&2
exec python3 -m gonogo ci \
  --junit reports/gonogo-ci.xml \
  --sarif reports/gonogo-ci.sarif \
  --summary reports/gonogo-ci.md
