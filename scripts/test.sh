#!/usr/bin/env bash
# Install the project and its test dependencies into .venv, lint and type-check app/, then run
# the whole test suite. This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# The browser tests drive Debian's Chromium (never a downloaded browser build), with a CJK
# font so that the screenshots show the Chinese text.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  else
    echo "Browser tests need Debian's chromium and a CJK font: sudo apt-get install chromium fonts-wqy-microhei" >&2
  fi
fi
# Lint (ruff: pyflakes, pycodestyle, isort, bugbear, pyupgrade) and type-check (mypy) before any test.
.venv/bin/ruff check app tests scripts bench
.venv/bin/mypy
set +e
# The live-server suite runs once per store backend: embedded in memory, embedded on disk, and a
# real Oxigraph server (started by the tests) behind KG_STORE=sparql:….
KG_TEST_BACKENDS="${KG_TEST_BACKENDS:-memory,disk,sparql}" .venv/bin/python -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no tests: that is a failure of the suite, not a pass.
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
