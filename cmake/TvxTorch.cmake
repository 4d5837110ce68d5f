# Finds LibTorch inside the Python environment that holds torch (torch.utils.cmake_prefix_path).
#
# TVX_PYTHON selects the interpreter: by default the project's .venv, else python3 on PATH.
# Torch's CMake config overwrites CMAKE_CUDA_ARCHITECTURES and appends its own -gencode list
# to CMAKE_CUDA_FLAGS; a tvx build compiles exactly the variant's architectures, so both are
# restored after find_package(Torch).
# Under pip (scikit-build-core sets SKBUILD), the interpreter running pip, asked with -E: pip
# isolates the build in an environment that lacks torch, through PYTHONPATH and
# PYTHONNOUSERSITE, which -E ignores, so the torch installed in the user's environment (its
# user site-packages too) is the one built against.
set(_isolated "")
if(SKBUILD)
  set(_isolated -E)
endif()
if(SKBUILD)
  # Each pip install asks its own interpreter (TVX_PYTHON, else the one running pip), also when
  # it reuses a build directory configured from another environment; LibTorch is then found anew.
  set(_py "$ENV{TVX_PYTHON}")
  if(NOT _py)
    set(_py "${Python_EXECUTABLE}")
  endif()
  if(NOT "${_py}" STREQUAL "${TVX_PYTHON}")
    unset(Torch_DIR CACHE)
    unset(Caffe2_DIR CACHE)
  endif()
  set(TVX_PYTHON "${_py}" CACHE FILEPATH "Python interpreter whose torch provides LibTorch" FORCE)
elseif(NOT TVX_PYTHON AND DEFINED ENV{TVX_PYTHON})
  set(TVX_PYTHON "$ENV{TVX_PYTHON}" CACHE FILEPATH "Python interpreter whose torch provides LibTorch")
endif()
if(NOT TVX_PYTHON)
  if(EXISTS ${PROJECT_SOURCE_DIR}/.venv/bin/python)
    set(_py ${PROJECT_SOURCE_DIR}/.venv/bin/python)
  else()
    find_program(_py NAMES python3 python REQUIRED)
  endif()
  set(TVX_PYTHON ${_py} CACHE FILEPATH "Python interpreter whose torch provides LibTorch")
endif()

execute_process(
  COMMAND ${TVX_PYTHON} ${_isolated} -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__)"
  OUTPUT_VARIABLE _torch_out RESULT_VARIABLE _torch_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _torch_rc EQUAL 0)
  message(FATAL_ERROR "tvx: ${TVX_PYTHON} cannot import torch; run scripts/setup.sh or set TVX_PYTHON (a build "
                      "frontend that builds in a new environment, like python -m build, needs --no-isolation)")
endif()
string(REPLACE "\n" ";" _torch_out "${_torch_out}")
list(GET _torch_out 0 _torch_prefix)
list(GET _torch_out 1 TVX_TORCH_VERSION)
list(APPEND CMAKE_PREFIX_PATH ${_torch_prefix})

set(_tvx_cuda_archs "${CMAKE_CUDA_ARCHITECTURES}")
set(_tvx_cuda_flags "${CMAKE_CUDA_FLAGS}")
# Keep Torch's architecture probe quiet and cheap (it would run a program on the GPU, or
# fail when cross-compiling); the value is discarded below.
set(TORCH_CUDA_ARCH_LIST "9.0")
find_package(Torch REQUIRED)
set(CMAKE_CUDA_ARCHITECTURES "${_tvx_cuda_archs}")
set(CMAKE_CUDA_FLAGS "${_tvx_cuda_flags}")
message(STATUS "tvx: LibTorch ${TVX_TORCH_VERSION} from ${_torch_prefix}")
if(TVX_CUDA)
  message(STATUS "tvx: CUDA architectures ${CMAKE_CUDA_ARCHITECTURES}")
endif()

# CUDA 13 moved thrust/cub/libcu++ under include/cccl; nvcc adds that path itself, host
# compilers need it spelled out.
if(TVX_CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(TVX_CCCL_INCLUDE_DIR "")
  foreach(_dir IN LISTS CUDAToolkit_INCLUDE_DIRS)
    if(EXISTS "${_dir}/cccl/cub/cub.cuh")
      set(TVX_CCCL_INCLUDE_DIR "${_dir}/cccl")
    endif()
  endforeach()
endif()
