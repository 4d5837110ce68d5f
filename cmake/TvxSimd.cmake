# CPU SIMD tiers: the platform's tiers from its lowest (the baseline, compiled into all of
# libtvx) up to TVX_CPU_ISA (the highest tier compiled for the dispatching kernels).
include(${CMAKE_CURRENT_LIST_DIR}/variants.cmake)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_platform_tiers ${TVX_TIERS_x86_64})
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(_platform_tiers ${TVX_TIERS_aarch64})
else()
  message(FATAL_ERROR "tvx: no SIMD tiers for processor ${CMAKE_SYSTEM_PROCESSOR}")
endif()
if(NOT TVX_CPU_ISA)
  list(GET _platform_tiers -1 TVX_CPU_ISA)
endif()
list(FIND _platform_tiers ${TVX_CPU_ISA} _top)
if(_top LESS 0)
  message(FATAL_ERROR "tvx: TVX_CPU_ISA=${TVX_CPU_ISA} is not a tier of ${CMAKE_SYSTEM_PROCESSOR} (${_platform_tiers})")
endif()
list(SUBLIST _platform_tiers 0 ${_top} TVX_SIMD_TIERS)
list(APPEND TVX_SIMD_TIERS ${TVX_CPU_ISA})
list(GET TVX_SIMD_TIERS 0 TVX_BASELINE_TIER)
set(TVX_BASELINE_FLAGS ${TVX_TIER_${TVX_BASELINE_TIER}_FLAGS})
message(STATUS "tvx: CPU ISA ${TVX_CPU_ISA}, SIMD tiers ${TVX_SIMD_TIERS}, baseline ${TVX_BASELINE_TIER}")

# tvx_simd_kernels(<target> <source>...): compiles the sources once per tier into <target>.
function(tvx_simd_kernels target)
  set(rank 0)
  foreach(tier IN LISTS TVX_SIMD_TIERS)
    add_library(${target}_simd_${tier} OBJECT ${ARGN})
    target_include_directories(${target}_simd_${tier} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)
    target_compile_options(${target}_simd_${tier} PRIVATE ${TVX_TIER_${tier}_FLAGS} -O3)
    target_compile_definitions(${target}_simd_${tier} PRIVATE
      TVX_SIMD_TIER=${tier} TVX_SIMD_TIER_NAME="${tier}" TVX_SIMD_RANK=${rank}
      TVX_SIMD_REQUIRES="${TVX_TIER_${tier}_REQUIRES}")
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:${target}_simd_${tier}>)
    math(EXPR rank "${rank} + 1")
  endforeach()
endfunction()
