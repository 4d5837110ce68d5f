// C-level CPU extension detection, free of the C++ library (see cpu_guard.cpp).
#pragma once

/// Upper bound on the extensions tvx detects on any platform.
inline constexpr int kTvxMaxCpuExtensions = 32;

/// Writes the names (static strings) of this CPU's extensions that tvx knows, less those
/// named in TVX_CPU_DISABLE, into names[0, capacity); returns how many.
extern "C" int tvx_cpu_extensions(const char** names, int capacity);
