// CUDA runtime, driver and device facts, asked of the CUDA runtime directly so that a
// missing driver is reported rather than thrown.
#include <tvx/core.h>

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#ifdef TVX_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace tvx {

CudaInfo cuda_info() {
  CudaInfo info;
#ifdef TVX_WITH_CUDA
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
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
