#!/usr/bin/env bash
# Debian packages the tests use: Kannel (bearerbox + smsbox) for the real gateway round trip.
# Idempotent; does not start Debian's own kannel service.
set -euo pipefail
if [ -x .ci/install-kannel.sh ] || [ -f .ci/install-kannel.sh ]; then
  bash .ci/install-kannel.sh
fi
