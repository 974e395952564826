#!/usr/bin/env bash
# Refresh requirements.lock on purpose: the newest versions pyproject.toml allows, for every
# platform and Python 3.11+. Run it, then run .ci/newest.sh's checks before committing the lock
# (docs/development.md). Never run by the install or test commands.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
[ -x "$uv" ] || uv=uv
"$uv" pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
  --custom-compile-command "bash .ci/lock.sh" -o requirements.lock "$@"
