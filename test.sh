#!/usr/bin/env bash
# Runs mailoauth's tests on a fresh machine: installs what they need that Go
# does not bring (tmux, for the end-to-end test in a real terminal; Debian's
# Chromium, for the settings sheet's layout test in a real browser), then
# runs every Go test. The browser test fails without Chromium unless
# MAILOAUTH_SKIP_BROWSER=1 is set on purpose.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ "${MAILOAUTH_SKIP_BROWSER:-}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} (tmux: the terminal test; chromium: the HTML sheet test)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

go test "$@" ./...
