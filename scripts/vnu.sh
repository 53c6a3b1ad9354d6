#!/usr/bin/env bash
# vnu.sh installs the Nu HTML Checker (npm package vnu-jar, a Java program) that
# the browser tests run every page through, into .cache/vnu (git-ignored),
# unless the pinned version is there already. It needs npm, and Java to run the
# checker; .ci/run installs both on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

version=26.9.27 # keep in step with vnuVersion in e2e/htmlcheck_test.go
dir=.cache/vnu
installed=$dir/node_modules/vnu-jar/package.json

if [ -f "$installed" ] && grep -q "\"version\": *\"$version\"" "$installed"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "vnu: npm is not installed (apt-get install npm); the browser tests need the Nu HTML Checker" >&2
  exit 1
fi
echo "vnu: installing vnu-jar@$version into $dir" >&2
# --ignore-scripts: its postinstall would download a Java runtime; the machine's Java runs it.
npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error "vnu-jar@$version" >&2
