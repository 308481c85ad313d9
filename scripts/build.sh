#!/usr/bin/env bash
# Builds every TypeScript package and makes each package's bin usable: tsc writes plain files, and
# npm only links a workspace bin into node_modules/.bin (and sets its execute bit) when the file
# already existed at `npm install` time. A fresh clone installs before it builds, so without this
# `npx mseg-dp` would fail with "not found" or "permission denied".
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -b packages/dp packages/proto packages/controller packages/agent packages/cli
node -e '
const { readFileSync, chmodSync, existsSync } = require("node:fs");
for (const pkg of ["dp", "controller", "agent", "cli"]) {
  const dir = `packages/${pkg}`;
  const bin = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")).bin ?? {};
  for (const file of Object.values(bin)) if (existsSync(`${dir}/${file}`)) chmodSync(`${dir}/${file}`, 0o755);
}'

# The web UI: typechecked by tsc (no output; Vite strips types without checking them) and bundled
# by Vite into packages/web/dist, which the controller serves at /. Both are skipped when nothing
# the bundle depends on changed since the last one, so test runs and restarts stay fast. The web's
# types of API answers come from the controller's route schemas: a change there re-checks it.
web=packages/web
if [[ ! -f $web/dist/index.html || -n $(find $web/src $web/index.html $web/vite.config.ts $web/tsconfig.json $web/package.json package-lock.json packages/controller/src/api -newer $web/dist/index.html -print -quit) ]]; then
  npx tsc -p $web --noEmit
  (cd $web && npx vite build --logLevel warn)
fi
for bin in mseg-dp mseg-controller mseg-agent mseg; do
  if [[ ! -e node_modules/.bin/$bin ]]; then
    npm rebuild --ignore-scripts >/dev/null
    break
  fi
done
