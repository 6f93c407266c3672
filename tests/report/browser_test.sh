#!/usr/bin/env bash
# Profiles tests/report/hostile_names.cpp, writes its HTML report and checks it in headless
# Chromium (browser_check.js): no console error, no network request, every chart drawn, hostile
# names shown as text. Fails, saying why, when chromium or node is missing (scripts/test installs
# them; a test never installs anything).
# usage: browser_test.sh MEMSCOPE_RUN MEMSCOPE_ANALYZE PROGRAM WORK_DIR
# Leaves WORK_DIR/report.html, analysis.json and the screenshot report.png as artifacts.
set -euo pipefail
run=$1 analyze=$2 program=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
if ((${#missing[@]})); then
  echo "report_browser: FAILED: Debian's ${missing[*]} not installed; this test needs a real" \
    "browser (scripts/test installs it before running the tests)" >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"
# The arguments are shown in the report's header: script-closing tags and U+2028 must stay text.
"$run" -q -o "$work/trace" -- "$program" '<img src=x onerror=alert(1)>' \
  '</script><script>alert(2)</script>' $'line\u2028separator'
"$analyze" "$work/trace" --quiet --json "$work/analysis.json" --html "$work/report.html"
timeout 450 node "$here/browser_check.js" --html "$work/report.html" --json "$work/analysis.json" \
  --screenshot "$work/report.png" --profile "$work/chromium-profile"
