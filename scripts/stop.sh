#!/usr/bin/env bash
# `npm stop`: `mseg down` — stops what `npm start` started and removes every link, filter, table
# and namespace it made. dockerd, the data dir (/var/lib/mseg) and the logs stay.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node packages/cli/dist/main.js down "$@"
