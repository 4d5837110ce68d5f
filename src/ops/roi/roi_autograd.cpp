// Autograd of the roi family, in C++: a LibTorch program trains through these ops with no
// Python (torchvision 0.26 registers its autograd from Python only). Each forward saves the
// RoIs (and roi_pool's argmax) and the input's sizes; its backward is the family's
// _*_backward operator, dispatched like any op. The backward operators have no gradient of
// their own: asking for one (double backward) is an error that says so.
// Gradients are not materialised: autograd would otherwise fill a zero gradient for the index
// output (argmax, channel map) on every backward (roi_pool's bench case: a 50 MB int32 fill,
// 12 us on an H200, and a host-side op). An undefined output gradient gives an undefined input
// gradient, as ATen's own ops do: where no path gives the input a gradient, x.grad stays None
// and torch.autograd.grad needs allow_unused=True.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>

#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops::roi {
namespace {

using c10::SymInt;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using RoiAlignSig = at::Tensor(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt, std::int64_t, bool);
using RoiAlignBackwardSig = at::Tensor(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt, SymInt, SymInt,
                                       SymInt, SymInt, std::int64_t, bool);
using PoolSig = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt);
using PoolBackwardSig = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, double, SymInt, SymInt,
                                   SymInt, SymInt, SymInt, SymInt);
using PsAlignSig = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt,
                                                      std::int64_t);
using PsAlignBackwardSig = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, double, SymInt, SymInt,
                                      std::int64_t, SymInt, SymInt, SymInt, SymInt);

void save_sizes(AutogradContext* ctx, const at::Tensor& input) {
  for (int d = 0; d < 4; ++d) ctx->saved_data["size" + std::to_string(d)] = input.sym_size(d);
}
SymInt saved_size(AutogradContext* ctx, int d) { return ctx->saved_data["size" + std::to_string(d)].toSymInt(); }

class RoiAlignFunction : public torch::autograd::Function<RoiAlignFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& rois, double scale,
                            SymInt ph, SymInt pw, std::int64_t sampling_ratio, bool aligned) {
    at::Tensor out;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      out = core::call_op<"tvx::roi_align", RoiAlignSig>(input, rois, scale, ph, pw, sampling_ratio, aligned);
    }
    ctx->save_for_backward({rois});
    ctx->set_materialize_grads(false);
    save_sizes(ctx, input);  // after the kernel has checked the arguments
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["ph"] = ph;
    ctx->saved_data["pw"] = pw;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->saved_data["aligned"] = aligned;
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), {}, {}, {}, {}, {}, {}};
    auto& d = ctx->saved_data;
    const at::Tensor grad_input = core::call_op<"tvx::_roi_align_backward", RoiAlignBackwardSig>(
        grads[0], ctx->get_saved_variables()[0], d["scale"].toDouble(), d["ph"].toSymInt(), d["pw"].toSymInt(),
        saved_size(ctx, 0), saved_size(ctx, 1), saved_size(ctx, 2), saved_size(ctx, 3), d["sampling_ratio"].toInt(),
        d["aligned"].toBool());
    return {grad_input, {}, {}, {}, {}, {}, {}};
  }
};

// roi_pool and ps_roi_pool: the second output (argmax or channel map) is an index.
template <bool PositionSensitive>
class PoolFunction : public torch::autograd::Function<PoolFunction<PositionSensitive>> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& rois, double scale,
                               SymInt ph, SymInt pw) {
    at::Tensor out, index;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      std::tie(out, index) = PositionSensitive
                                 ? core::call_op<"tvx::ps_roi_pool", PoolSig>(input, rois, scale, ph, pw)
                                 : core::call_op<"tvx::roi_pool", PoolSig>(input, rois, scale, ph, pw);
    }
    ctx->save_for_backward({rois, index});
    ctx->set_materialize_grads(false);
    save_sizes(ctx, input);
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["ph"] = ph;
    ctx->saved_data["pw"] = pw;
    ctx->mark_non_differentiable({index});
    return {out, index};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), {}, {}, {}, {}};
    auto& d = ctx->saved_data;
    const auto saved = ctx->get_saved_variables();
    auto call = [&](auto op) {
      return op(grads[0], saved[0], saved[1], d["scale"].toDouble(), d["ph"].toSymInt(), d["pw"].toSymInt(),
                saved_size(ctx, 0), saved_size(ctx, 1), saved_size(ctx, 2), saved_size(ctx, 3));
    };
    const at::Tensor grad_input =
        PositionSensitive ? call([](auto&&... a) { return core::call_op<"tvx::_ps_roi_pool_backward", PoolBackwardSig>(a...); })
                          : call([](auto&&... a) { return core::call_op<"tvx::_roi_pool_backward", PoolBackwardSig>(a...); });
    return {grad_input, {}, {}, {}, {}};
  }
};

class PsRoiAlignFunction : public torch::autograd::Function<PsRoiAlignFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& rois, double scale,
                               SymInt ph, SymInt pw, std::int64_t sampling_ratio) {
    at::Tensor out, mapping;
    {
      at::AutoDispatchBelowADInplaceOrView below;
      std::tie(out, mapping) =
          core::call_op<"tvx::ps_roi_align", PsAlignSig>(input, rois, scale, ph, pw, sampling_ratio);
    }
    ctx->save_for_backward({rois, mapping});
    ctx->set_materialize_grads(false);
    save_sizes(ctx, input);
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["ph"] = ph;
    ctx->saved_data["pw"] = pw;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->mark_non_differentiable({mapping});
    return {out, mapping};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), {}, {}, {}, {}, {}};
    auto& d = ctx->saved_data;
    const auto saved = ctx->get_saved_variables();
    const at::Tensor grad_input = core::call_op<"tvx::_ps_roi_align_backward", PsAlignBackwardSig>(
        grads[0], saved[0], saved[1], d["scale"].toDouble(), d["ph"].toSymInt(), d["pw"].toSymInt(),
        d["sampling_ratio"].toInt(), saved_size(ctx, 0), saved_size(ctx, 1), saved_size(ctx, 2), saved_size(ctx, 3));
    return {grad_input, {}, {}, {}, {}, {}};
  }
};

at::Tensor roi_align_autograd(const at::Tensor& input, const at::Tensor& rois, double scale, SymInt ph, SymInt pw,
                              std::int64_t sampling_ratio, bool aligned) {
  return RoiAlignFunction::apply(input, rois, scale, ph, pw, sampling_ratio, aligned);
}

template <bool PositionSensitive>
std::tuple<at::Tensor, at::Tensor> pool_autograd(const at::Tensor& input, const at::Tensor& rois, double scale,
                                                 SymInt ph, SymInt pw) {
  const auto out = PoolFunction<PositionSensitive>::apply(input, rois, scale, ph, pw);
  return {out[0], out[1]};
}

std::tuple<at::Tensor, at::Tensor> ps_roi_align_autograd(const at::Tensor& input, const at::Tensor& rois, double scale,
                                                         SymInt ph, SymInt pw, std::int64_t sampling_ratio) {
  const auto out = PsRoiAlignFunction::apply(input, rois, scale, ph, pw, sampling_ratio);
  return {out[0], out[1]};
}

}  // namespace

TVX_LIBRARY_IMPL(Autograd, m) {
  m.impl("roi_align", &roi_align_autograd);
  m.impl("roi_pool", &pool_autograd<false>);
  m.impl("ps_roi_align", &ps_roi_align_autograd);
  m.impl("ps_roi_pool", &pool_autograd<true>);
  m.impl("_roi_align_backward", &core::NoDoubleBackward<"tvx::_roi_align_backward", RoiAlignBackwardSig>::call);
  m.impl("_roi_pool_backward", &core::NoDoubleBackward<"tvx::_roi_pool_backward", PoolBackwardSig>::call);
  m.impl("_ps_roi_align_backward", &core::NoDoubleBackward<"tvx::_ps_roi_align_backward", PsAlignBackwardSig>::call);
  m.impl("_ps_roi_pool_backward", &core::NoDoubleBackward<"tvx::_ps_roi_pool_backward", PoolBackwardSig>::call);
}

}  // namespace tvx::ops::roi
