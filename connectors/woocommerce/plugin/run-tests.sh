#!/usr/bin/env bash
# The WordPress plugin's checks: `php -l` on every PHP file, then PHPUnit on the pure classes
# (plugin/tests: builder, rules, readme headers, translations). Needs Debian's php-cli, phpunit and
# gettext (bash .ci/install-system-packages.sh). The real-WordPress test: run-wordpress-tests.sh.
set -euo pipefail
cd "$(dirname "$0")"
for tool in php phpunit xgettext msgfmt; do
  command -v "$tool" >/dev/null || { echo "run-tests.sh: $tool is not installed" >&2; exit 2; }
done
status=0
while IFS= read -r -d '' file; do
  php -l "$file" >/dev/null || { echo "php -l failed: $file" >&2; status=1; }
done < <(find . -name '*.php' -print0)
[ "$status" -eq 0 ] || exit "$status"
echo "php -l: all files OK"
phpunit --configuration phpunit.xml
