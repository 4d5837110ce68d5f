// to_tensor and normalize. On the CPU, contiguous uint8/float32 data goes through the SIMD
// kernels of core (one pass: read 1 byte and write 4 per value for to_tensor, read 4 and
// write 4 for normalize); other dtypes and devices take ATen's elementwise ops.
#include <tvx/transforms.h>

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/tensor.h>

#include "core/simd.h"

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
  if (image.device().is_cpu()) {
    const at::Tensor src = chw.contiguous();
    const std::uint8_t* in = src.const_data_ptr<std::uint8_t>();
    float* o = out.mutable_data_ptr<float>();
    const auto& k = core::simd::kernels();
    at::parallel_for(0, src.numel(), 1 << 16, [&](std::int64_t begin, std::int64_t end) {
      k.u8_to_unit_float(in + begin, o + begin, end - begin);
    });
    return out;
  }
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
  if (tensor.device().is_cpu() && tensor.scalar_type() == at::kFloat && tensor.is_contiguous()) {
    at::Tensor out = inplace ? tensor : at::empty_like(tensor);
    const std::int64_t plane = tensor.size(-1) * tensor.size(-2), planes = plane ? tensor.numel() / plane : 0;
    const float* in = tensor.const_data_ptr<float>();
    float* o = out.mutable_data_ptr<float>();
    const float* mv = m.const_data_ptr<float>();
    const float* sv = s.const_data_ptr<float>();
    const std::int64_t nm = m.numel(), ns = s.numel();
    const auto& k = core::simd::kernels();
    at::parallel_for(0, planes, std::max<std::int64_t>(1, (1 << 16) / std::max<std::int64_t>(plane, 1)),
                     [&](std::int64_t begin, std::int64_t end) {
                       for (std::int64_t p = begin; p < end; ++p) {
                         const std::int64_t ch = p % c;
                         k.normalize(in + p * plane, o + p * plane, plane, mv[nm == 1 ? 0 : ch], sv[ns == 1 ? 0 : ch]);
                       }
                     });
    return out;
  }
  at::Tensor out = inplace ? tensor : tensor.clone();
  return out.sub_(m).div_(s);
}

}  // namespace tvx::transforms
