// What every CUDA kernel file of tvx uses: the current stream, a device guard, 64-bit
// grid-stride loops, ceil_div, launch sizes, and a launch that is always checked.
// Include only from .cu files.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContextLight.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <cstdint>

namespace tvx::core::cuda {

/// The stream every tvx kernel runs on: the caller's current stream on the current device.
inline cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream(); }

/// Makes `t`'s device current for the scope: DeviceGuard guard(t);
struct DeviceGuard : c10::cuda::CUDAGuard {
  explicit DeviceGuard(const at::Tensor& t) : c10::cuda::CUDAGuard(t.device()) {}
};

template <typename T>
constexpr C10_HOST_DEVICE T ceil_div(T a, T b) {
  return (a + b - 1) / b;
}

/// Blocks for n elements at `threads` per block, capped so a grid-stride loop takes over
/// beyond about `waves` full waves of the device.
inline unsigned blocks_for(std::int64_t n, int threads, int waves = 8) {
  const auto* props = at::cuda::getCurrentDeviceProperties();
  const std::int64_t cap = std::int64_t(props->multiProcessorCount) *
                           (props->maxThreadsPerMultiProcessor / threads) * waves;
  return static_cast<unsigned>(std::clamp<std::int64_t>(ceil_div<std::int64_t>(n, threads), 1, cap));
}

/// for (std::int64_t i : grid_stride(n)): each thread's indices of [0, n), 64-bit.
struct GridStride {
  struct Iterator {
    std::int64_t i, step;
    __device__ std::int64_t operator*() const { return i; }
    __device__ Iterator& operator++() {
      i += step;
      return *this;
    }
    __device__ bool operator!=(std::int64_t end) const { return i < end; }
  };
  std::int64_t n;
  __device__ Iterator begin() const {
    return {std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x, std::int64_t(blockDim.x) * gridDim.x};
  }
  __device__ std::int64_t end() const { return n; }
};
__device__ inline GridStride grid_stride(std::int64_t n) { return {n}; }

/// kernel<<<grid, block, shared_bytes, current stream>>>(args...), then the launch check.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, Args&&... args) {
  kernel<<<grid, block, shared_bytes, stream()>>>(std::forward<Args>(args)...);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace tvx::core::cuda
