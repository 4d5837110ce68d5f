// The SIMD kernel table of one tier. This file is compiled once per tier (CMake sets
// TVX_SIMD_TIER and the tier's flags); the loops are written for the compiler's vectoriser:
// unit stride, no aliasing, no calls. Each moves n inputs and n outputs. The table is
// constant-initialised: no code of this file runs unless the tier is chosen.
#include "core/simd_kernels.h"

#ifndef TVX_SIMD_TIER
#error "compile simd_kernels.cpp through tvx_simd_kernels() in cmake/TvxSimd.cmake"
#endif

namespace tvx::core::simd::TVX_SIMD_TIER {
namespace {

void u8_to_unit_float(const std::uint8_t* __restrict in, float* __restrict out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
}

void normalize(const float* __restrict in, float* __restrict out, std::int64_t n, float mean, float std) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = (in[i] - mean) / std;
}

}  // namespace

extern const Kernels table{&u8_to_unit_float, &normalize};

}  // namespace tvx::core::simd::TVX_SIMD_TIER
