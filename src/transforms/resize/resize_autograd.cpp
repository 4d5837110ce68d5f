// resize's autograd, in C++ so LibTorch programs train through it without Python. The
// forward is ATen's interpolate to within float rounding (resize.cpp's taps), so its gradient
// is ATen's upsample backward for the same mode, which is differentiable in turn.
#include <ATen/ops/_upsample_bicubic2d_aa_backward.h>
#include <ATen/ops/_upsample_bilinear2d_aa_backward.h>
#include <ATen/ops/_upsample_nearest_exact2d_backward.h>
#include <ATen/ops/upsample_bicubic2d_backward.h>
#include <ATen/ops/upsample_bilinear2d_backward.h>
#include <ATen/ops/upsample_nearest2d_backward.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>

#include "core/op.h"
#include "core/registration.h"
#include "transforms/resize/resize.h"

namespace tvx::transforms {
namespace {

using ResizeSig = at::Tensor(const at::Tensor&, c10::SymIntArrayRef, c10::string_view, bool);

at::Tensor resize_backward(const at::Tensor& grad, c10::SymIntArrayRef input_sizes, Interpolation mode,
                           bool antialias) {
  const auto n = input_sizes.size();
  const c10::SymInt c = input_sizes[n - 3], h = input_sizes[n - 2], w = input_sizes[n - 1];
  const at::Tensor g = grad.reshape_symint({-1, c, grad.sym_size(-2), grad.sym_size(-1)});
  const std::vector<c10::SymInt> out{g.sym_size(2), g.sym_size(3)}, in{g.sym_size(0), c, h, w};
  at::Tensor r;
  switch (mode) {
    case Interpolation::bilinear:
      r = antialias ? at::_upsample_bilinear2d_aa_backward_symint(g, out, in, false)
                    : at::upsample_bilinear2d_backward_symint(g, out, in, false);
      break;
    case Interpolation::bicubic:
      r = antialias ? at::_upsample_bicubic2d_aa_backward_symint(g, out, in, false)
                    : at::upsample_bicubic2d_backward_symint(g, out, in, false);
      break;
    case Interpolation::nearest: r = at::upsample_nearest2d_backward_symint(g, out, in); break;
    case Interpolation::nearest_exact: r = at::_upsample_nearest_exact2d_backward_symint(g, out, in); break;
  }
  return r.reshape_symint(input_sizes);
}

class ResizeFunction : public torch::autograd::Function<ResizeFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& image,
                            std::vector<c10::SymInt> size, std::string interpolation, bool antialias) {
    ctx->saved_data["sizes"] = image.sym_sizes();
    ctx->saved_data["mode"] = std::int64_t(detail::parse_interpolation("tvx.resize", interpolation));
    ctx->saved_data["antialias"] = antialias;
    at::AutoDispatchBelowADInplaceOrView below;
    return core::call_op<"tvx::resize", ResizeSig>(image, size, interpolation, antialias);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto sizes = ctx->saved_data["sizes"].toSymIntVector();
    const auto mode = Interpolation(ctx->saved_data["mode"].toInt());
    return {resize_backward(grads[0], sizes, mode, ctx->saved_data["antialias"].toBool()), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

at::Tensor resize_autograd(const at::Tensor& image, c10::SymIntArrayRef size, c10::string_view interpolation,
                           bool antialias) {
  return ResizeFunction::apply(image, size.vec(), std::string(interpolation), antialias);
}

// A list with an image that needs a gradient: each image through ResizeFunction (one launch
// each); otherwise the list kernel (one launch for the list on CUDA).
std::vector<at::Tensor> resize_list_autograd(at::TensorList images, c10::SymIntArrayRef sizes,
                                             c10::string_view interpolation, bool antialias) {
  bool grad = false;
  for (const auto& img : images) grad = grad || torch::autograd::compute_requires_grad(img);
  if (!grad) {
    at::AutoDispatchBelowADInplaceOrView below;
    using Sig = std::vector<at::Tensor>(at::TensorList, c10::SymIntArrayRef, c10::string_view, bool);
    return core::call_op<"tvx::resize_list", Sig>(images, sizes, interpolation, antialias);
  }
  TORCH_CHECK(sizes.size() == 2 * images.size(), "tvx.resize_list: sizes must hold [h, w] for each of the ",
              images.size(), " images, got ", sizes.size(), " values");
  std::vector<at::Tensor> out;
  for (std::size_t i = 0; i < images.size(); ++i)
    out.push_back(ResizeFunction::apply(images[i], std::vector<c10::SymInt>{sizes[2 * i], sizes[2 * i + 1]},
                                        std::string(interpolation), antialias));
  return out;
}

}  // namespace

TVX_LIBRARY_IMPL(Autograd, m) {
  m.impl("resize", &resize_autograd);
  m.impl("resize_list", &resize_list_autograd);
}

}  // namespace tvx::transforms
