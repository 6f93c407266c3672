#!/usr/bin/env bash
# Builds the HTML report page: installs the npm packages pinned in package-lock.json (npm ci;
# from the npm cache when it has them: uPlot, and for the build rollup and eslint), bundles the
# ES modules of report/src with rollup and inlines the bundle and uPlot into one self-contained
# page, DIR/dist/report_template.html (bundle.js). With --cpp FILE it also writes the C++ source
# that compiles the page into memscope-analyze (report/CMakeLists.txt calls it that way).
# lint.sh then runs the eslint installed here.
# usage: report/build.sh [--out DIR (default: report/)] [--cpp FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here
cpp=""
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --cpp) cpp=$2; shift 2 ;;
    *) echo "usage: report/build.sh [--out DIR] [--cpp FILE]" >&2; exit 1 ;;
  esac
done

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "report/build.sh: node and npm are needed to build the HTML report; scripts/build" \
    "installs them (Debian's nodejs and npm, listed in scripts/lib/packages.sh)" >&2
  exit 1
fi

# Each build directory installs into its own folder, so that builds in several directories at
# once do not replace each other's node_modules; the default is report/node_modules.
mkdir -p "$out"
deps=$(cd "$out" && pwd)
if [[ $deps != "$here" ]]; then
  deps=$deps/npm
  mkdir -p "$deps"
  cmp -s "$here/package.json" "$deps/package.json" || cp "$here/package.json" "$deps/package.json"
  cmp -s "$here/package-lock.json" "$deps/package-lock.json" || cp "$here/package-lock.json" "$deps/package-lock.json"
fi
stamp=$deps/node_modules/.memscope-lock
if ! cmp -s "$here/package-lock.json" "$stamp"; then
  (cd "$deps" && npm ci --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$here/package-lock.json" "$stamp"
fi

node "$here/bundle.js" --modules "$deps/node_modules" --out "$out/dist/report_template.html" ${cpp:+--cpp "$cpp"}
