#!/usr/bin/env bash
# Kannel 1.4.5 (Debian package `kannel`: bearerbox and smsbox in /usr/sbin) for the real
# gateway tests and bench/kannel_throughput.py. Idempotent and non-interactive. Debian's own
# kannel service is never started: the tests run their own boxes with their own kannel.conf on
# free loopback ports, and a system bearerbox would only hold 13000/13013 for nothing.
set -euo pipefail

if [ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ]; then
  echo "kannel: already installed ($(dpkg-query -W -f='${Version}' kannel 2>/dev/null || echo '?'))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# policy-rc.d exit 101 = "do not start services" for the package's postinst. Keep an existing
# one (containers often have it); otherwise put one in for the install and take it away after.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  trap '$SUDO rm -f "$POLICY"' EXIT
fi

$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kannel >/dev/null

# and keep it from starting at boot either (SysV script; systemd runs it through the generator)
if command -v update-rc.d >/dev/null 2>&1; then
  $SUDO update-rc.d kannel disable >/dev/null 2>&1 || true
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now kannel >/dev/null 2>&1 || true
fi

test -x /usr/sbin/bearerbox && test -x /usr/sbin/smsbox
echo "kannel: installed $(dpkg-query -W -f='${Version}' kannel)"
