// tvx::cpu_features(): the C-level detection of cpu_guard.cpp as C++ values.
#include <tvx/core.h>

#include "core/cpu_guard.h"

namespace tvx {

CpuFeatures cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__)
  f.arch = "x86_64";
#elif defined(__aarch64__)
  f.arch = "aarch64";
#else
  f.arch = "unknown";
#endif
  const char* names[kTvxMaxCpuExtensions];
  const int n = tvx_cpu_extensions(names, kTvxMaxCpuExtensions);
  f.extensions.assign(names, names + n);
  return f;
}

}  // namespace tvx
