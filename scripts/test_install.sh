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
moved=$build.moved
[[ -e $moved ]] && { echo "test_install: $moved exists (an interrupted run?): move it back to $build first" >&2; exit 1; }
rm -rf "$prefix" "$root/build/consumer-$preset"
cmake --install "$build" --prefix "$prefix" > /dev/null
echo "test_install: installed $preset into $prefix"
# From here on the build tree is away: the package, the consumer and the installed program
# must not need it.
trap '[[ -d $moved ]] && mv -T "$moved" "$build"' EXIT
mv -T "$build" "$moved"
cmake -S "$root/tests/consumer" -B "$root/build/consumer-$preset" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" > "$root/build/consumer-$preset.configure.log" 2>&1 ||
  { cat "$root/build/consumer-$preset.configure.log"; exit 1; }
grep -E "^-- consumer:" "$root/build/consumer-$preset.configure.log"
cmake --build "$root/build/consumer-$preset" > /dev/null
"$root/build/consumer-$preset/consumer"
info=$("$prefix/bin/tvx" info --json)
"${TVX_PYTHON:-$root/.venv/bin/python}" - "$info" <<'PY'
import json, sys
info = json.loads(sys.argv[1])
gpu = info["codecs"].get("JPEG (GPU)")
assert gpu is None or gpu.startswith("nvJPEG "), gpu  # loaded by the installed libtvx, where the build had it
print("test_install: the installed tvx runs without the build tree (variant", info["variant"], "; GPU JPEG:", gpu, ")")
PY
