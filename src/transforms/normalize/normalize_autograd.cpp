// normalize's autograd, in C++ so LibTorch programs train through it without Python.
// d/dx (x - mean) / std = 1 / std: the gradient is grad / std[c], computed with ATen ops,
// so it is itself differentiable (double backward works). normalize_ on a tensor that
// needs a gradient runs ATen's in-place sub_/div_, which autograd already knows.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/div.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>

#include "core/op.h"
#include "core/registration.h"
#include "transforms/normalize/normalize.h"

namespace tvx::transforms {
namespace {

using NormalizeSig = at::Tensor(const at::Tensor&, c10::ArrayRef<double>, c10::ArrayRef<double>);
using NormalizeInplaceSig = void(const at::Tensor&, c10::ArrayRef<double>, c10::ArrayRef<double>);

class NormalizeFunction : public torch::autograd::Function<NormalizeFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& tensor, std::vector<double> mean,
                            std::vector<double> std) {
    ctx->saved_data["std"] = c10::List<double>(std);
    at::AutoDispatchBelowADInplaceOrView below;
    return core::call_op<"tvx::normalize", NormalizeSig>(tensor, mean, std);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto std = ctx->saved_data["std"].toDoubleList().vec();
    return {grads[0].div(detail::channel_tensor(grads[0], std)), at::Tensor(), at::Tensor()};
  }
};

at::Tensor normalize_autograd(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  return NormalizeFunction::apply(tensor, mean.vec(), std.vec());
}

void normalize_inplace_autograd(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std) {
  if (torch::autograd::compute_requires_grad(tensor)) {
    detail::check_normalize_args("tvx.normalize_", tensor, mean, std);
    detail::normalize_aten(tensor, mean, std, tensor);
    return;
  }
  at::AutoDispatchBelowAutograd below;  // ADInplaceOrView still runs: it bumps the version
  core::call_op<"tvx::normalize_", NormalizeInplaceSig>(tensor, mean, std);
}

// The in-place op bumps the tensor's version, so autograd notices a saved tensor changed.
void normalize_inplace_adinplace(c10::DispatchKeySet ks, const at::Tensor& tensor, c10::ArrayRef<double> mean,
                                 c10::ArrayRef<double> std) {
  {
    at::AutoDispatchBelowADInplaceOrView below;
    core::op_handle<"tvx::normalize_", NormalizeInplaceSig>().redispatch(
        ks & c10::after_ADInplaceOrView_keyset, tensor, mean, std);
  }
  torch::autograd::increment_version(tensor);
}

}  // namespace

TVX_LIBRARY_IMPL(Autograd, m) {
  m.impl("normalize", &normalize_autograd);
  m.impl("normalize_", &normalize_inplace_autograd);
}

TVX_LIBRARY_IMPL(ADInplaceOrView, m) { m.impl("normalize_", &normalize_inplace_adinplace); }

}  // namespace tvx::transforms
