#include "core/simd.h"

#include <tvx/core.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace tvx::core::simd {
namespace {

std::vector<Tier>& tiers() {
  static std::vector<Tier> t;  // filled during static initialisation, read-only after
  return t;
}

bool supported(const Tier& t, const std::vector<std::string>& cpu) {
  return std::all_of(t.requires_.begin(), t.requires_.end(),
                     [&](const std::string& r) { return std::find(cpu.begin(), cpu.end(), r) != cpu.end(); });
}

}  // namespace

void register_tier(Tier tier) {
  auto& t = tiers();
  t.push_back(std::move(tier));
  std::sort(t.begin(), t.end(), [](const Tier& a, const Tier& b) { return a.rank < b.rank; });
}

std::vector<Tier> compiled_tiers() { return tiers(); }

const Tier& active_tier() {
  static const Tier* active = [] {
    const auto cpu = cpu_features().extensions;
    const Tier* best = nullptr;
    for (const auto& t : tiers())
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
