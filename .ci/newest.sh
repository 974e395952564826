#!/usr/bin/env bash
# The "newest allowed versions" job (weekly, and before refreshing the lock): install what
# pyproject.toml allows today — ignoring requirements.lock — into a brand-new venv with pip's
# cache disabled, then run the suite and the queue smoke benchmarks on it. Green means the lock
# may be refreshed with .ci/lock.sh; red names the release that broke the relay.
# Needs PostgreSQL and Redis on 127.0.0.1 for the benchmarks (.ci/services.sh starts them).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d -t relay-newest.XXXXXX)/venv
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m venv "$venv"
"$venv/bin/pip" install -q -e '.[dev]'
echo "== newest allowed versions"
"$venv/bin/pip" list --format=freeze | grep -iE '^(redis|rq|flask|sqlalchemy|psycopg|marshmallow|sentry-sdk)=='
echo "== differences from requirements.lock"
"$venv/bin/pip" list --format=freeze | sort > "$venv/../now.txt"
grep -E '^[A-Za-z0-9_.-]+==' requirements.lock | sed 's/ *;.*//' | sort > "$venv/../lock.txt"
diff <(tr 'A-Z_' 'a-z-' < "$venv/../lock.txt") <(tr 'A-Z_' 'a-z-' < "$venv/../now.txt") | grep '^[<>]' || echo "(none)"
echo "== suite"
"$venv/bin/python" -m pytest -q -p no:cacheprovider
bash .ci/services.sh
echo "== queue smoke: dispatch ratio and an idle worker"
"$venv/bin/python" bench/dispatch_sandbox.py --messages 4000 --min-ratio 3
"$venv/bin/python" bench/idle_pickup.py --idle 20 --trials 1
