// CPU extension detection and the load-time guard that refuses a CPU below the build's
// baseline tier. This file is compiled without the baseline flags and uses no C++ library
// and no code from other objects: only compiler builtins and libc (getenv, fprintf, abort).
// An inline function of the C++ library (a std::string destructor, say) could be emitted
// by an object compiled for a higher tier, and the linker may keep that copy; the guard
// would then die of SIGILL on the very CPU it exists to warn. tests/python/test_cli.py
// disassembles the guard to keep it that way.
#include "core/cpu_guard.h"

#include <cstdio>
#include <cstdlib>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace {

struct Ext {
  const char* name;
  bool present;
};

// The extensions tvx knows, as this CPU reports them. Always inlined: the guard must not
// call into functions other objects could provide.
[[gnu::always_inline]] inline int detect(Ext* out) {
  int n = 0;
#if defined(__x86_64__)
  __builtin_cpu_init();
  out[n++] = {"sse4.2", __builtin_cpu_supports("sse4.2") != 0};
  out[n++] = {"avx", __builtin_cpu_supports("avx") != 0};
  out[n++] = {"avx2", __builtin_cpu_supports("avx2") != 0};
  out[n++] = {"fma", __builtin_cpu_supports("fma") != 0};
  out[n++] = {"f16c", __builtin_cpu_supports("f16c") != 0};
  out[n++] = {"bmi", __builtin_cpu_supports("bmi") != 0};
  out[n++] = {"bmi2", __builtin_cpu_supports("bmi2") != 0};
  out[n++] = {"lzcnt", __builtin_cpu_supports("lzcnt") != 0};
  out[n++] = {"pclmul", __builtin_cpu_supports("pclmul") != 0};
  out[n++] = {"aes", __builtin_cpu_supports("aes") != 0};
  out[n++] = {"avx512f", __builtin_cpu_supports("avx512f") != 0};
  out[n++] = {"avx512dq", __builtin_cpu_supports("avx512dq") != 0};
  out[n++] = {"avx512bw", __builtin_cpu_supports("avx512bw") != 0};
  out[n++] = {"avx512vl", __builtin_cpu_supports("avx512vl") != 0};
  out[n++] = {"avx512vnni", __builtin_cpu_supports("avx512vnni") != 0};
  out[n++] = {"avx512bf16", __builtin_cpu_supports("avx512bf16") != 0};
  out[n++] = {"amx-tile", __builtin_cpu_supports("amx-tile") != 0};
#elif defined(__aarch64__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  out[n++] = {"asimd", (hw & HWCAP_ASIMD) != 0};
  out[n++] = {"aes", (hw & HWCAP_AES) != 0};
  out[n++] = {"fphp", (hw & HWCAP_FPHP) != 0};
  out[n++] = {"asimdhp", (hw & HWCAP_ASIMDHP) != 0};
  out[n++] = {"asimddp", (hw & HWCAP_ASIMDDP) != 0};
  out[n++] = {"sve", (hw & HWCAP_SVE) != 0};
  out[n++] = {"sve2", (hw2 & HWCAP2_SVE2) != 0};
  out[n++] = {"sveaes", (hw2 & HWCAP2_SVEAES) != 0};
  out[n++] = {"bf16", (hw2 & HWCAP2_BF16) != 0};
  out[n++] = {"i8mm", (hw2 & HWCAP2_I8MM) != 0};
#endif
  return n;
}

// Whether the space-separated `list` holds the word `name`.
[[gnu::always_inline]] inline bool has_word(const char* list, const char* name) {
  if (!list) return false;
  for (const char* p = list; *p;) {
    while (*p == ' ') ++p;
    const char* q = name;
    while (*p && *p != ' ' && *p == *q) ++p, ++q;
    if (*q == '\0' && (*p == ' ' || *p == '\0')) return true;
    while (*p && *p != ' ') ++p;
  }
  return false;
}

// Detected minus what TVX_CPU_DISABLE takes away (to test fallbacks on a bigger CPU).
[[gnu::always_inline]] inline int usable(Ext* out) {
  const int n = detect(out);
  const char* off = std::getenv("TVX_CPU_DISABLE");
  for (int i = 0; i < n; ++i)
    if (has_word(off, out[i].name)) out[i].present = false;
  return n;
}

}  // namespace

extern "C" int tvx_cpu_extensions(const char** names, int capacity) {
  Ext ext[kTvxMaxCpuExtensions];
  const int n = usable(ext);
  int k = 0;
  for (int i = 0; i < n; ++i)
    if (ext[i].present && k < capacity) names[k++] = ext[i].name;
  return k;
}

// Runs before every other static initialiser of libtvx (which may use the baseline's
// instructions): priority 101 is the first a program may use.
extern "C" [[gnu::constructor(101), gnu::visibility("hidden"), gnu::used]] void tvx_refuse_cpus_below_baseline() {
  Ext ext[kTvxMaxCpuExtensions];
  const int n = usable(ext);
  const char* need = TVX_BASELINE_REQUIRES;
  char missing[256];
  int len = 0;
  for (const char* p = need; *p;) {
    while (*p == ' ') ++p;
    const char* word = p;
    while (*p && *p != ' ') ++p;
    const int wlen = int(p - word);
    if (wlen == 0) break;
    bool have = false;
    for (int i = 0; i < n && !have; ++i) {
      const char* a = ext[i].name;
      int j = 0;
      while (j < wlen && a[j] == word[j]) ++j;
      have = ext[i].present && j == wlen && a[j] == '\0';
    }
    if (!have && len + wlen + 2 < int(sizeof missing)) {
      missing[len++] = ' ';
      for (int j = 0; j < wlen; ++j) missing[len++] = word[j];
    }
  }
  missing[len] = '\0';
  if (len > 0) {
    std::fprintf(stderr,
                 "tvx: libtvx (variant %s) needs a CPU with the %s tier (%s); this CPU lacks:%s. "
                 "Use a variant built for this CPU.\n",
                 TVX_VARIANT, TVX_BASELINE_TIER, TVX_BASELINE_REQUIRES, missing);
    std::abort();
  }
}
