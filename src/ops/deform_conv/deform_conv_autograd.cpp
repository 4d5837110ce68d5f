// Autograd of deform_conv2d, in C++: a LibTorch program trains through it with no Python
// (torchvision 0.26 registers its autograd from Python only). The forward saves its tensor
// arguments; the backward is _deform_conv2d_backward, dispatched like any op, which has no
// gradient of its own: double backward is an error that says so.
#include <torch/autograd.h>

#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops::deform_conv {
namespace {

using c10::SymInt;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using ForwardSig = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                              const at::Tensor&, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, bool);
using BackwardSig = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
    SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, bool);

constexpr const char* kInts[] = {"stride_h", "stride_w", "pad_h", "pad_w", "dilation_h", "dilation_w", "groups",
                                 "offset_groups"};

class DeformConv2dFunction : public torch::autograd::Function<DeformConv2dFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                            const at::Tensor& offset, const at::Tensor& mask, const at::Tensor& bias, SymInt stride_h,
                            SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, SymInt dilation_w,
                            SymInt groups, SymInt offset_groups, bool use_mask) {
    at::Tensor out;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      out = core::call_op<"tvx::deform_conv2d", ForwardSig>(input, weight, offset, mask, bias, stride_h, stride_w,
                                                             pad_h, pad_w, dilation_h, dilation_w, groups,
                                                             offset_groups, use_mask);
    }
    ctx->save_for_backward({input, weight, offset, mask, bias});
    const SymInt ints[] = {stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups, offset_groups};
    for (int i = 0; i < 8; ++i) ctx->saved_data[kInts[i]] = ints[i];
    ctx->saved_data["use_mask"] = use_mask;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    auto i = [&](int k) { return ctx->saved_data[kInts[k]].toSymInt(); };
    const bool use_mask = ctx->saved_data["use_mask"].toBool();
    auto [gi, gw, goff, gm, gb] = core::call_op<"tvx::_deform_conv2d_backward", BackwardSig>(
        grads[0], s[0], s[1], s[2], s[3], s[4], i(0), i(1), i(2), i(3), i(4), i(5), i(6), i(7), use_mask);
    return {gi, gw, goff, use_mask ? gm : at::Tensor(), gb, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  }
};

at::Tensor deform_conv2d_autograd(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                                  const at::Tensor& mask, const at::Tensor& bias, SymInt stride_h, SymInt stride_w,
                                  SymInt pad_h, SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups,
                                  SymInt offset_groups, bool use_mask) {
  return DeformConv2dFunction::apply(input, weight, offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dilation_h,
                                     dilation_w, groups, offset_groups, use_mask);
}

}  // namespace

TVX_LIBRARY_IMPL(Autograd, m) {
  m.impl("deform_conv2d", &deform_conv2d_autograd);
  // Every tensor argument: the gradient is a function of input, weight, offset and mask too.
  m.impl("_deform_conv2d_backward",
         &core::NoDoubleBackward<"tvx::_deform_conv2d_backward", BackwardSig, /*AllTensors=*/true>::call);
}

}  // namespace tvx::ops::deform_conv
