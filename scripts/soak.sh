#!/usr/bin/env bash
# `npm run soak [-- --minutes N] [--jobs J]`: the stack with the demo and J short-lived containers
# (200 by default) over N minutes (30 by default); figures on stdout, for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=30
jobs=200
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --minutes=*) minutes=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    *) echo "usage: npm run soak [-- --minutes N] [--jobs J]" >&2; exit 2 ;;
  esac
done
[[ $minutes =~ ^[1-9][0-9]*$ ]] || { echo "--minutes: expected a positive integer, got \"$minutes\"" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "--jobs: expected a positive integer, got \"$jobs\"" >&2; exit 2; }
bash scripts/ensure.sh start
bash scripts/build.sh
MSEG_SOAK_MINUTES=$minutes MSEG_SOAK_JOBS=$jobs npx vitest run --config packages/cli/soak/vitest.config.ts
