#!/usr/bin/env bash
# The Python wheel, tested as a user meets it: build it from a copy of the source (pip wheel,
# which drives CMake through scikit-build-core, against the torch in the build environment),
# delete the copy and its build tree, install the wheel into a fresh venv that holds torch,
# then run `tvx.verify()`, the `tvx` command and the Python test suite against the installed
# package (tests/python with TVX_TEST_INSTALLED=1: no TVX_LIBRARY, no source tree).
#   scripts/test_wheel.sh          TVX_PRESET picks the variant (default dev)
#   TVX_PYTHON   the interpreter that builds (default .venv/bin/python); it must hold torch,
#                scikit-build-core, cmake and ninja (scripts/setup.sh installs them)
#   TVX_WHEEL_PIP_ARGS  extra arguments for the fresh venv's pip (e.g. --no-index
#                --find-links DIR on a machine without network)
#   TVX_WHEEL_SHARE_SITE=1  the fresh venv sees the building interpreter's site-packages (a .pth
#                file) instead of installing torch into it: a machine without network, or one
#                short of disk (torch and its nvidia-* wheels take about 6 GiB); .ci/run sets it
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${TVX_PYTHON:-$root/.venv/bin/python}
[[ -x $root/.venv/bin/cmake && -z "${TVX_PYTHON:-}" ]] && export PATH=$root/.venv/bin:$PATH
work=$(mktemp -d /tmp/tvx-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
t0=$SECONDS

# 1. The source as committed or staged, plus untracked files git does not ignore, in a copy.
mkdir "$work/src"
if git -C "$root" rev-parse --git-dir > /dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src")
else  # a copy of the tree without its git metadata (the GPU machine's)
  tar -C "$root" --exclude=./build --exclude=./.venv --exclude=./.deps --exclude=./.test-images \
    --exclude=./.bench-images -cf - . | tar -C "$work/src" -xf -
fi
cp -r "$root/tests/python" "$work/tests"   # kept for step 4
# The test images: shared/images beside this checkout or beside the one it was cloned from.
if [[ -z "${TVX_IMAGES:-}" ]]; then
  origin=$(git -C "$root" config --get remote.origin.url || true)
  for place in "$root" ${origin:+"$origin"}; do
    [[ -d $place/../shared/images/jpeg-variants ]] && { export TVX_IMAGES=$(cd "$place/../shared/images" && pwd); break; }
  done
fi
[[ -n "${TVX_IMAGES:-}" ]] || { echo "test_wheel: no shared/images found: set TVX_IMAGES" >&2; exit 1; }
# ccache: paths relative to the copy, so its compilations hit what the dev build cached.
export CCACHE_BASEDIR=$work/src
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
export CMAKE_BUILD_PARALLEL_LEVEL=${TVX_JOBS:-$(nproc)}
"$py" -m pip wheel --no-build-isolation --no-deps -q -w "$work/dist" "$work/src"
wheel=$(ls "$work"/dist/tvx-*.whl)
echo "test_wheel: built $(basename "$wheel") in $((SECONDS - t0)) s"

# 2. The source and build trees go.
rm -rf "$work/src"

# 3. A fresh venv with torch and the test tools, then the wheel (whose torch==X.Y.* the venv meets).
t1=$SECONDS
want=$("$py" -c 'import importlib.metadata as m; print(" ".join(f"{n}=={m.version(n)}" for n in ("torch", "torchvision", "numpy", "pytest", "pillow")))')
"$py" -m venv "$work/venv"
if [[ "${TVX_WHEEL_SHARE_SITE:-}" == 1 ]]; then
  site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  "$py" -E -c 'import site, sysconfig; print(sysconfig.get_paths()["purelib"]); print(sysconfig.get_paths()["platlib"]); print(site.getusersitepackages())' > "$site/outer-site.pth"
  # torch and the nvidia-* libraries where a real install has them, beside tvx in one
  # site-packages, so that the installed program's relative RUNPATH is what is tested.
  for pkg in torch nvidia; do
    dir=$("$py" -E -c "import importlib.util as u, os; s = u.find_spec('$pkg'); print(os.path.dirname(list(s.submodule_search_locations)[0]) if s else '')")
    [[ -n $dir && -d $dir/$pkg ]] && ln -s "$dir/$pkg" "$site/$pkg"
  done
else
  "$work/venv/bin/pip" install -q --no-cache-dir ${TVX_WHEEL_PIP_ARGS:-} $want
fi
"$work/venv/bin/pip" install -q --no-cache-dir ${TVX_WHEEL_PIP_ARGS:-} "$wheel"
echo "test_wheel: fresh venv with torch and the wheel in $((SECONDS - t1)) s"

# 4. The installed package, from a directory that holds no tvx source.
cd "$work"
unset TVX_LIBRARY
"$work/venv/bin/python" -c "import tvx; tvx.verify(); print('test_wheel: tvx.verify() passed:', tvx.variant(), tvx.__version__, tvx.library_path)"
"$work/venv/bin/tvx" info > /dev/null
TVX_TEST_INSTALLED=1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$work/tests"
echo "test_wheel: done in $((SECONDS - t0)) s"
