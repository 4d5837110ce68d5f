#!/usr/bin/env bash
# The CMake package, tested as a user meets it: install a built preset into a fresh prefix,
# build tests/consumer (its own project, outside the tvx tree) against the *installed* tree with
# find_package(tvx), run it, and run the installed `tvx info` with the build tree moved away.
#   scripts/test_install.sh [PRESET]      (default: $TVX_PRESET or dev; the preset must be built)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
preset=${1:-${TVX_PRESET:-dev}}
build=$root/build/$preset
[[ -x $root/.venv/bin/cmake ]] && export PATH=$root/.venv/bin:$PATH
prefix=$root/build/install-$preset
rm -rf "$prefix" "$root/build/consumer-$preset"
cmake --install "$build" --prefix "$prefix" > /dev/null
echo "test_install: installed $preset into $prefix"
cmake -S "$root/tests/consumer" -B "$root/build/consumer-$preset" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DTORCH_CUDA_ARCH_LIST=9.0 | grep -E "^-- consumer:|Error" || true
cmake --build "$root/build/consumer-$preset" > /dev/null
# The build tree moved away: the installed program and the consumer must not need it.
mv "$build" "$build.moved"
trap 'mv "$build.moved" "$build"' EXIT
"$root/build/consumer-$preset/consumer"
"$prefix/bin/tvx" info > /dev/null && echo "test_install: the installed tvx runs without the build tree"
