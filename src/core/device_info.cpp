// CUDA runtime, driver and device facts, asked of the CUDA runtime directly so that a
// missing driver is reported rather than thrown.
#include <tvx/core.h>

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#ifdef TVX_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#include <dlfcn.h>

#include <fstream>
#include <sstream>

namespace tvx {
namespace {

// The driver's release ("580.65.06"): from NVML when the driver's libnvidia-ml is there,
// else from the kernel module's version file.
std::string nvidia_driver_release() {
  if (void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    using Init = int (*)();
    using GetVersion = int (*)(char*, unsigned);
    auto init = reinterpret_cast<Init>(dlsym(nvml, "nvmlInit_v2"));
    auto get = reinterpret_cast<GetVersion>(dlsym(nvml, "nvmlSystemGetDriverVersion"));
    auto shutdown = reinterpret_cast<Init>(dlsym(nvml, "nvmlShutdown"));
    std::string release;
    if (init && get && shutdown && init() == 0) {
      char buf[96] = {};
      if (get(buf, sizeof buf) == 0) release = buf;
      shutdown();
    }
    dlclose(nvml);
    if (!release.empty()) return release;
  }
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 ..."
  std::ifstream f("/proc/driver/nvidia/version");
  std::string line;
  if (std::getline(f, line)) {
    const auto at = line.find("Kernel Module");
    if (at != std::string::npos) {
      std::istringstream rest(line.substr(at + 13));
      std::string v;
      rest >> v;
      return v;
    }
  }
  return {};
}

}  // namespace

CudaInfo cuda_info() {
  CudaInfo info;
#ifdef TVX_WITH_CUDA
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
  info.driver_release = nvidia_driver_release();
  int count = 0;
  if (cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess) {
    info.error = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    info.gpus.push_back({i, p.name, p.major, p.minor, p.multiProcessorCount,
                         static_cast<std::uint64_t>(p.totalGlobalMem)});
  }
  info.available = !info.gpus.empty();
  if (!info.available) info.error = "no CUDA device found";
  if (at::globalContext().hasCuDNN()) info.cudnn_version = at::detail::getCUDAHooks().versionCuDNN();
#else
  info.error = "libtvx was built without CUDA";
#endif
  return info;
}

}  // namespace tvx
