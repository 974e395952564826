#!/usr/bin/env bash
# Debian packages the tests use: Kannel (bearerbox + smsbox) for the real gateway round trip,
# PHP and PHPUnit for the WooCommerce plugin, DejaVu fonts for the PDF evidence packs.
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
# DejaVu Sans (Cyrillic) for the PDF evidence packs (relay/adapters/pdf.py)
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
fi
