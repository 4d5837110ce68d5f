#!/usr/bin/env bash
# Fuzz every image decoder with libFuzzer: clang with ASan and UBSan over the decoders' sources
# (src/io, no CUDA), linked with LibTorch; seeded from shared/images; each target runs for
# SECONDS (default 30) and the run fails on any crash, sanitizer report, leak or timeout.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: jpeg png webp gif avif image (default: all)
# The executions and new coverage of each target are printed; the corpus grows in build/fuzz/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("${@:-jpeg png webp gif avif image}")
read -r -a targets <<< "${targets[*]}"
py=${TVX_PYTHON:-$root/.venv/bin/python}
out=$root/build/fuzz
mkdir -p "$out/obj"

# The images: $TVX_IMAGES, shared/images beside this checkout, or beside the one it was cloned from.
images=${TVX_IMAGES:-}
if [[ -z $images ]]; then
  for place in "$root" "$(git -C "$root" config --get remote.origin.url 2>/dev/null || true)"; do
    [[ -n $place && -d $place/../shared/images ]] && { images=$(cd "$place/../shared/images" && pwd); break; }
  done
fi
[[ -d ${images:-} ]] || { echo "fuzz: no shared/images found (set TVX_IMAGES)" >&2; exit 1; }

read -r torch_inc torch_api_inc torch_lib abi < <("$py" -c '
import torch, os
p = os.path.dirname(torch.__file__)
print(os.path.join(p, "include"), os.path.join(p, "include/torch/csrc/api/include"), os.path.join(p, "lib"), int(torch._C._GLIBCXX_USE_CXX11_ABI))')
cxx=${TVX_FUZZ_CXX:-clang++}
san="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined"
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer $san -D_GLIBCXX_USE_CXX11_ABI=$abi
       -DTVX_HAS_JPEG=1 -DTVX_HAS_PNG=1 -DTVX_HAS_LIBDEFLATE=1 -DTVX_HAS_WEBP=1 -DTVX_HAS_GIF=1 -DTVX_HAS_AVIF=1 -DTVX_VERSION='"fuzz"'
       -DTVX_VARIANT='"fuzz"' -DTVX_CPU_ISA='""' -DTVX_CPU_FLAGS='""' -DTVX_TORCH_BUILD_VERSION='""' -DTVX_MIN_DRIVER='""' 
       -I"$root/src" -I"$root/include" -isystem "$torch_inc" -isystem "$torch_api_inc")
sources=(io/io.cpp io/jpeg.cpp io/png.cpp io/webp.cpp io/gif.cpp io/avif.cpp io/decode_image.cpp io/nvjpeg/unavailable.cpp
         core/check.cpp core/registration.cpp core/build_info.cpp)
objects=()
pids=()
t0=$SECONDS
# Every source is compiled each time (about 30 s on 2 cores), so no header change goes unseen.
for src in "${sources[@]}"; do
  obj=$out/obj/${src//\//_}.o
  objects+=("$obj")
  "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$root/src/$src" -o "$obj" & pids+=($!)
done
"$cxx" "${flags[@]}" -fsanitize=fuzzer -c "$root/fuzz/fuzz_decoders.cpp" -o "$out/obj/fuzz_decoders.o" & pids+=($!)
for pid in "${pids[@]}"; do wait "$pid" || { echo "fuzz: a compilation failed" >&2; exit 1; }; done
"$cxx" $san -fsanitize=fuzzer "$out/obj/fuzz_decoders.o" "${objects[@]}" -o "$out/tvx_fuzz" \
  -L"$torch_lib" -Wl,-rpath,"$torch_lib" -ltorch -ltorch_cpu -lc10 -ljpeg -lpng -ldeflate -lz -lwebp -lgif -lavif
echo "fuzz: built $out/tvx_fuzz in $((SECONDS - t0)) s"

declare -A seeds=([jpeg]="jpeg-variants photo-500" [png]="png" [webp]="webp" [gif]="gif" [avif]=""
                  [image]="jpeg-variants png webp gif")
status=0
for t in "${targets[@]}"; do
  corpus=$out/corpus-$t
  mkdir -p "$corpus"
  for d in ${seeds[$t]} corrupt; do cp -n "$images/$d"/* "$corpus/" 2>/dev/null || true; done
  # shared/images has no AVIF: avifenc (libavif-bin) writes a few from its PNGs, at 8 and 10 bits.
  if [[ $t == avif || $t == image ]]; then
    for png in "$images"/png/chelsea.png "$images"/png/astronaut_rgba.png "$images"/png/camera.png; do
      avifenc -s 10 "$png" "$corpus/$(basename "$png" .png).avif" > /dev/null 2>&1
      avifenc -s 10 -d 10 -y 420 "$png" "$corpus/$(basename "$png" .png)-10bit.avif" > /dev/null 2>&1
    done
  fi
  find "$corpus" -size 0 -delete
  log=$out/fuzz-$t.log
  # malloc_limit: a header may declare a huge image (allocated, never touched, then refused);
  # the RSS limit catches memory really used.
  if TVX_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      "$out/tvx_fuzz" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -malloc_limit_mb=65536 -max_len=1048576 -print_final_stats=1 -artifact_prefix="$out/crash-$t-" > "$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t: $runs executions in $seconds s, $cov, no crash ($(ls "$corpus" | wc -l) inputs in the corpus)"
  else
    echo "fuzz: $t: FAILED (log: $log)"; grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -20
    status=1
  fi
done
exit $status
