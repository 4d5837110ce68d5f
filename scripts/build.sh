#!/usr/bin/env bash
# Set up what is missing, then configure and build one preset.
#   TVX_PRESET  CMake preset (default: dev)
#   TVX_JOBS    build parallelism (default: number of cores); setup honours it too
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TVX_JOBS=${TVX_JOBS:-$(nproc)}
preset=${TVX_PRESET:-dev}
"$root/scripts/setup.sh"
cd "$root"
# ccache sees paths relative to the checkout, so scripts/check_variants.py's compilations
# that equal this build's hit the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
# Compilations that use the precompiled header are cacheable only with these.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
# The venv's CMake (>= 3.28) when there is one; else the machine's.
[[ -x .venv/bin/cmake && -z "${TVX_PYTHON:-}" ]] && export PATH=$root/.venv/bin:$PATH
extra=()
[[ -n "${TVX_PYTHON:-}" ]] && extra+=("-DTVX_PYTHON=$TVX_PYTHON")
cmake --preset "$preset" "${extra[@]}" >/dev/null
cmake --build --preset "$preset" -j "$TVX_JOBS"
