#!/usr/bin/env bash
# Runs eslint (pinned in package-lock.json, installed by build.sh's npm ci) over the report's
# sources with eslint.config.js; any warning fails. CTest's report_lint calls it with the build
# directory's npm folder; it installs nothing.
# usage: report/lint.sh [NPM_DIR (default: report/, where build.sh alone installs)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deps=$(cd "${1:-$here}" && pwd)
eslint=$deps/node_modules/eslint/bin/eslint.js
if [[ ! -f $eslint ]]; then
  echo "report/lint.sh: FAILED: no eslint in $deps/node_modules; build the report first" \
    "(cmake --build BUILD --target memscope_html, or report/build.sh)" >&2
  exit 1
fi
# eslint resolves the config's imports from the config file's folder, and with --config it takes
# file patterns relative to the working directory: the config goes next to the packages, the
# run starts in report/.
config=$here/eslint.config.js
if [[ $deps != "$here" ]]; then
  cp "$here/eslint.config.js" "$deps/eslint.config.js"
  config=$deps/eslint.config.js
fi
cd "$here"
node "$eslint" --config "$config" --max-warnings 0 src bundle.js eslint.config.js
echo "report/lint.sh: eslint found nothing in report/src, bundle.js, eslint.config.js"
