#!/usr/bin/env bash
# Debian packages the tests use: Kannel (bearerbox + smsbox) for the real gateway round trip,
# PHP and PHPUnit for the WooCommerce plugin, Chromium (driven by Playwright, never a
# downloaded browser) and npm (installs axe-core) for the web cabinet's browser tests.
# Idempotent; does not start Debian's own kannel service.
set -euo pipefail
if [ -f .ci/install-kannel.sh ]; then
  bash .ci/install-kannel.sh
fi
# php-cli + phpunit for the WooCommerce plugin's lint and unit tests
if ! command -v php >/dev/null || ! command -v phpunit >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli phpunit >/dev/null
fi
# Debian's Chromium for tests/cabinet/test_browser.py, npm for its axe-core
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v npm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
