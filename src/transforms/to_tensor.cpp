// to_tensor and normalize. to_tensor moves each byte once (read uint8, write float32,
// the layout change folded into the same copy) and divides in place; normalize is two
// in-place elementwise passes, as torchvision's.
#include <tvx/transforms.h>

#include <ATen/ops/empty.h>
#include <ATen/ops/tensor.h>

namespace tvx::transforms {

at::Tensor to_tensor(const at::Tensor& image, Layout layout) {
  TORCH_CHECK(image.scalar_type() == at::kByte, "tvx.to_tensor: image must be uint8, got ", image.scalar_type());
  TORCH_CHECK(image.dim() >= 2 && image.dim() <= 4, "tvx.to_tensor: image must be [H, W], [H, W, C], [C, H, W] or a batch of those, got ",
              image.sizes());
  at::Tensor chw = image;
  if (image.dim() == 2) {
    chw = image.unsqueeze(0);
  } else if (layout == Layout::HWC) {
    chw = image.dim() == 3 ? image.permute({2, 0, 1}) : image.permute({0, 3, 1, 2});
  }
  at::Tensor out = at::empty(chw.sizes(), image.options().dtype(at::kFloat));
  out.copy_(chw);
  return out.div_(255);
}

at::Tensor normalize(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std, bool inplace) {
  TORCH_CHECK(at::isFloatingType(tensor.scalar_type()), "tvx.normalize: tensor must be floating point, got ",
              tensor.scalar_type());
  TORCH_CHECK(tensor.dim() >= 3, "tvx.normalize: tensor must be [..., C, H, W], got ", tensor.sizes());
  const std::int64_t c = tensor.size(-3);
  TORCH_CHECK(mean.size() == 1 || std::int64_t(mean.size()) == c, "tvx.normalize: mean has ", mean.size(),
              " values for ", c, " channels");
  TORCH_CHECK(std.size() == 1 || std::int64_t(std.size()) == c, "tvx.normalize: std has ", std.size(),
              " values for ", c, " channels");
  const auto opts = tensor.options();
  const at::Tensor m = at::tensor(mean, opts.dtype(at::kDouble)).to(opts).view({-1, 1, 1});
  const at::Tensor s = at::tensor(std, opts.dtype(at::kDouble)).to(opts).view({-1, 1, 1});
  TORCH_CHECK(!s.eq(0).any().item<bool>(), "tvx.normalize: std evaluated to zero after conversion to ",
              tensor.scalar_type(), ", leading to division by zero");
  at::Tensor out = inplace ? tensor : tensor.clone();
  return out.sub_(m).div_(s);
}

}  // namespace tvx::transforms
