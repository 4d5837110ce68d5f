// to_tensor's Meta kernel: the output's shape and dtype, with symbolic sizes so that
// torch.compile(dynamic=True) and torch.export keep them symbolic. The value-dependent
// ambiguity check of the real kernels needs concrete sizes and is left to them.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

#include "transforms/to_tensor/to_tensor.h"
#include "core/registration.h"

namespace tvx::transforms {
namespace {

at::Tensor to_tensor_meta(const at::Tensor& image, c10::string_view layout) {
  detail::check_to_tensor_args(image, layout);
  const auto s = image.sym_sizes();
  std::vector<c10::SymInt> out;
  if (image.dim() == 2) {
    out = {1, s[0], s[1]};
  } else {
    const std::size_t b = image.dim() == 4 ? 1 : 0;
    if (b) out.push_back(s[0]);
    if (layout == "HWC")
      out.insert(out.end(), {s[b + 2], s[b], s[b + 1]});
    else
      out.insert(out.end(), {s[b], s[b + 1], s[b + 2]});
  }
  return at::empty_symint(out, image.options().dtype(at::kFloat));
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) { m.impl("to_tensor", &to_tensor_meta); }

}  // namespace tvx::transforms
