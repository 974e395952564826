#!/usr/bin/env bash
# Regenerate relay-sms/languages/relay-sms.pot from the PHP sources (xgettext with
# WordPress's translation functions), merge it into the Russian .po and compile the .mo.
# Needs Debian's gettext. tests/I18nTest.php fails when these files are out of date.
set -euo pipefail
cd "$(dirname "$0")/relay-sms"
command -v xgettext >/dev/null || { echo "update-translations.sh: gettext is not installed" >&2; exit 2; }
pot=languages/relay-sms.pot
mkdir -p languages
find . -name '*.php' | LC_ALL=C sort | xgettext --language=PHP --from-code=UTF-8 --files-from=- \
  --output="$pot" --package-name="Relay SMS for WooCommerce" --package-version=1.1.0 \
  --msgid-bugs-address="docs/connectors/woocommerce.md" --add-comments=translators: \
  --sort-by-file --no-wrap \
  --keyword=__ --keyword=_e --keyword=esc_html__ --keyword=esc_html_e --keyword=esc_attr__ \
  --keyword=esc_attr_e --keyword=_x:1,2c --keyword=_ex:1,2c --keyword=esc_html_x:1,2c \
  --keyword=esc_attr_x:1,2c --keyword=_n:1,2 --keyword=_nx:1,2,4c --keyword=_n_noop:1,2
# Plugin header strings a directory translates too
sed -i 's/^"Content-Type: text\/plain; charset=CHARSET\\n"/"Content-Type: text\/plain; charset=UTF-8\\n"/' "$pot"
po=languages/relay-sms-ru_RU.po
if [ -f "$po" ]; then
  msgmerge --quiet --update --backup=none --no-wrap --no-fuzzy-matching "$po" "$pot"
fi
msgfmt --check --output-file=languages/relay-sms-ru_RU.mo "$po"
echo "updated $pot, $po, languages/relay-sms-ru_RU.mo"
