#include "core/simd.h"

#include <tvx/core.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "tvx_simd_tiers.h"  // generated: TVX_SIMD_TIER_LIST(X), X(name, requirements) lowest first

namespace tvx::core::simd {

#define TVX_DECLARE_TIER(name, requirements) \
  namespace name {                           \
  extern const Kernels table;                \
  }
TVX_SIMD_TIER_LIST(TVX_DECLARE_TIER)
#undef TVX_DECLARE_TIER

namespace {

std::vector<std::string> words(const char* s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool supported(const Tier& t, const std::vector<std::string>& cpu) {
  return std::all_of(t.requires_.begin(), t.requires_.end(),
                     [&](const std::string& r) { return std::find(cpu.begin(), cpu.end(), r) != cpu.end(); });
}

}  // namespace

const std::vector<Tier>& compiled_tiers() {
  static const std::vector<Tier> tiers = [] {
    std::vector<Tier> t;
#define TVX_LIST_TIER(name, requirements) \
  t.push_back({#name, static_cast<int>(t.size()), words(requirements), &name::table});
    TVX_SIMD_TIER_LIST(TVX_LIST_TIER)
#undef TVX_LIST_TIER
    return t;
  }();
  return tiers;
}

const Tier& active_tier() {
  static const Tier* active = [] {
    const auto cpu = cpu_features().extensions;
    const Tier* best = nullptr;
    for (const auto& t : compiled_tiers())
      if (supported(t, cpu)) best = &t;
    // The load-time guard (cpu_features.cpp) already refused CPUs below the baseline tier.
    if (!best) throw std::runtime_error("tvx: no compiled SIMD tier runs on this CPU");
    return best;
  }();
  return *active;
}

const Kernels& kernels() { return *active_tier().kernels; }

}  // namespace tvx::core::simd

namespace tvx {

SimdTiers simd_tiers() {
  SimdTiers t{TVX_BASELINE_TIER, {}, core::simd::active_tier().name};
  for (const auto& tier : core::simd::compiled_tiers()) t.compiled.push_back(tier.name);
  return t;
}

}  // namespace tvx
