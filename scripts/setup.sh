#!/usr/bin/env bash
# Idempotent set-up of a fresh machine for building and testing tvx.
#   - Debian packages: compilers and build tools, Google Highway, GoogleTest, Google Benchmark, CLI11,
#     nlohmann-json, image codecs (libjpeg-turbo, libpng with libdeflate, libwebp, giflib, libavif and its avifenc for
#     the tests), clang and libFuzzer (the
#     decoders' fuzzing), ccache,
#     the aarch64 cross compiler used by the variant check, and nix-bin (nix-instantiate, which
#     parses and evaluates the Nix expressions in tests/nix; it builds nothing here).
#   - A project-local virtual environment (.venv) with torch 2.11.0 (the CUDA 13.0 build
#     from PyPI, which carries LibTorch), torchvision 0.26.0 (test oracle only), numpy,
#     pytest, pillow, CMake >= 3.28 (Debian 12's 3.25 has no C++20 dialect for nvcc) with Ninja, and
#     scikit-build-core (the wheel's build backend, for pip install --no-build-isolation).
# Re-running it only installs what is missing.
#
# Environment:
#   TVX_JOBS     build/install parallelism (default: number of cores): apt-get's downloads and
#                pip's source builds (MAX_JOBS, CMAKE_BUILD_PARALLEL_LEVEL, MAKEFLAGS)
#   TVX_PYTHON   use this interpreter (which must already hold torch 2.11) instead of .venv
#   TVX_SKIP_APT skip the Debian packages (a machine that has them, or cannot reach apt)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TVX_JOBS=${TVX_JOBS:-$(nproc)}

debs=(build-essential cmake ninja-build ccache pkg-config git
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
      libhwy-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libdeflate-dev libwebp-dev libgif-dev libavif-dev libavif-bin
      g++-aarch64-linux-gnu clang libclang-rt-dev nix-bin)

if [[ -z "${TVX_SKIP_APT:-}" ]] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo_=""; [[ $(id -u) -eq 0 ]] || sudo_=sudo
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends \
      -o Acquire::Queue-Mode=access -o APT::Acquire::Max-Parallel-Downloads="$TVX_JOBS" "${missing[@]}"
  fi
fi

if [[ -n "${TVX_PYTHON:-}" ]]; then
  py=$TVX_PYTHON
else
  venv=$root/.venv
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  py=$venv/bin/python
  # nvidia-nvjpeg: nvJPEG's header and library, so that the GPU JPEG codec compiles here too.
  want=(torch==2.11.0 torchvision==0.26.0 numpy pytest pillow "cmake>=3.28,<5" ninja "nvidia-nvjpeg==13.0.*"
        "scikit-build-core>=0.10")
  if ! "$py" - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
need = {"torch": "2.11.0", "torchvision": "0.26.0"}
for name, ver in need.items():
    if m.version(name).split("+")[0] != ver: sys.exit(1)
for name in ("numpy", "pytest", "pillow", "cmake", "ninja", "nvidia-nvjpeg", "scikit-build-core"):
    m.version(name)
PY
  then
    echo "setup: installing ${want[*]} into $venv"
    # Anything pip has to compile from source uses TVX_JOBS cores too.
    export MAX_JOBS=$TVX_JOBS CMAKE_BUILD_PARALLEL_LEVEL=$TVX_JOBS MAKEFLAGS=-j$TVX_JOBS
    "$py" -m pip install -q --upgrade pip
    "$py" -m pip install -q "${want[@]}"
  fi
fi
"$py" -c 'import torch; print("setup: torch", torch.__version__, "CUDA", torch.version.cuda)'
