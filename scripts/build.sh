#!/usr/bin/env bash
# Builds every TypeScript package and marks each package's bin entry executable: tsc writes plain
# files, and npm only sets the bit when the file already existed at `npm install` time (a fresh
# clone installs before it builds), so `npx mseg-dp` would otherwise fail with "permission denied".
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -b packages/dp packages/proto packages/controller packages/agent
node -e '
const { readFileSync, chmodSync, existsSync } = require("node:fs");
for (const pkg of ["dp", "controller", "agent"]) {
  const dir = `packages/${pkg}`;
  const bin = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")).bin ?? {};
  for (const file of Object.values(bin)) if (existsSync(`${dir}/${file}`)) chmodSync(`${dir}/${file}`, 0o755);
}'
