#!/usr/bin/env bash
# Runs mailoauth's tests on a fresh machine: installs what they need that Go
# does not bring (tmux, for the end-to-end test in a real terminal), then
# runs every Go test. The first build compiles msgraph-sdk-go: about 3.5
# minutes and 4.6 GB of build cache; later runs are quick.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v tmux >/dev/null 2>&1; then
  echo "test.sh: installing tmux (needed by the end-to-end terminal test)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tmux >/dev/null
fi

go test "$@" ./...
