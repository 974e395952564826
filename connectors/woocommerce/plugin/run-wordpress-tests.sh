#!/usr/bin/env bash
# The plugin inside a real WordPress: Debian's `wordpress` package (copied to a throw-away
# site), MariaDB on 127.0.0.1:3306, PHP's built-in web server, a local stand-in relay
# (tests/wordpress/relay_standin.py, loading events with the relay's own wire schema), then
# PHPUnit (tests/wordpress) bootstrapping WordPress through wp-load.php. WooCommerce and its
# Action Scheduler are stood in by a must-use plugin (tests/wordpress/mu-plugin); in
# production they come with WooCommerce. Any PHP notice, warning or deprecation fails the
# run, in the tests and in every page the built-in server rendered. Last, a headless
# Chromium screenshot of the settings page: artifacts/screenshots/relay-sms-settings.png.
#
# Needs (installed by .ci/install-system-packages.sh): php-cli php-mysql php-curl php-xml
# php-mbstring phpunit wordpress mariadb-server chromium, and the repository's .venv (for the
# relay's wire schema). A missing piece fails the run; nothing is skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
started=$(date +%s)

fail() { echo "run-wordpress-tests.sh: $*" >&2; exit 1; }
for tool in php phpunit mysql curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (bash .ci/install-system-packages.sh)"
done
[ -f /usr/share/wordpress/wp-settings.php ] || fail "Debian's wordpress package is not installed"
php -r 'exit(extension_loaded("mysqli") ? 0 : 1);' || fail "php-mysql is not installed"
php -r 'exit(extension_loaded("curl") ? 0 : 1);' || fail "php-curl is not installed"
chromium_bin=$(command -v chromium || true)
[ -n "$chromium_bin" ] || fail "chromium is not installed"
python="${RELAY_PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || fail "no $python: create the venv first (bash .ci/test.sh)"
"$python" -c "import sys; sys.path.insert(0, '$repo'); import shared.events" \
  || fail "$python cannot load the relay's wire schema (shared.events)"

# MariaDB: start it when it is installed but not answering.
db_ready() { mysql -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1; }
if ! db_ready; then
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || fail "mariadb-server is not installed"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  (service mariadb start || service mysql start) >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do db_ready && break; sleep 1; done
  if ! db_ready; then
    # no init system: run the server directly
    (mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1 &)
    for _ in $(seq 1 30); do db_ready && break; sleep 1; done
  fi
  db_ready || fail "MariaDB does not answer on 127.0.0.1:3306 as root without a password"
fi

work=$(mktemp -d /tmp/relay-sms-wp.XXXXXX)
db="relay_sms_wp_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true
  [ -n "${KEEP_WP_TEST_SITE:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wp_port=$(free_port)
relay_port=$(free_port)

# The site: Debian's WordPress copied, our wp-config.php, the plugin as uploaded, the harness.
cp -a /usr/share/wordpress "$work/wordpress"
site="$work/wordpress"
rm -f "$site/.htaccess"
mkdir -p "$site/wp-content/mu-plugins" "$site/wp-content/uploads"
cp -a "$here/relay-sms" "$site/wp-content/plugins/relay-sms"
cp "$here/tests/wordpress/mu-plugin/relay-sms-test-harness.php" "$site/wp-content/mu-plugins/"
mysql -h 127.0.0.1 -u root -e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
cat > "$site/wp-config.php" <<PHP
<?php
define( 'DB_NAME', '$db' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as \$relay_sms_key ) {
	define( \$relay_sms_key, 'relay-sms-test-' . \$relay_sms_key );
}
\$table_prefix = 'wp_';
\$GLOBALS['table_prefix'] = 'wp_';
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '$work/debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'FS_METHOD', 'direct' );
define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
PHP

export RELAY_SMS_WP_ROOT="$site" RELAY_SMS_WP_URL="http://127.0.0.1:$wp_port" \
  RELAY_SMS_RELAY_URL="http://127.0.0.1:$relay_port" RELAY_SMS_WORK="$work" \
  RELAY_SMS_REPO="$repo"

# Install WordPress (admin + a shop manager), from PHP.
php "$here/tests/wordpress/install.php"

# The stand-in relay and the site's web server.
"$python" "$here/tests/wordpress/relay_standin.py" "$relay_port" "$repo" > "$work/relay.log" 2>&1 &
pids+=($!)
php -d display_errors=0 -d log_errors=1 -d error_log="$work/php-server-errors.log" \
  -S "127.0.0.1:$wp_port" -t "$site" > "$work/php-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$relay_port/_received" >/dev/null 2>&1 \
    && curl -s -o /dev/null "http://127.0.0.1:$wp_port/wp-admin/admin-ajax.php" && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$relay_port/_received" >/dev/null || { cat "$work/relay.log" >&2; fail "the stand-in relay did not start"; }
[ "$(curl -s "http://127.0.0.1:$wp_port/wp-admin/admin-ajax.php")" = "0" ] || fail "PHP's built-in server does not run WordPress"

# The tests (PHPUnit turns every notice, warning and deprecation into a failure).
status=0
phpunit --configuration "$here/tests/wordpress/phpunit.xml" --log-junit "$work/junit.xml" || status=$?
"$python" - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).iter("testcase"):
    print(f"  {float(case.get('time')):7.2f}s  {case.get('name')}")
PY
[ "$status" -eq 0 ] || fail "PHPUnit failed (exit $status)"

# Nothing may have been logged by WordPress or PHP while serving pages either — except the
# one known incompatibility of Debian's WordPress 6.1 with PHP 8.2: its bundled Requests 1.x
# classes (wp-includes/Requests/) lack #[ReturnTypeWillChange], which PHP reports once per
# request that loads them (any HTTP call). Everything else fails the run.
known='PHP Deprecated:  Return type of Requests_[A-Za-z_]+::[A-Za-z]+\(.*\) should either be compatible with .* in .*/wp-includes/Requests/'
for log in "$work/debug.log" "$work/php-server-errors.log"; do
  if [ -s "$log" ] && grep -Ev "$known" "$log" | grep -q .; then
    grep -Ev "$known" "$log" >&2
    fail "PHP logged notices, warnings or errors: $log"
  fi
done

# The screenshot of the settings page (the HTML the logged-in test fetched, shown by Chromium
# against the running site for its styles).
shots="$repo/artifacts/screenshots"
mkdir -p "$shots"
[ -s "$work/settings-page.html" ] || fail "the tests did not save the settings page"
timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --screenshot="$shots/relay-sms-settings.png" --window-size=1280,1600 \
  "file://$work/settings-page.html" >/dev/null 2>&1 || fail "chromium failed to take the screenshot"
[ -s "$shots/relay-sms-settings.png" ] || fail "no screenshot was written"
echo "screenshot: artifacts/screenshots/relay-sms-settings.png"
echo "real-WordPress tests done in $(( $(date +%s) - started ))s"
