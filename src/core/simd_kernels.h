// The table of CPU SIMD kernels, one per compiled tier (see core/simd.h). This header is
// all a tier's translation unit includes: nothing in it may emit code that runs outside the
// kernels, since that code would carry the tier's instructions.
#pragma once

#include <cstdint>

namespace tvx::core::simd {

/// Plain loops the compiler vectorises for each tier.
struct Kernels {
  /// out[i] = in[i] / 255
  void (*u8_to_unit_float)(const std::uint8_t* in, float* out, std::int64_t n);
  /// out[i] = (in[i] - mean) / std, evaluated as torchvision does (subtract, then divide)
  void (*normalize)(const float* in, float* out, std::int64_t n, float mean, float std);
};

}  // namespace tvx::core::simd
