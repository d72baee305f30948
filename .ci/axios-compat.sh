#!/usr/bin/env bash
# Runs the unit tier and the interceptor and hardening integration specs against the oldest supported axios (1.7.x), a middle one
# (1.13.x) and the newest 1.x. Each version is installed into a temporary folder and swapped in
# for node_modules/axios for its run (both lib/ and the specs import 'axios'); the installed one
# is put back whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

versions=("${@:-1.7.9 1.13.6 latest}")
read -r -a versions <<< "${versions[*]}"
suites=(spec/unit spec/integration/interceptor spec/integration/hardening)

work=$(mktemp -d)
mv node_modules/axios "$work/installed-axios"
restore() {
  rm -rf node_modules/axios
  mv "$work/installed-axios" node_modules/axios
  rm -rf "$work"
}
trap restore EXIT

status=0
for version in "${versions[@]}"; do
  prefix="$work/axios-$version"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --prefer-offline --loglevel=error "axios@$version" >/dev/null
  rm -rf node_modules/axios
  cp -R "$prefix/node_modules/axios" node_modules/axios
  actual=$(node -p "require('axios/package.json').version")
  echo "== axios $actual: core and hardening suites"
  if npx mocha --reporter dot "${suites[@]}"; then
    echo "== axios $actual: passed"
  else
    echo "== axios $actual: FAILED"
    status=1
  fi
done
exit "$status"
