// to_tensor on CUDA: one thread per output value, reading the image through its strides
// (HWC, CHW or any view: no copy first). Writes are coalesced; reads of an HWC image step
// C bytes between neighbours, which the cache lines absorb. Moves 1 + 4 bytes per value.
#include "transforms/to_tensor/to_tensor.h"

#include <ATen/ops/empty.h>

#include "core/cuda.cuh"
#include "core/registration.h"

namespace tvx::transforms {
namespace {

__global__ void to_tensor_kernel(const std::uint8_t* __restrict__ in, float* __restrict__ out, std::int64_t total,
                                 std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t sn, std::int64_t sc,
                                 std::int64_t sh, std::int64_t sw) {
  for (const std::int64_t i : core::cuda::grid_stride(total)) {
    const std::int64_t x = i % w, y = (i / w) % h, ch = (i / (w * h)) % c, img = i / (w * h * c);
    out[i] = static_cast<float>(in[img * sn + ch * sc + y * sh + x * sw]) / 255.0f;
  }
}

at::Tensor to_tensor_cuda(const at::Tensor& image, c10::string_view layout) {
  const auto v = detail::to_tensor_view(image, layout);
  const core::cuda::DeviceGuard guard(image);
  at::Tensor out = at::empty(v.out_sizes, image.options().dtype(at::kFloat));
  const std::int64_t total = out.numel();
  if (total == 0) return out;
  constexpr int kThreads = 256;
  core::cuda::launch(to_tensor_kernel, core::cuda::blocks_for(total, kThreads), kThreads, 0,
                     image.const_data_ptr<std::uint8_t>(), out.mutable_data_ptr<float>(), total, v.c, v.h, v.w, v.sn,
                     v.sc, v.sh, v.sw);
  return out;
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { m.impl("to_tensor", &to_tensor_cuda); }

}  // namespace tvx::transforms
