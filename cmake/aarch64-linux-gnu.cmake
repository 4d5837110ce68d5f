# Cross toolchain for aarch64 rows of the variant check (Debian's g++-aarch64-linux-gnu).
# Only compilation is checked: try-compiles build static libraries, so no aarch64 LibTorch,
# CUDA runtime or Highway library is needed to link.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
