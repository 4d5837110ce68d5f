#!/usr/bin/env bash
# The main job: set up, build, then `tvx verify` (runtime verification of the build on this
# machine) and `tvx info`. Exits non-zero when verification fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TVX_PRESET=${TVX_PRESET:-dev}
"$root/scripts/build.sh"
tvx=$root/build/$TVX_PRESET/src/tvx
"$tvx" verify
"$tvx" info
