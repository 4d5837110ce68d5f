// Meta kernels of deform_conv2d: output shapes and dtypes from the arguments alone, with
// symbolic sizes kept, so torch.compile and torch.export trace the op.
#include <ATen/ops/empty.h>

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
  // The output's size is the offset's (the kernel checks that it matches the convolution's).
  return at::empty_symint({input.sym_size(0), weight.sym_size(0), offset.sym_size(2), offset.sym_size(3)},
                          input.options());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> backward_meta(
    const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
    const at::Tensor& mask, const at::Tensor& bias, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt,
    bool) {
  // As the kernels return them: the input's gradient in the input's memory format, the
  // others contiguous.
  return {at::empty_symint(input.sym_sizes(), input.options().memory_format(input.suggest_memory_format())),
          at::empty_symint(weight.sym_sizes(), weight.options()), at::empty_symint(offset.sym_sizes(), offset.options()),
          at::empty_symint(mask.sym_sizes(), mask.options()), at::empty_symint(bias.sym_sizes(), bias.options())};
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) {
  m.impl("deform_conv2d", &forward_meta);
  m.impl("_deform_conv2d_backward", &backward_meta);
}

}  // namespace tvx::ops::deform_conv
