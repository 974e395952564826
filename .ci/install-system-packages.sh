#!/usr/bin/env bash
# Debian packages the tests use: Kannel (bearerbox + smsbox) for the real gateway round trip,
# PHP, PHPUnit, WordPress, MariaDB and Chromium for the WooCommerce plugin; Chromium (driven by
# Playwright, never a downloaded browser) and npm (installs axe-core) for the web cabinet's
# browser tests; DejaVu fonts for the PDF evidence packs.
# Idempotent; does not start Debian's own kannel service.
set -euo pipefail
if [ -f .ci/install-kannel.sh ]; then
  bash .ci/install-kannel.sh
fi
# The WooCommerce plugin: php-cli + phpunit (lint, unit tests); gettext (its .pot/.po/.mo
# check); for the real-WordPress test Debian's wordpress with php-mysql, php-curl, php-xml,
# php-mbstring, MariaDB and Chromium (screenshot). Debian's wordpress pulls in apache2: it is
# installed with a policy-rc.d that forbids starting services, so apache never starts (the
# test serves WordPress with PHP's built-in server).
woo_packages=(php-cli phpunit gettext php-mysql php-curl php-xml php-mbstring wordpress mariadb-server mariadb-client chromium)
missing=()
for pkg in "${woo_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi; exit 1; }
  if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi
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
# DejaVu Sans (Cyrillic) for the PDF evidence packs (relay/adapters/pdf.py)
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
fi
# The many-hosts tests (tests/scale): iproute2 for network namespaces and veth pairs,
# redis-server (also run as a sentinel) and PostgreSQL's initdb/pg_ctl for servers of their own
scale_packages=(iproute2 redis-server postgresql)
missing=()
for pkg in "${scale_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
