// CPU SIMD dispatch, the one mechanism every CPU kernel uses: a kernel source is compiled
// once per SIMD tier of the build variant (variants.toml), each copy with that tier's flags
// and in namespace tvx::core::simd::<tier>; at load each copy registers its table, and
// kernels() hands out the highest tier this CPU supports (CPUID / HWCAP).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tvx::core::simd {

/// Plain loops the compiler vectorises for each tier.
struct Kernels {
  /// out[i] = in[i] / 255
  void (*u8_to_unit_float)(const std::uint8_t* in, float* out, std::int64_t n);
  /// out[i] = (in[i] - mean) / std, evaluated as torchvision does (subtract, then divide)
  void (*normalize)(const float* in, float* out, std::int64_t n, float mean, float std);
};

struct Tier {
  std::string name;                   ///< "avx2", "avx512", "neon", "armv8_2", "armv9"
  int rank = 0;                       ///< position among the platform's tiers, 0 = baseline
  std::vector<std::string> requires_; ///< CPU extensions it needs (names of tvx::cpu_features)
  const Kernels* kernels = nullptr;
};

/// Called by each compiled tier at load.
void register_tier(Tier tier);
/// Tiers compiled into this build, lowest first.
std::vector<Tier> compiled_tiers();
/// The tier kernels() uses on this CPU.
const Tier& active_tier();
/// The kernels of the active tier.
const Kernels& kernels();

}  // namespace tvx::core::simd
