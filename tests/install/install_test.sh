#!/usr/bin/env bash
# Installs the build into a scratch prefix and uses it as a stranger would: an outside CMake
# project (find_package(memscope)), a pkg-config build, the installed memscope-run, and the
# .deb that CPack makes.
# Usage: install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memscope-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libmemscope_agent.so | head -n 1)")

echo "== find_package(memscope) from an outside project"
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer" "$tmp/out-cmake"

echo "== pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
g++ -std=c++20 "$src/tests/install/consumer/consumer.cpp" -o "$tmp/consumer-pc" \
  $(pkg-config --cflags --libs memscope) -Wl,-rpath,"$libdir"
"$tmp/consumer-pc" "$tmp/out-pc"

echo "== the installed memscope-run"
"$prefix/bin/memscope-run" -q -o "$tmp/out-run" -- /bin/true
ls "$tmp/out-run"/memscope.*.mst >/dev/null
"$prefix/bin/memscope-analyze" "$tmp/out-run" --quiet

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$tmp/deb" >/dev/null)
deb=$(ls "$tmp"/deb/*.deb)
contents=$(dpkg-deb -c "$deb")
for f in bin/memscope-run bin/memscope-analyze libmemscope_agent.so include/memscope/memscope.hpp \
  cmake/memscope/memscopeConfig.cmake pkgconfig/memscope.pc; do
  grep -q "$f" <<<"$contents" || { echo "missing from $deb: $f"; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
# The agent loads nothing at run time: neither libunwind nor mimalloc is a dependency any more.
for gone in libunwind libmimalloc; do
  if grep -q "$gone" <<<"$depends"; then
    echo "$deb still depends on $gone, which the agent no longer loads: $depends"
    exit 1
  fi
done
echo "install test passed: $(basename "$deb")"
