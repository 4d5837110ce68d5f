#!/usr/bin/env bash
# Download the Debian packages the GPU machine lacks (it has no network) into .deps/, which
# scripts/gpu_check.sh unpacks there. Carry .deps with the device call.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$root/.deps"
cd "$root/.deps"
apt-get download libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libhwy-dev libhwy1
