#!/usr/bin/env bash
# Download the Debian packages the GPU machine lacks (it has no network) into .deps/, which
# scripts/gpu_check.sh unpacks there. Carry .deps with the device call.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$root/.deps"
cd "$root/.deps"
apt-get download libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libhwy-dev libhwy1 \
  libwebp-dev libwebp7 libwebpdemux2 libwebpmux3 libgif-dev libgif7 libdeflate-dev libdeflate0
# Codec headers for an image that lacks them (gpu_env.sh unpacks these only then); names
# without the epoch's %3a, which a carried path may not hold.
mkdir -p "$root/.deps/fallback"
(cd "$root/.deps/fallback" && apt-get download libjpeg62-turbo-dev libjpeg62-turbo libpng-dev libpng16-16 zlib1g-dev &&
  for f in *%3a*; do [[ -e $f ]] && mv "$f" "${f//%3a/_}"; done; true)
# The test images (shared/ beside the checkout does not travel either): tests/python/test_io.py
# reads them from $TVX_IMAGES, which scripts/gpu_env.sh points here. Carry .test-images too.
if [[ -d "$root/../shared/images" ]]; then
  rm -rf "$root/.test-images" && cp -r "$root/../shared/images" "$root/.test-images"
fi
# For scripts/test_wheel.sh there: the wheel's build backend and a CUDA wheel's nvJPEG dependency.
mkdir -p "$root/.deps/wheels"
"${TVX_PYTHON:-$root/.venv/bin/python}" -m pip download -q scikit-build-core "nvidia-nvjpeg==13.0.*" --only-binary=:all: \
  --python-version 3.12 --platform manylinux2014_x86_64 -d "$root/.deps/wheels"
# A peer for bench.py's GPU decode rows: NVIDIA's nvImageCodec (gpu_env.sh installs it there).
mkdir -p "$root/.deps/bench-wheels"
"${TVX_PYTHON:-$root/.venv/bin/python}" -m pip download -q --no-deps "nvidia-nvimgcodec-cu13==0.9.*" --only-binary=:all: \
  --python-version 3.12 --platform manylinux_2_28_x86_64 -d "$root/.deps/bench-wheels"
