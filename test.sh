#!/usr/bin/env bash
# Sets up everything the tests need on a bare Debian machine (venv, packages, Debian's kcat) and runs them.
# Arguments go to pytest (e.g. ./test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")"
BROOK_TEST_DEPS=1 . scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy  # on src/brook, as [tool.mypy] in pyproject.toml says
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
