#!/usr/bin/env bash
# Dogfooding: run gonogo's own Phase-4 CI gate (gonogo.toml) on gonogo itself.
#
#   bash scripts/ci-gates.sh [PYTEST ARGS...]   judge the reports scripts/test.sh wrote when
#                                               they are newer than every Python file under
#                                               src/ and tests/; otherwise run the suite under
#                                               coverage first (the arguments go to pytest)
#   bash scripts/ci-gates.sh --use-reports      judge reports/junit.xml and reports/coverage.json
#                                               as they are, never run the suite (scripts/test.sh
#                                               calls it so, right after writing them)
#
# `gonogo ci` also runs ruff and mypy --strict, and writes the CI reports:
#   reports/gonogo-ci.xml    JUnit, one test case per criterion
#   reports/gonogo-ci.sarif  SARIF, the red criteria and the findings behind them
#   reports/gonogo-ci.md     the Markdown summary (also appended to $GITHUB_STEP_SUMMARY)
# Its evaluation is recorded in a store of its own, reports/gonogo-ci.db: never committed
# (reports/ is ignored), so CI, on a clean clone, starts every run with an empty store;
# locally it keeps the runs' history, and its audit trail verifies
# (gonogo --database-url sqlite:///$PWD/reports/gonogo-ci.db audit verify).
# Exit status: gonogo's (0 green, 1 red, 2 a policy or usage error, 3 an internal error).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports

fresh() {
  [ -s reports/junit.xml ] && [ -s reports/coverage.json ] || return 1
  [ -z "$(find src tests -name '*.py' -newer reports/junit.xml -print -quit)" ] || return 1
  [ -z "$(find src tests -name '*.py' -newer reports/coverage.json -print -quit)" ]
}

if [ "${1:-}" = "--use-reports" ]; then
  shift
  if [ $# -gt 0 ]; then
    echo "error: --use-reports takes no other argument (got: $*)" >&2
    exit 2
  fi
  echo "== gonogo ci: judging the reports as they are" >&2
elif fresh; then
  echo "== gonogo ci: using the test reports scripts/test.sh wrote" >&2
else
  echo "== gonogo ci: running the test suite under coverage" >&2
  rm -f reports/.coverage reports/junit.xml reports/coverage.json
  # a failing suite still writes its reports: the gate judges them
  python3 -m coverage run --data-file=reports/.coverage -m pytest -p no:cacheprovider \
    --junitxml=reports/junit.xml "$@" || true
  python3 -m coverage json --data-file=reports/.coverage -o reports/coverage.json
fi

echo "== gonogo ci" >&2
exec python3 -m gonogo --database-url "sqlite:///$PWD/reports/gonogo-ci.db" ci \
  --junit reports/gonogo-ci.xml \
  --sarif reports/gonogo-ci.sarif \
  --summary reports/gonogo-ci.md
