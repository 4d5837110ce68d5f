#!/usr/bin/env bash
# The whole suite on the GPU machine in one call: build each preset from clean with all
# cores (timed), check the architectures in the binary with cuobjdump, run ctest, pytest
# (CUDA tests included), tvx verify / info, compute-sanitizer on every CUDA kernel, and the
# benchmarks. Logs and results go to $OUT (or ./gpu-out).
#   scripts/gpu_check.sh [--bench] PRESET...
# TVX_TESTS="resize preprocess" (space-separated) limits pytest to tests/python/test_<name>.py,
# TVX_BENCH_ONLY to those bench groups, TVX_SMOKE_SKIP=ops,deform,io the sanitizer's smoke run
# (scripts/cuda_smoke.py): one issue's pass fits in one call of the device tool.
# The machine has torch/torchvision in python3 and no network: the Debian packages it lacks
# (GoogleTest, CLI11, nlohmann-json, Highway) travel as .debs in .deps/ (see README).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
bench=0
[[ "${1:-}" == "--bench" ]] && { bench=1; shift; }
presets=("${@:-dev}")

source "$root/scripts/gpu_env.sh"
status=0
step() {  # step NAME COMMAND...: run, log, remember failures
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then echo "=== $name: ok ($((SECONDS - t0)) s)"; else echo "=== $name: FAILED ($((SECONDS - t0)) s)"; status=1; fi
}
cd "$root"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "C++ compiler: ${CXX:-default}"
for p in "${presets[@]}"; do
  rm -rf "build/$p"
  step "build $p ($TVX_JOBS jobs, from clean)" env TVX_PRESET="$p" scripts/build.sh
  lib=build/$p/src/libtvx.so
  step "cuobjdump $p" bash -c "cuobjdump --list-elf --list-ptx $lib > $out/cuobjdump-$p.txt && python3 scripts/check_archs.py $p $out/cuobjdump-$p.txt"
  step "ctest $p" ctest --preset "$p" -j 8 --output-on-failure
  tests=(tests/python/test_*.py)
  [[ -n "${TVX_TESTS:-}" ]] && { tests=(); for n in $TVX_TESTS; do tests+=("tests/python/test_$n.py"); done; }
  for t in "${tests[@]}"; do  # one process per file: a crash cannot hide the others
    step "pytest $p $(basename "$t")" env TVX_LIBRARY="$root/$lib" python3 -m pytest -q -p no:cacheprovider "$t"
  done
  step "tvx verify $p" "build/$p/src/tvx" verify
  step "tvx info $p" "build/$p/src/tvx" info
done
lib=$root/build/${presets[0]}/src/libtvx.so
for tool in memcheck racecheck; do
  # The GPU JPEG's default route on engine GPUs runs the engine's refusals (the smoke's
  # progressive files) on nvJPEG's decoupled decoder, from a second host thread beside the
  # engine's; racecheck loses track of kernel launches from several host threads at once and
  # hangs (seen on the H100 machine), so under racecheck those files go to libjpeg
  # (TVX_NVJPEG_REFUSED=cpu) and the decoupled decoder runs one worker below.
  refused=decoupled
  [[ $tool == racecheck ]] && refused=cpu
  # All worker threads under memcheck, which follows them; a hang ends at the timeout.
  step "compute-sanitizer $tool (every CUDA kernel)" timeout 900 compute-sanitizer --tool $tool --error-exitcode 1 \
    env TVX_LIBRARY="$lib" TVX_NVJPEG_REFUSED=$refused python3 scripts/cuda_smoke.py
  # The GPU JPEG decode without engines (nvJPEG's decoupled decoder on the thread pool), as
  # GPUs without NVJPG engines run it. One worker thread, for racecheck as above.
  if [[ ",${TVX_SMOKE_SKIP:-}," != *,io,* ]]; then
    step "compute-sanitizer $tool (GPU JPEG without engines)" timeout 300 compute-sanitizer --tool $tool --error-exitcode 1 \
      env TVX_LIBRARY="$lib" TVX_NVJPEG_BACKEND=gpu OMP_NUM_THREADS=1 TVX_SMOKE_SKIP=ops,transforms,deform \
      python3 scripts/cuda_smoke.py
  fi
done
if ((bench)); then
  # Photos for the transforms cases: $TVX_IMAGES (gpu_env.sh sets it to the carried
  # .test-images), shared/images beside the checkout, or a copy of some in .bench-images/.
  images=$root/../shared/images
  [[ -d $root/.bench-images ]] && images=$root/.bench-images
  images=${TVX_IMAGES:-$images}
  step "bench" env TVX_LIBRARY="$lib" python3 bench/bench.py --profile --images "$images" --json "$out/bench.json" \
    ${TVX_BENCH_ONLY:+--only "$TVX_BENCH_ONLY"}
fi
echo "gpu_check: $([[ $status == 0 ]] && echo all steps passed || echo SOME STEPS FAILED)"
exit $status
