// normalize on CUDA: one thread per value of a contiguous tensor, in place or not; the
// per-channel constants travel in the kernel's parameters (no host-to-device copy, no
// sync). Each step is rounded to the tensor's dtype as ATen's sub-then-div rounds it.
// Moves 2 x sizeof(T) bytes per value. Other layouts take ATen's elementwise ops.
#include "transforms/normalize/normalize.h"

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty_like.h>

#include "core/cuda.cuh"
#include "core/registration.h"

namespace tvx::transforms {
namespace {

constexpr int kMaxChannels = 64;

template <typename Acc>
struct Constants {
  Acc mean[kMaxChannels], std[kMaxChannels];
};

template <typename T>
__global__ void normalize_kernel(const T* in, T* out, std::int64_t total, std::int64_t plane, std::int64_t channels,
                                 Constants<at::opmath_type<T>> k) {
  using Acc = at::opmath_type<T>;
  for (const std::int64_t i : core::cuda::grid_stride(total)) {
    const std::int64_t c = (i / plane) % channels;
    const T centred = static_cast<T>(static_cast<Acc>(in[i]) - k.mean[c]);
    out[i] = static_cast<T>(static_cast<Acc>(centred) / k.std[c]);
  }
}

void normalize_into(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                    const at::Tensor& out) {
  const std::int64_t c = tensor.size(-3), plane = tensor.size(-1) * tensor.size(-2), total = tensor.numel();
  if (!tensor.is_contiguous() || !out.is_contiguous() || c > kMaxChannels) {
    detail::normalize_aten(tensor, mean, std, out);
    return;
  }
  if (total == 0) return;
  const auto mv = detail::per_channel(mean, tensor.scalar_type(), c);
  const auto sv = detail::per_channel(std, tensor.scalar_type(), c);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, tensor.scalar_type(), "tvx_normalize_cuda", [&] {
    using Acc = at::opmath_type<scalar_t>;
    Constants<Acc> k{};
    for (std::int64_t i = 0; i < c; ++i) k.mean[i] = static_cast<Acc>(mv[i]), k.std[i] = static_cast<Acc>(sv[i]);
    constexpr int kThreads = 256;
    core::cuda::launch(normalize_kernel<scalar_t>, core::cuda::blocks_for(total, kThreads), kThreads, 0,
                       tensor.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), total, plane, c, k);
  });
}

at::Tensor normalize_cuda(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  detail::check_normalize_args("tvx.normalize", tensor, mean, std);
  const core::cuda::DeviceGuard guard(tensor);
  at::Tensor out = at::empty_like(tensor);
  normalize_into(tensor, mean, std, out);
  return out;
}

void normalize_inplace_cuda(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  detail::check_normalize_args("tvx.normalize_", tensor, mean, std);
  const core::cuda::DeviceGuard guard(tensor);
  normalize_into(tensor, mean, std, tensor);
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) {
  m.impl("normalize", &normalize_cuda);
  m.impl("normalize_", &normalize_inplace_cuda);
}

}  // namespace tvx::transforms
