#!/usr/bin/env bash
# Compiles and runs every ```cpp block of docs/api.md against the build tree, so the documented
# examples never rot. Usage: doc_examples.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memscope-doc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '/^```cpp$/ { n++; file = dir "/example" n ".cpp"; inside = 1; next }
                    /^```$/ { inside = 0; next }
                    inside { print > file }' "$src/docs/api.md"
count=0
for example in "$tmp"/example*.cpp; do
  g++ -std=c++20 -Wall -Wextra -Werror "$example" -o "${example%.cpp}" -I"$src/include" \
    -L"$build/lib" -Wl,--no-as-needed -lmemscope -lmemscope_agent -Wl,-rpath,"$build/lib"
  (cd "$tmp" && "${example%.cpp}")
  count=$((count + 1))
done
((count >= 2)) || { echo "expected at least 2 examples in docs/api.md, found $count"; exit 1; }
echo "$count examples from docs/api.md compiled and ran"
