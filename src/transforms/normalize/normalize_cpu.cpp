// normalize on the CPU: a Highway kernel, one source for every SIMD tier, over each
// H x W plane of a contiguous float32 tensor: read 4 and write 4 bytes per value, in place
// or not (the kernel reads a vector before it writes it, so in and out may be one buffer).
// Other dtypes and layouts take ATen's elementwise ops, which are torchvision's formula.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "transforms/normalize/normalize_cpu.cpp"
#include "core/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tvx::transforms::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[i] = (in[i] - mean) / std: subtract, then divide, as torchvision. `in` may equal `out`.
void NormalizePlane(const float* in, float* out, std::int64_t n, float mean, float std) {
  const hn::ScalableTag<float> df;
  const auto m = hn::Set(df, mean), s = hn::Set(df, std);
  const std::int64_t lanes = hn::Lanes(df);
  std::int64_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(hn::Div(hn::Sub(hn::LoadU(df, in + i), m), s), df, out + i);
  for (; i < n; ++i) out[i] = (in[i] - mean) / std;
}

}  // namespace tvx::transforms::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <ATen/Parallel.h>
#include <ATen/ops/empty_like.h>

#include <algorithm>

#include "core/registration.h"
#include "transforms/normalize/normalize.h"

namespace tvx::transforms {
namespace {

HWY_EXPORT(NormalizePlane);

// Contiguous float32 through the SIMD kernel (out may be tensor); anything else by ATen.
void normalize_into(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                    const at::Tensor& out) {
  if (tensor.scalar_type() != at::kFloat || !tensor.is_contiguous()) {
    detail::normalize_aten(tensor, mean, std, out);
    return;
  }
  const std::int64_t c = tensor.size(-3), plane = tensor.size(-1) * tensor.size(-2);
  const std::int64_t planes = plane ? tensor.numel() / plane : 0;
  const auto mv = detail::per_channel(mean, at::kFloat, c), sv = detail::per_channel(std, at::kFloat, c);
  const float* in = tensor.const_data_ptr<float>();
  float* o = out.mutable_data_ptr<float>();
  at::parallel_for(0, planes, std::max<std::int64_t>(1, (1 << 16) / std::max<std::int64_t>(plane, 1)),
                   [&](std::int64_t b, std::int64_t e) {
                     for (std::int64_t p = b; p < e; ++p) {
                       const std::int64_t ch = p % c;
                       HWY_DYNAMIC_DISPATCH(NormalizePlane)(in + p * plane, o + p * plane, plane, float(mv[ch]),
                                                            float(sv[ch]));
                     }
                   });
}

at::Tensor normalize_cpu(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  detail::check_normalize_args("tvx.normalize", tensor, mean, std);
  at::Tensor out = at::empty_like(tensor);
  normalize_into(tensor, mean, std, out);
  return out;
}

void normalize_inplace_cpu(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  detail::check_normalize_args("tvx.normalize_", tensor, mean, std);
  normalize_into(tensor, mean, std, tensor);
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) {
  m.impl("normalize", &normalize_cpu);
  m.impl("normalize_", &normalize_inplace_cpu);
}

}  // namespace tvx::transforms
#endif  // HWY_ONCE
