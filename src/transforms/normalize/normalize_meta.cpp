// normalize's Meta kernels: same shape, dtype and strides as the input (symbolic sizes kept).
#include <ATen/ops/empty_like.h>

#include "core/registration.h"
#include "transforms/normalize/normalize.h"

namespace tvx::transforms {
namespace {

void check_meta(const char* op, const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  // The channel count may be symbolic; what needs no size is checked here, the rest by the kernels.
  TORCH_CHECK(at::isFloatingType(tensor.scalar_type()), op, ": tensor must be float32, float64, float16 or bfloat16");
  TORCH_CHECK(tensor.dim() >= 3, op, ": tensor must have shape [..., C, H, W], got ", tensor.dim(), " dimensions");
}

at::Tensor normalize_meta(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  check_meta("tvx.normalize", tensor, mean, std);
  return at::empty_like(tensor);
}

void normalize_inplace_meta(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  check_meta("tvx.normalize_", tensor, mean, std);
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) {
  m.impl("normalize", &normalize_meta);
  m.impl("normalize_", &normalize_inplace_meta);
}

}  // namespace tvx::transforms
