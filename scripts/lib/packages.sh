# The one list of Debian packages memscope needs, sourced by scripts/build, scripts/test,
# scripts/fuzz and report/build.sh. Tests never install anything: scripts/test installs all of
# these once, before CTest starts (apt would otherwise race itself between parallel tests).

# Building memscope and its HTML report (report/build.sh runs node and npm at build time).
memscope_build_packages=(build-essential cmake pkg-config python3
  libxxhash-dev libboost-dev doctest-dev
  libzstd-dev libdw-dev libelf-dev nlohmann-json3-dev zlib1g-dev nodejs)
# Debian's nodejs has npm in a package of its own; NodeSource's nodejs bundles it and conflicts
# with Debian's npm, so npm is asked for only when no npm command is there.
command -v npm >/dev/null || memscope_build_packages+=(npm)

# scripts/fuzz: libFuzzer comes with clang's runtime.
memscope_fuzz_packages=(clang libclang-rt-14-dev)

# What the tests run: valgrind (the DHAT oracle), go (`go tool pprof` reads our profiles),
# chromium (the report's browser test), zstd (decompresses chunks in the robustness fuzzing),
# liblsan0 (LeakSanitizer, an oracle of the leak tests), libc6-dbg (names the loader's frames,
# which the built-in leak suppression matches, and which valgrind wants too), libmimalloc-dev
# and libunwind8 (robust_mimalloc runs a program whose malloc is mimalloc, robust_linkmap
# dlopens both to show the agent has not loaded them; memscope itself uses neither) and the
# real programs the robustness suite traces.
memscope_test_packages=(valgrind golang-go chromium zstd liblsan0 libc6-dbg libmimalloc-dev
  libunwind8 git perl sqlite3 tar gzip openjdk-17-jdk-headless)
