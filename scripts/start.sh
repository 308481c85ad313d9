#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs the data plane live in the `mseg`
# network namespace (DESIGN.md: the capture socket lives there so it sees only mirrored frames).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh start
bash scripts/build.sh
if [[ $(id -u) -ne 0 ]]; then
  echo "mseg: the data plane needs root (CAP_NET_RAW, CAP_SYS_ADMIN for the namespace)" >&2
  exit 1
fi
ip netns list | grep -qx 'mseg\( .*\)\?' || ip netns add mseg
socket="${MSEG_DP_SOCKET:-/run/mseg/dp.sock}"
echo "mseg: data plane capturing in netns mseg; control socket $socket (Ctrl-C stops it)"
exec node packages/dp/dist/cli/main.js run --netns mseg --socket "$socket"
