# TVX_PRESET: a build configured outside `cmake --preset` (pip install ., which scikit-build-core
# drives) takes a variant's settings by its preset's name. The settings come from
# cmake/variants.cmake, which scripts/variants.py writes from variants.toml together with
# CMakePresets.json, so a preset and TVX_PRESET give the same build.
#   pip install .                        -> the dev preset
#   TVX_PRESET=tvx-cuda13_0-sm120-avx512 pip install .
#   cmake -S . -B build/x -DTVX_PRESET=tvx-cpu-avx2
# pyproject.toml passes TVX_PRESET (the environment's, default dev) on every configure, so a
# second pip install with another TVX_PRESET reconfigures the same build directory for it. In a
# plain CMake build only -DTVX_PRESET counts (scripts/build.sh exports TVX_PRESET for `cmake
# --preset`, which must not be second-guessed).
include(${CMAKE_CURRENT_LIST_DIR}/variants.cmake)
set(TVX_PRESET "" CACHE STRING "Take a preset's settings (a variant of variants.toml, or dev/cpu)")
if(TVX_PRESET)
  if(NOT TVX_PRESET IN_LIST TVX_PRESETS)
    string(REPLACE ";" ", " _names "${TVX_PRESETS}")
    message(FATAL_ERROR "tvx: TVX_PRESET=${TVX_PRESET} is not a preset; the presets are: ${_names}")
  endif()
  foreach(_var TVX_VARIANT CMAKE_CUDA_ARCHITECTURES TVX_CUDA TVX_CPU_ISA TVX_MIN_DRIVER)
    if(DEFINED TVX_PRESET_${TVX_PRESET}_${_var})
      set(${_var} "${TVX_PRESET_${TVX_PRESET}_${_var}}" CACHE STRING "from TVX_PRESET=${TVX_PRESET}" FORCE)
    else()  # what another preset set before must not stay
      unset(${_var} CACHE)
    endif()
  endforeach()
  message(STATUS "tvx: settings of preset ${TVX_PRESET}")
endif()
