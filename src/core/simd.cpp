// Tier bookkeeping for Highway's dynamic dispatch (see core/simd.h). At load, after the
// baseline guard, Highway is told to skip the targets of tiers whose CPU extensions are
// missing, which only happens when TVX_CPU_DISABLE takes them away: that is how tests force
// a lower tier on a bigger CPU.
#include "core/simd.h"

#include <tvx/core.h>

#include "tvx_simd_config.h"  // generated: TVX_SIMD_TIER_LIST(X), X(name, requirements, HWY target) lowest first

#include <hwy/highway.h>
#include <hwy/targets.h>

#include <algorithm>
#include <sstream>

namespace tvx::core::simd {
namespace {

std::vector<std::string> words(const char* s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool runs_here(const Tier& t, const std::vector<std::string>& cpu) {
  return std::all_of(t.requires_.begin(), t.requires_.end(),
                     [&](const std::string& r) { return std::find(cpu.begin(), cpu.end(), r) != cpu.end(); });
}

// Highway targets no usable tier stands for: Highway must not pick them.
std::int64_t targets_to_disable() {
  const auto cpu = cpu_features().extensions;
  std::int64_t allowed = 0;
  for (const auto& t : compiled_tiers())
    if (runs_here(t, cpu)) allowed |= t.highway_target;
  return compiled_targets() & ~allowed;
}

const bool applied = [] {
  if (const std::int64_t off = targets_to_disable()) hwy::DisableTargets(off);
  return true;
}();

}  // namespace

const std::vector<Tier>& compiled_tiers() {
  static const std::vector<Tier> tiers = [] {
    std::vector<Tier> t;
#define TVX_LIST_TIER(name, requirements, target) \
  t.push_back({#name, static_cast<int>(t.size()), words(requirements), target, hwy::TargetName(target)});
    TVX_SIMD_TIER_LIST(TVX_LIST_TIER)
#undef TVX_LIST_TIER
    return t;
  }();
  return tiers;
}

std::int64_t compiled_targets() {
  std::int64_t mask = 0;
  for (const auto& t : compiled_tiers()) mask |= t.highway_target;
  return mask;
}

const Tier& active_tier() {
  // Highway's choice: the best (lowest bit) compiled target the CPU supports.
  const std::int64_t usable = hwy::SupportedTargets() & HWY_TARGETS & compiled_targets();
  const std::int64_t best = usable & -usable;
  const auto cpu = cpu_features().extensions;
  const auto& tiers = compiled_tiers();
  // Tiers that share a Highway target (neon and armv8_2 both run NEON code): the highest
  // one this CPU meets names it.
  for (auto it = tiers.rbegin(); it != tiers.rend(); ++it)
    if (it->highway_target == best && runs_here(*it, cpu)) return *it;
  for (auto it = tiers.rbegin(); it != tiers.rend(); ++it)
    if (it->highway_target == best) return *it;
  return tiers.front();  // the load-time guard already refused CPUs below the baseline
}

}  // namespace tvx::core::simd

namespace tvx {

SimdTiers simd_tiers() {
  const auto& active = core::simd::active_tier();
  SimdTiers t{core::simd::compiled_tiers().front().name, {}, active.name, active.highway_name};
  for (const auto& tier : core::simd::compiled_tiers()) t.compiled.push_back(tier.name);
  return t;
}

}  // namespace tvx
