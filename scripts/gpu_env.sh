# Environment of a build on the GPU machine (sourced by gpu_check.sh; source it before a
# quick incremental run there: `source scripts/gpu_env.sh && scripts/build.sh && ...`).
export TVX_PYTHON=${TVX_PYTHON:-python3} TVX_SKIP_APT=1 TVX_JOBS=${TVX_JOBS:-$(nproc)}
# The machine's CXX (/opt/gcc) links libstdc++ statically; the system GCC links it shared,
# as libtorch needs (src/CMakeLists.txt refuses the other).
if [[ -x /usr/bin/g++ ]]; then export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++; fi
_tvx_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if compgen -G "$_tvx_root/.deps/*.deb" >/dev/null; then
  for f in "$_tvx_root"/.deps/*.deb; do dpkg -x "$f" /tmp/tvx-deps; done
  export CMAKE_PREFIX_PATH=/tmp/tvx-deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export CPATH=/tmp/tvx-deps/usr/include${CPATH:+:$CPATH}
fi
# Images whose system lacks the codec headers (the H200 machines' 'cuda' image): Debian's
# libjpeg-turbo, libpng and zlib from .deps/fallback (fetch_gpu_debs.sh), unpacked only then.
if [[ ! -e /usr/include/jpeglib.h || ! -e /usr/include/png.h || ! -e /usr/include/zlib.h ]] &&
   compgen -G "$_tvx_root/.deps/fallback/*.deb" >/dev/null; then
  for f in "$_tvx_root"/.deps/fallback/*.deb; do dpkg -x "$f" /tmp/tvx-deps; done
  export CMAKE_PREFIX_PATH=/tmp/tvx-deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export CPATH=/tmp/tvx-deps/usr/include${CPATH:+:$CPATH}
  export LD_LIBRARY_PATH=/tmp/tvx-deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# A toolkit without nvJPEG: PyPI's nvidia-nvjpeg wheel (.deps/wheels), found by src/CMakeLists.txt
# through TVX_NVJPEG_ROOT and loaded at run time from there.
_cuda=${CUDA_HOME:-/usr/local/cuda}
if [[ ! -e $_cuda/include/nvjpeg.h ]] && compgen -G "$_tvx_root/.deps/wheels/nvidia_nvjpeg-*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/tvx-nvjpeg \
    "$_tvx_root"/.deps/wheels/nvidia_nvjpeg-*.whl
  export TVX_NVJPEG_ROOT=/tmp/tvx-nvjpeg/nvidia/cu13
  export LD_LIBRARY_PATH=$TVX_NVJPEG_ROOT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# Benchmark peers carried as wheels (fetch_gpu_debs.sh): nvImageCodec, which loads the
# toolkit's nvJPEG.
if compgen -G "$_tvx_root/.deps/bench-wheels/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/tvx-site \
    "$_tvx_root"/.deps/bench-wheels/*.whl && export PYTHONPATH=/tmp/tvx-site${PYTHONPATH:+:$PYTHONPATH}
  export LD_LIBRARY_PATH=${CUDA_HOME:-/usr/local/cuda}/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# The test images, carried as .test-images (scripts/fetch_gpu_debs.sh copies them there).
if [[ -d "$_tvx_root/.test-images" ]]; then export TVX_IMAGES="$_tvx_root/.test-images"; fi
