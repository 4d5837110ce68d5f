// Meta kernels of deform_conv2d: output shapes and dtypes from the arguments alone, with
// symbolic sizes kept, so torch.compile and torch.export trace the op.
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>

#include "core/registration.h"

namespace tvx::ops::deform_conv {
namespace {

using c10::SymInt;

at::Tensor forward_meta(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                        const at::Tensor& mask, const at::Tensor& bias, SymInt stride_h, SymInt stride_w, SymInt pad_h,
                        SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, SymInt offset_groups,
                        bool use_mask) {
  TORCH_CHECK(input.dim() == 4 && weight.dim() == 4 && offset.dim() == 4, "tvx.deform_conv2d: input, weight and "
              "offset must have 4 dimensions, got ", input.dim(), ", ", weight.dim(), " and ", offset.dim());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()), "tvx.deform_conv2d: input must be floating point");
  const SymInt one = 1, two = 2;
  const SymInt out_h = (input.sym_size(2) + two * pad_h - (dilation_h * (weight.sym_size(2) - one) + one)) / stride_h + one;
  const SymInt out_w = (input.sym_size(3) + two * pad_w - (dilation_w * (weight.sym_size(3) - one) + one)) / stride_w + one;
  return at::empty_symint({input.sym_size(0), weight.sym_size(0), out_h, out_w}, input.options());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> backward_meta(
    const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
    const at::Tensor& mask, const at::Tensor& bias, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt,
    bool) {
  return {at::empty_like(input), at::empty_like(weight), at::empty_like(offset), at::empty_like(mask),
          at::empty_like(bias)};
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) {
  m.impl("deform_conv2d", &forward_meta);
  m.impl("_deform_conv2d_backward", &backward_meta);
}

}  // namespace tvx::ops::deform_conv
