// Run-time CPU feature detection: CPUID (through the compiler's builtins) on x86-64,
// the kernel's HWCAP words on aarch64. This file is compiled without the variant's baseline
// flags: its load-time guard must run on any CPU of the platform, to refuse one below the
// baseline with a message instead of an illegal instruction.
#include <tvx/core.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace tvx {

CpuFeatures cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__)
  f.arch = "x86_64";
  __builtin_cpu_init();
  struct Ext { const char* name; bool present; };
  const Ext exts[] = {
      {"sse4.2", __builtin_cpu_supports("sse4.2") != 0},
      {"avx", __builtin_cpu_supports("avx") != 0},
      {"avx2", __builtin_cpu_supports("avx2") != 0},
      {"fma", __builtin_cpu_supports("fma") != 0},
      {"f16c", __builtin_cpu_supports("f16c") != 0},
      {"avx512f", __builtin_cpu_supports("avx512f") != 0},
      {"avx512dq", __builtin_cpu_supports("avx512dq") != 0},
      {"avx512bw", __builtin_cpu_supports("avx512bw") != 0},
      {"avx512vl", __builtin_cpu_supports("avx512vl") != 0},
      {"avx512vnni", __builtin_cpu_supports("avx512vnni") != 0},
      {"avx512bf16", __builtin_cpu_supports("avx512bf16") != 0},
      {"amx-tile", __builtin_cpu_supports("amx-tile") != 0},
  };
  for (const auto& e : exts)
    if (e.present) f.extensions.emplace_back(e.name);
#elif defined(__aarch64__)
  f.arch = "aarch64";
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  struct Ext { const char* name; bool present; };
  const Ext exts[] = {
      {"asimd", (hw & HWCAP_ASIMD) != 0},
      {"fphp", (hw & HWCAP_FPHP) != 0},
      {"asimdhp", (hw & HWCAP_ASIMDHP) != 0},
      {"asimddp", (hw & HWCAP_ASIMDDP) != 0},
      {"sve", (hw & HWCAP_SVE) != 0},
      {"sve2", (hw2 & HWCAP2_SVE2) != 0},
      {"bf16", (hw2 & HWCAP2_BF16) != 0},
      {"i8mm", (hw2 & HWCAP2_I8MM) != 0},
  };
  for (const auto& e : exts)
    if (e.present) f.extensions.emplace_back(e.name);
#else
  f.arch = "unknown";
#endif
  // TVX_CPU_DISABLE="avx512f sve2": treat these extensions as absent (to exercise the
  // fallback tiers and the baseline guard on a bigger CPU). It can only take away.
  if (const char* off = std::getenv("TVX_CPU_DISABLE")) {
    std::istringstream names(off);
    for (std::string name; names >> name;)
      f.extensions.erase(std::remove(f.extensions.begin(), f.extensions.end(), name), f.extensions.end());
  }
  return f;
}

namespace {

// Runs before libtvx's other static initialisers (which may use the baseline's instructions).
__attribute__((constructor(101))) void refuse_cpus_below_baseline() {
  const auto have = cpu_features().extensions;
  std::string missing;
  std::istringstream need(TVX_BASELINE_REQUIRES);
  for (std::string ext; need >> ext;)
    if (std::find(have.begin(), have.end(), ext) == have.end()) missing += " " + ext;
  if (!missing.empty()) {
    std::fprintf(stderr,
                 "tvx: libtvx (variant %s) needs a CPU with the %s tier (%s); this CPU lacks:%s. "
                 "Use a variant built for this CPU.\n",
                 TVX_VARIANT, TVX_BASELINE_TIER, TVX_BASELINE_REQUIRES, missing.c_str());
    std::abort();
  }
}

}  // namespace
}  // namespace tvx
