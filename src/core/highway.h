// Include this, not Highway's headers, in a kernel file: it sets the Highway targets of
// the build variant first. The kernel-file pattern (see transforms/normalize/normalize_cpu.cpp):
//
//   #undef HWY_TARGET_INCLUDE
//   #define HWY_TARGET_INCLUDE "transforms/normalize/normalize_cpu.cpp"  // this file
//   #include "core/highway.h"
//   HWY_BEFORE_NAMESPACE();
//   namespace tvx::<layer>::HWY_NAMESPACE { ...kernels, written once... }
//   HWY_AFTER_NAMESPACE();
//   #if HWY_ONCE
//   HWY_EXPORT(Kernel); ... HWY_DYNAMIC_DISPATCH(Kernel)(args) ...
//   #endif
//
// No include guard: Highway re-includes the kernel file, and with it this header, once
// per target.
#include "tvx_simd_config.h"  // generated: HWY_DISABLED_TARGETS and the tier list

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
