// The SIMD kernel tables. This file is compiled once per tier (CMake sets TVX_SIMD_TIER,
// TVX_SIMD_RANK, TVX_SIMD_REQUIRES and the tier's flags); the loops are written for the
// compiler's vectoriser: unit stride, no aliasing, no calls. Each moves n inputs and n outputs.
#include "core/simd.h"

#include <sstream>

#ifndef TVX_SIMD_TIER
#error "compile simd_kernels.cpp through tvx_simd_kernels() in src/CMakeLists.txt"
#endif

namespace tvx::core::simd::TVX_SIMD_TIER {
namespace {

void u8_to_unit_float(const std::uint8_t* __restrict in, float* __restrict out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
}

void normalize(const float* __restrict in, float* __restrict out, std::int64_t n, float mean, float std) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = (in[i] - mean) / std;
}

const Kernels table{&u8_to_unit_float, &normalize};

struct Registrar {
  Registrar() {
    std::vector<std::string> req;
    std::istringstream words(TVX_SIMD_REQUIRES);
    for (std::string w; words >> w;) req.push_back(w);
    register_tier({TVX_SIMD_TIER_NAME, TVX_SIMD_RANK, std::move(req), &table});
  }
} registrar;

}  // namespace
}  // namespace tvx::core::simd::TVX_SIMD_TIER
