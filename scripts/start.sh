#!/usr/bin/env bash
# `npm start` on a fresh Debian 12 as root: installs what is missing, starts dockerd when no
# engine answers, builds, and runs `mseg up` (controller, agent and data plane under mseg's
# supervisor), which prints the UI address and the admin login. `npm stop` undoes it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "mseg: npm start needs root (network namespaces, tc, nftables, the Docker socket)" >&2
  exit 1
fi
bash scripts/ensure.sh start
if ! docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  echo "mseg: starting dockerd"
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker
  else
    # No systemd (containers, CI): dockerd in its own session, logging beside mseg's logs.
    mkdir -p /var/log/mseg
    setsid dockerd >>/var/log/mseg/dockerd.log 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 60); do
    docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 && break
    sleep 1
  done
  docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 || { echo "mseg: dockerd did not start; see /var/log/mseg/dockerd.log" >&2; exit 1; }
fi
bash scripts/build.sh
exec node packages/cli/dist/main.js up "$@"
