// tvx core: version and build facts, CPU features, CUDA devices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tvx {

/// tvx's version, e.g. "0.1.0".
std::string version();
/// The build variant: a row name of the variants table, or "dev".
std::string variant();
/// The variant's CPU ISA: the highest SIMD tier compiled, e.g. "avx512".
std::string cpu_isa();
/// That tier's compiler flags, e.g. "-mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma".
std::string cpu_flags();

struct SimdTiers {
  std::string baseline;               ///< the tier all of libtvx is compiled for
  std::vector<std::string> compiled;  ///< tiers the CPU kernels were compiled for, lowest first
  std::string active;                 ///< the one they use on this CPU
  std::string highway_target;         ///< the Highway target that tier's code is ("AVX3")
};
/// CPU SIMD tiers of this build and the one chosen at run time.
SimdTiers simd_tiers();
/// The oldest NVIDIA driver the build variant supports, e.g. "580.65.06" ("" for none).
std::string min_driver();
/// Compares dotted driver versions numerically: <0, 0 or >0 as a is older, equal or newer.
int compare_driver_versions(const std::string& a, const std::string& b);
/// How many threads tvx's CPU kernels (at::parallel_for) run on at most, measured by
/// running one: at::get_num_threads() when libtvx's parallel loops work, 1 if they do not.
int cpu_kernel_threads();
/// The LibTorch version tvx was compiled against, e.g. "2.11.0+cu130".
std::string torch_version();
/// Whether libtvx holds CUDA kernels at all.
bool built_with_cuda();

/// One GPU code image found in libtvx's fat binary.
struct CudaImage {
  int arch = 0;          ///< compute capability as major*10+minor, e.g. 90, 121
  bool ptx = false;      ///< PTX (JIT-compiled by the driver) rather than SASS
  char suffix = '\0';    ///< 'a' (arch-specific) or 'f' (family-specific) variants
  std::string name() const;  ///< "sm_90", "sm_90a", "compute_121"
};

/// The GPU code images compiled into libtvx, read back from its own .nv_fatbin section
/// (so it tells what the binary holds, not what the build meant to put there). Sorted,
/// without duplicates; empty for a CPU-only build.
std::vector<CudaImage> compiled_cuda_images();

/// How a device of compute capability major.minor is served by a set of images.
enum class Coverage { sass, ptx, none };
Coverage coverage(const std::vector<CudaImage>& images, int major, int minor);
const char* to_string(Coverage c);

struct CpuFeatures {
  std::string arch;                     ///< "x86_64", "aarch64"
  std::vector<std::string> extensions;  ///< detected at run time: "avx2", "avx512f", "sve2", ...
};
/// SIMD extensions of the CPU this process runs on (CPUID on x86, HWCAP on ARM).
CpuFeatures cpu_features();

struct GpuInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  int multiprocessors = 0;
  std::uint64_t memory_bytes = 0;
};

struct CudaInfo {
  bool available = false;     ///< a driver and at least one device answered
  int runtime_version = 0;    ///< e.g. 13000
  int driver_version = 0;     ///< highest CUDA version the driver supports, e.g. 13000
  std::string driver_release; ///< the NVIDIA driver's own version, e.g. "580.65.06" ("" if unknown)
  long cudnn_version = 0;     ///< as reported by LibTorch, 0 when absent
  std::vector<GpuInfo> gpus;
  std::string error;          ///< why CUDA is unavailable, when it is
};
/// CUDA runtime, driver and devices as this process sees them.
CudaInfo cuda_info();

/// "13.0" from 13000.
std::string cuda_version_string(int version);

}  // namespace tvx

namespace tvx {
/// Registers every tvx operator (schemas and kernels) again under namespace `ns`, so that
/// torch.ops.<ns>.nms and friends call tvx's kernels. The "tvx" namespace is always
/// registered when libtvx loads. Throws if `ns` was registered already.
void register_operators(const std::string& ns);
}  // namespace tvx
