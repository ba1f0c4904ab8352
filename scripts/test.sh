#!/usr/bin/env bash
# Install everything the test suite needs and run it: ruff, mypy --strict, pytest, and then
# gonogo's own Phase-4 gate on gonogo (dogfooding: `gonogo ci`, see scripts/ci-gates.sh).
# Debian packages (git, openssh-client, postgresql, hyperfine, nginx, prometheus) are
# installed with apt-get when missing; that needs root or sudo. Python packages come from
# the lock file.
#
#   bash scripts/test.sh              the full run: the suite under coverage, writing
#                                     reports/junit.xml and reports/coverage.json, then the gate
#   bash scripts/test.sh ARGS...      pytest ARGS (a subset, -k, -x, ...): no coverage, no gate,
#                                     since the gate judges the whole suite
# Any red step fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # certificates for the in-cluster gateway-api tests
# real nginx and Prometheus (with promtool) for the rollout router and metric-source tests
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 \
  || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: need root or sudo to install: ${missing[*]}; install them and run again" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m pip install --quiet --disable-pip-version-check -c requirements/dev.lock -e '.[dev]'

echo "== ruff" >&2
python3 -m ruff check .
python3 -m ruff format --check .
echo "== mypy --strict" >&2
python3 -m mypy --strict

if [ $# -gt 0 ]; then
  echo "== pytest $*" >&2
  python3 -m pytest -p no:cacheprovider "$@"
  echo "== gonogo ci: skipped, pytest ran with arguments ($*); the gate judges the full suite" >&2
  exit 0
fi

echo "== pytest (under coverage)" >&2
mkdir -p reports
rm -f reports/.coverage reports/junit.xml reports/coverage.json
python3 -m coverage run --data-file=reports/.coverage -m pytest -p no:cacheprovider \
  --junitxml=reports/junit.xml
python3 -m coverage json --data-file=reports/.coverage -o reports/coverage.json
echo "== gonogo ci (gonogo's own Phase-4 gate on gonogo)" >&2
bash scripts/ci-gates.sh --use-reports
