#!/usr/bin/env bash
# Profiles tests/report/hostile_names.cpp, writes its HTML report and checks it in headless
# Chromium (browser_check.js): no console error, no network request, every chart drawn, hostile
# names shown as text. Then the same for a shell that execs python3 (two images of one pid,
# each its own entry in the process picker with its own sites: --mode exec). Fails, saying why,
# when chromium, node or python3 is missing (scripts/test installs them; a test never installs
# anything).
# usage: browser_test.sh MEMSCOPE_RUN MEMSCOPE_ANALYZE PROGRAM WORK_DIR
# Leaves WORK_DIR/report.html, analysis.json, the screenshot report.png and the same as
# exec-report.html, exec-analysis.json, exec-report.png and, for the same program traced with
# --sample-bytes (--mode sampled), sampled-report.html, sampled-analysis.json, sampled-report.png.
set -euo pipefail
run=$1 analyze=$2 program=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v python3 >/dev/null || missing+=(python3)
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

# An exec'd image keeps its pid: bash (pid P) becomes python3 (pid P). The native run's output
# is the oracle that the traced one behaved the same. Debian's python3 when there is one (a
# pyenv shim on PATH would exec a few dozen images more).
py=$(command -v /usr/bin/python3 || command -v python3)
script='x=$(echo sub); exec "$0" -c "print(sum(len(str(i) * 50) for i in range(20000)))"'
native=$(bash -c "$script" "$py")
traced=$("$run" -q -o "$work/exec-trace" -- bash -c "$script" "$py")
if [[ $native != "$traced" ]]; then
  echo "report_browser: FAILED: the traced shell printed '$traced', natively '$native'" >&2
  exit 1
fi
"$analyze" "$work/exec-trace" --quiet --json "$work/exec-analysis.json" --html "$work/exec-report.html"
timeout 450 node "$here/browser_check.js" --mode exec --html "$work/exec-report.html" \
  --json "$work/exec-analysis.json" --screenshot "$work/exec-report.png" --profile "$work/chromium-profile"

# A sampled trace (memscope-run --sample-bytes, a fixed seed): the page marks its estimates.
MEMSCOPE_SAMPLE_SEED=1 "$run" -q --sample-bytes 4096 -o "$work/sampled-trace" -- "$program" a b c
"$analyze" "$work/sampled-trace" --quiet --json "$work/sampled-analysis.json" \
  --html "$work/sampled-report.html"
timeout 450 node "$here/browser_check.js" --mode sampled --html "$work/sampled-report.html" \
  --json "$work/sampled-analysis.json" --screenshot "$work/sampled-report.png" \
  --profile "$work/chromium-profile"
