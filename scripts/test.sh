#!/usr/bin/env bash
# Everything a fresh machine needs, then every test: build a preset (default dev), run the
# C++ suite with ctest and the Python suite with pytest against that build.
#   TVX_PRESET, TVX_JOBS, TVX_PYTHON: as for scripts/build.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TVX_PRESET=${TVX_PRESET:-dev}
"$root/scripts/build.sh"
py=${TVX_PYTHON:-$root/.venv/bin/python}
[[ -z "${TVX_PYTHON:-}" ]] && export PATH=$root/.venv/bin:$PATH
cd "$root"
ctest --preset "$TVX_PRESET" -j "${TVX_JOBS:-$(nproc)}"
export TVX_LIBRARY=$root/build/$TVX_PRESET/src/libtvx.so
"$py" -m pytest -q "$root/tests/python" -p no:cacheprovider
