// normalize / normalize_: schemas, shared checks and the C++ entry point.
// (tensor - mean[c]) / std[c] per channel, as torchvision.transforms.functional.normalize.
#include "transforms/normalize/normalize.h"

#include <tvx/transforms.h>

#include <ATen/ops/div.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/tensor.h>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::transforms {
namespace detail {

void check_normalize_args(const char* op, const at::Tensor& tensor, c10::ArrayRef<double> mean,
                          c10::ArrayRef<double> std) {
  core::check_floating(op, {"tensor", tensor});
  TORCH_CHECK(tensor.dim() >= 3, op, ": tensor must have shape [..., C, H, W], got ", tensor.sizes());
  const std::int64_t c = tensor.size(-3);
  TORCH_CHECK(mean.size() == 1 || std::int64_t(mean.size()) == c, op, ": mean must have 1 or ", c,
              " values (one per channel), got ", mean.size());
  TORCH_CHECK(std.size() == 1 || std::int64_t(std.size()) == c, op, ": std must have 1 or ", c,
              " values (one per channel), got ", std.size());
  for (double s : per_channel(std, tensor.scalar_type(), std::int64_t(std.size())))
    TORCH_CHECK(s != 0, op, ": std evaluated to zero after conversion to ", core::dtype_name(tensor.scalar_type()),
                ", leading to division by zero");
}

std::vector<double> per_channel(c10::ArrayRef<double> v, at::ScalarType dtype, std::int64_t channels) {
  std::vector<double> out(std::size_t(channels), 0.0);
  for (std::int64_t c = 0; c < channels; ++c) {
    const double x = v[v.size() == 1 ? 0 : std::size_t(c)];
    switch (dtype) {
      case at::kFloat: out[c] = static_cast<float>(x); break;
      case at::kHalf: out[c] = static_cast<float>(static_cast<c10::Half>(x)); break;
      case at::kBFloat16: out[c] = static_cast<float>(static_cast<c10::BFloat16>(x)); break;
      default: out[c] = x;
    }
  }
  return out;
}

at::Tensor channel_tensor(const at::Tensor& like, c10::ArrayRef<double> values) {
  const auto opts = like.options();
  return at::tensor(values, opts.dtype(at::kDouble)).to(opts).view({-1, 1, 1});
}

void normalize_aten(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                    const at::Tensor& out) {
  const at::Tensor m = channel_tensor(tensor, mean), s = channel_tensor(tensor, std);
  if (out.is_same(tensor)) {
    out.sub_(m).div_(s);
  } else {
    at::sub_out(const_cast<at::Tensor&>(out), tensor, m);
    out.div_(s);
  }
}

}  // namespace detail

TVX_LIBRARY(m) {
  m.def("normalize(Tensor tensor, float[] mean, float[] std) -> Tensor");
  m.def("normalize_(Tensor(a!) tensor, float[] mean, float[] std) -> ()");
}

at::Tensor normalize(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std, bool inplace) {
  using Sig = at::Tensor(const at::Tensor&, c10::ArrayRef<double>, c10::ArrayRef<double>);
  if (!inplace) return core::call_op<"tvx::normalize", Sig>(tensor, mean, std);
  core::call_op<"tvx::normalize_", void(const at::Tensor&, c10::ArrayRef<double>, c10::ArrayRef<double>)>(tensor, mean,
                                                                                                          std);
  return tensor;
}

}  // namespace tvx::transforms
