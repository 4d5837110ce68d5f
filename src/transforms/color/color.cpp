// The colour transforms of torchvision.transforms.v2.functional on tensors: to_dtype,
// rgb_to_grayscale, adjust_brightness / contrast / saturation / sharpness / hue / gamma,
// posterize, solarize, autocontrast, equalize, invert, gaussian_blur. Each is an operator
// (torch.ops.tvx.<name>) written with ATen's operations in torchvision's order of rounding, so
// one definition serves the CPU, CUDA, autograd and Meta (CompositeImplicitAutograd); the
// elementwise work is ATen's vectorised kernels, one or two passes over the image.
#include <tvx/transforms.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::transforms {
namespace {

// torchvision's largest value of a dtype: 1 for floating point, the integer's maximum.
double max_value(at::ScalarType t) {
  switch (t) {
    case at::kByte: return 255;
    case at::kChar: return 127;
    case at::kShort: return 32767;
    case at::kUInt16: return 65535;
    case at::kInt: return 2147483647.0;
    case at::kLong: return 9223372036854775807.0;
    default: return 1;
  }
}

int value_bits(const char* op, at::ScalarType t) {
  switch (t) {
    case at::kByte: return 8;
    case at::kChar: return 7;
    case at::kShort: return 15;
    case at::kUInt16: return 16;
    case at::kInt: return 31;
    case at::kLong: return 63;
    default: TORCH_CHECK(false, op, ": value bits are defined for integer dtypes only, got ", core::dtype_name(t));
  }
}

// t * v as Python computes it for torchvision: float16 and bfloat16 multiply in float32 and
// round once (a C++ Scalar would be rounded to the tensor's dtype first).
at::Tensor mul_number(const at::Tensor& t, double v) {
  if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16)
    return t.to(at::kFloat).mul_(v).to(t.scalar_type());
  return t.mul(v);
}

void check_image(const char* op, const at::Tensor& image) {
  TORCH_CHECK(image.dim() >= 3, op, ": image must have shape [..., C, H, W], got ", image.sym_sizes());
}

void check_one_or_three(const char* op, const at::Tensor& image) {
  check_image(op, image);
  const c10::SymInt c = image.sym_size(-3);
  TORCH_CHECK(c == 1 || c == 3, op, ": image must have 1 or 3 channels, got ", c);
}

// image1 * ratio + image2 * (1 - ratio), clamped to the dtype's range (integers truncated back).
at::Tensor blend(const at::Tensor& image1, const at::Tensor& image2, double ratio) {
  const bool fp = image1.is_floating_point();
  at::Tensor out = image1.mul(ratio).add_(image2, 1.0 - ratio).clamp_(0, max_value(image1.scalar_type()));
  return fp ? out : out.to(image1.scalar_type());
}

// Luma 0.2989 R + 0.587 G + 0.114 B, one channel, in float32 (or the image's float type).
at::Tensor luma(const at::Tensor& image) {
  const auto rgb = image.unbind(-3);
  return rgb[0].mul(0.2989).add_(rgb[1], 0.587).add_(rgb[2], 0.114).unsqueeze(-3);
}

}  // namespace

at::Tensor to_dtype(const at::Tensor& image, at::ScalarType dtype, bool scale) {
  if (image.scalar_type() == dtype) return image;
  if (!scale) return image.to(dtype);
  const bool float_in = image.is_floating_point(), float_out = at::isFloatingType(dtype);
  if (float_in && float_out) return image.to(dtype);
  if (float_in) {
    TORCH_CHECK(!((image.scalar_type() == at::kFloat && (dtype == at::kInt || dtype == at::kLong)) ||
                  (image.scalar_type() == at::kDouble && dtype == at::kLong)),
                "tvx.to_dtype: the conversion from ", core::dtype_name(image.scalar_type()), " to ",
                core::dtype_name(dtype), " cannot be performed safely");
    // Scaled by max + 1 - eps so that 1.0 lands on the maximum and the bins are even.
    return mul_number(image, max_value(dtype) + 1.0 - 1e-3).to(dtype);
  }
  if (float_out) return mul_number(image.to(dtype), 1.0 / max_value(image.scalar_type()));
  const int in_bits = value_bits("tvx.to_dtype", image.scalar_type()), out_bits = value_bits("tvx.to_dtype", dtype);
  const int shift = std::abs(in_bits - out_bits);
  if (in_bits > out_bits) {
    if (image.scalar_type() == at::kUInt16) return image.div(double(1 << shift)).to(dtype);
    return image.bitwise_right_shift(shift).to(dtype);
  }
  if (dtype == at::kUInt16) return image.to(dtype).mul(std::int64_t(1) << shift);
  return image.to(dtype).bitwise_left_shift_(shift);
}

at::Tensor rgb_to_grayscale(const at::Tensor& image, std::int64_t num_output_channels) {
  check_image("tvx.rgb_to_grayscale", image);
  TORCH_CHECK(num_output_channels == 1 || num_output_channels == 3,
              "tvx.rgb_to_grayscale: num_output_channels must be 1 or 3, got ", num_output_channels);
  const c10::SymInt c = image.sym_size(-3);
  if (c == 1) {
    if (num_output_channels == 1) return image.clone();
    std::vector<std::int64_t> reps(image.dim(), 1);
    reps[image.dim() - 3] = 3;
    return image.repeat(reps);
  }
  TORCH_CHECK(c == 3, "tvx.rgb_to_grayscale: image must have 1 or 3 channels, got ", c);
  at::Tensor l = luma(image).to(image.scalar_type());
  return num_output_channels == 3 ? l.expand_symint(image.sym_sizes()) : l;
}

at::Tensor adjust_brightness(const at::Tensor& image, double factor) {
  TORCH_CHECK(!(factor < 0), "tvx.adjust_brightness: brightness_factor (", factor, ") is not non-negative");
  check_one_or_three("tvx.adjust_brightness", image);
  at::Tensor out = image.mul(factor).clamp_(0, max_value(image.scalar_type()));
  return image.is_floating_point() ? out : out.to(image.scalar_type());
}

at::Tensor adjust_saturation(const at::Tensor& image, double factor) {
  TORCH_CHECK(!(factor < 0), "tvx.adjust_saturation: saturation_factor (", factor, ") is not non-negative");
  check_one_or_three("tvx.adjust_saturation", image);
  if (image.sym_size(-3) == 1) return image;  // as PIL
  at::Tensor gray = luma(image);
  if (!image.is_floating_point()) gray.floor_();
  return blend(image, gray, factor);
}

at::Tensor adjust_contrast(const at::Tensor& image, double factor) {
  TORCH_CHECK(!(factor < 0), "tvx.adjust_contrast: contrast_factor (", factor, ") is not non-negative");
  check_one_or_three("tvx.adjust_contrast", image);
  const bool fp = image.is_floating_point();
  at::Tensor gray;
  if (image.sym_size(-3) == 3) {
    gray = luma(image);
    if (!fp) gray.floor_();
  } else {
    gray = fp ? image : image.to(at::kFloat);
  }
  return blend(image, gray.mean({-3, -2, -1}, /*keepdim=*/true), factor);
}

at::Tensor adjust_sharpness(const at::Tensor& image, double factor) {
  check_one_or_three("tvx.adjust_sharpness", image);
  const core::NoAutocast no_autocast;
  TORCH_CHECK(!(factor < 0), "tvx.adjust_sharpness: sharpness_factor (", factor, ") is not non-negative");
  const c10::SymInt c = image.sym_size(-3), h = image.sym_size(-2), w = image.sym_size(-1);
  if (image.sym_numel() == 0 || h <= 2 || w <= 2) return image;
  const bool fp = image.is_floating_point();
  const auto kdtype = fp ? image.scalar_type() : at::kFloat;
  // The 3x3 smoothing kernel: 1 around, 5 in the middle, over 13.
  const double a = 1.0 / 13.0, b = 5.0 / 13.0;
  at::Tensor kernel = at::full({3, 3}, a, image.options().dtype(kdtype));
  kernel.select(0, 1).select(0, 1).fill_(b);
  kernel = kernel.view({1, 1, 3, 3}).expand_symint({c, 1, 3, 3});
  const at::Tensor x = image.reshape_symint({-1, c, h, w});
  at::Tensor out = x.to(kdtype, /*non_blocking=*/false, /*copy=*/true);
  at::Tensor blurred = at::conv2d_symint(out, kernel, std::nullopt, c10::SymIntArrayRef{1}, c10::SymIntArrayRef{0},
                                         c10::SymIntArrayRef{1}, c);
  if (!fp) blurred.round_();
  at::Tensor inner = out.slice_symint(-2, 1, h - 1).slice_symint(-1, 1, w - 1);
  inner.add_(blurred.sub_(inner), 1.0 - factor);
  out.clamp_(0, max_value(image.scalar_type()));
  if (!fp) out = out.to(image.scalar_type());
  return out.reshape_symint(image.sym_sizes());
}

namespace {

// RGB in [0, 1] to HSV, and back, as torchvision computes them.
at::Tensor rgb_to_hsv(const at::Tensor& image) {
  const auto rgb = image.unbind(-3);
  const auto [minc, maxc] = at::aminmax(image, -3);
  const at::Tensor eqc = maxc == minc;
  const at::Tensor range = maxc - minc;
  const at::Tensor ones = at::ones_like(maxc);
  const at::Tensor s = range / at::where(eqc, ones, maxc);
  const at::Tensor divisor = at::where(eqc, ones, range).unsqueeze(-3);
  const auto d = ((maxc.unsqueeze(-3) - image) / divisor).unbind(-3);
  const at::Tensor rc = d[0], gc = d[1], bc = d[2];
  const at::Tensor not_r = maxc != rgb[0], is_g = maxc == rgb[1];
  const at::Tensor hg = rc.add(2.0).sub_(bc).mul_(is_g & not_r);
  const at::Tensor hr = bc.sub(gc).mul_(not_r.logical_not());
  const at::Tensor hb = gc.add(4.0).sub_(rc).mul_(not_r.logical_and(is_g.logical_not()));
  const at::Tensor h = hr.add(hg).add_(hb).mul_(1.0 / 6.0).add_(1.0).fmod_(1.0);
  return at::stack({h, s, maxc}, -3);
}

at::Tensor hsv_to_rgb(const at::Tensor& hsv) {
  const auto p3 = hsv.unbind(-3);
  const at::Tensor h = p3[0], s = p3[1], v = p3[2];
  at::Tensor h6 = h.mul(6);
  const at::Tensor i0 = at::floor(h6);
  const at::Tensor f = h6.sub_(i0);
  at::Tensor i = i0.to(at::kInt);
  const at::Tensor sxf = s * f;
  const at::Tensor one_minus_s = 1.0 - s;
  const at::Tensor q = (1.0 - sxf).mul_(v).clamp_(0.0, 1.0);
  const at::Tensor t = sxf.add(one_minus_s).mul_(v).clamp_(0.0, 1.0);
  const at::Tensor p = one_minus_s.mul(v).clamp_(0.0, 1.0);
  i.remainder_(6);
  // Each channel takes v, p, q or t by the hue's sector i (a selection: exact).
  const at::Tensor* vpqt[4] = {&v, &p, &q, &t};
  const int table[3][6] = {{0, 2, 1, 1, 3, 0}, {3, 0, 0, 2, 1, 1}, {1, 1, 3, 0, 0, 2}};
  std::vector<at::Tensor> rgb;
  for (const auto& row : table) {
    at::Tensor c = *vpqt[row[5]];
    for (int sector = 4; sector >= 0; --sector) c = at::where(i == sector, *vpqt[row[sector]], c);
    rgb.push_back(c);
  }
  return at::stack(rgb, -3);
}

}  // namespace

at::Tensor adjust_hue(const at::Tensor& image, double factor) {
  TORCH_CHECK(factor >= -0.5 && factor <= 0.5, "tvx.adjust_hue: hue_factor (", factor, ") is not in [-0.5, 0.5]");
  check_one_or_three("tvx.adjust_hue", image);
  if (image.sym_size(-3) == 1 || image.sym_numel() == 0) return image;
  const auto dtype = image.scalar_type();
  const at::Tensor hsv = rgb_to_hsv(to_dtype(image, at::kFloat, true));
  const auto p = hsv.unbind(-3);
  const at::Tensor h = p[0].add(factor).remainder_(1.0);
  return to_dtype(hsv_to_rgb(at::stack({h, p[1], p[2]}, -3)), dtype, true);
}

at::Tensor adjust_gamma(const at::Tensor& image, double gamma, double gain) {
  TORCH_CHECK(!(gamma < 0), "tvx.adjust_gamma: gamma should be a non-negative real number, got ", gamma);
  const core::NoAutocast no_autocast;
  at::Tensor out = image.is_floating_point() ? image.pow(gamma) : to_dtype(image, at::kFloat, true).pow_(gamma);
  // Out of place: mul_ with a Scalar rounds it to float16/bfloat16 first, Python's mul_ does not.
  if (gain != 1.0) out = out.mul(gain).clamp_(0.0, 1.0);
  return to_dtype(out, image.scalar_type(), true);
}

at::Tensor posterize(const at::Tensor& image, std::int64_t bits) {
  TORCH_CHECK(bits >= 0 && bits <= 8, "tvx.posterize: bits must be an integer in [0, 8], got ", bits);
  if (image.is_floating_point()) {
    const double levels = double(1 << bits);
    return image.mul(levels).floor_().clamp_(0, levels - 1).mul_(1.0 / levels);  // powers of two: exact
  }
  const int n = value_bits("tvx.posterize", image.scalar_type());
  if (bits >= n) return image;
  return image.bitwise_and(((std::int64_t(1) << bits) - 1) << (n - bits));
}

at::Tensor invert(const at::Tensor& image) {
  if (image.is_floating_point()) return 1.0 - image;
  if (image.scalar_type() == at::kByte) return image.bitwise_not();
  return image.bitwise_xor((std::int64_t(1) << value_bits("tvx.invert", image.scalar_type())) - 1);
}

// An integer threshold is compared as an integer (exactly, in the image's dtype), as Python's
// int is by torchvision; a float one as a double.
at::Tensor solarize(const at::Tensor& image, const at::Scalar& threshold) {
  const auto t = image.scalar_type();
  bool above;
  if (at::isIntegralType(t, false) && threshold.isIntegral(false)) {
    const std::int64_t limit = t == at::kLong ? std::numeric_limits<std::int64_t>::max() : std::int64_t(max_value(t));
    above = threshold.toLong() > limit;
  } else {
    const double v = threshold.toDouble();
    above = t == at::kLong ? v >= 9223372036854775808.0 : v > max_value(t);
  }
  TORCH_CHECK(!above, "tvx.solarize: threshold should be at most the dtype's maximum value (", max_value(t), "), got ",
              threshold);
  return at::where(image >= threshold, invert(image), image);
}

at::Tensor autocontrast(const at::Tensor& image) {
  check_one_or_three("tvx.autocontrast", image);
  if (image.sym_numel() == 0) return image;
  const double bound = max_value(image.scalar_type());
  const bool fp = image.is_floating_point();
  const at::Tensor f = fp ? image : image.to(at::kFloat);
  at::Tensor minimum = f.amin({-2, -1}, true), maximum = f.amax({-2, -1}, true);
  const at::Tensor eq = maximum == minimum;
  at::Tensor inv_scale = maximum.sub(minimum).mul_(1.0 / bound);
  minimum.masked_fill_(eq, 0.0);
  inv_scale.masked_fill_(eq, 1.0);
  return f.sub(minimum).div_(inv_scale).clamp_(0, bound).to(image.scalar_type());
}

at::Tensor equalize(const at::Tensor& image) {
  if (image.sym_numel() == 0) return image;
  TORCH_CHECK(image.dim() >= 2, "tvx.equalize: image must have shape [..., H, W], got ", image.sym_sizes());
  const auto dtype = image.scalar_type();
  const at::Tensor u8 = to_dtype(image, at::kByte, true);
  const at::Tensor flat = u8.flatten(-2).to(at::kLong);
  std::vector<c10::SymInt> hshape(u8.sym_sizes().begin(), u8.sym_sizes().end() - 2);
  hshape.push_back(256);
  at::Tensor hist = at::zeros_symint(hshape, flat.options().dtype(at::kInt));
  hist.scatter_add_(-1, flat, at::ones({1}, hist.options()).expand_as(flat));
  at::Tensor cum = hist.cumsum(-1);
  const at::Tensor index = cum.argmax(-1).unsqueeze(-1);
  // The pixels other than those of the image's highest value (its last non-empty bin), over
  // 255: the lookup table's step.
  at::Tensor step = hist.gather(-1, index).neg().add(flat.sym_size(-1)).div(255, "floor");
  const at::Tensor valid = step.ne(0).unsqueeze(-1);
  cum = cum.slice(-1, 0, 255);
  cum = cum.add(step.div(2, "floor")).div(step.clamp(1), "floor").clamp_(0, 255);
  at::Tensor lut = at::cat({at::zeros_like(cum.slice(-1, 0, 1)), cum}, -1).to(at::kByte);
  const at::Tensor equalized = lut.gather(-1, flat).view_as(u8);
  return to_dtype(at::where(valid, equalized, u8), dtype, true);
}

at::Tensor gaussian_blur(const at::Tensor& image, c10::IntArrayRef kernel_size,
                         std::optional<c10::ArrayRef<double>> sigma) {
  TORCH_CHECK(kernel_size.size() == 1 || kernel_size.size() == 2,
              "tvx.gaussian_blur: kernel_size must have 1 or 2 values, got ", kernel_size.size());
  const std::int64_t kx = kernel_size[0], ky = kernel_size.size() == 2 ? kernel_size[1] : kernel_size[0];
  TORCH_CHECK(kx > 0 && ky > 0 && kx % 2 == 1 && ky % 2 == 1,
              "tvx.gaussian_blur: kernel_size should have odd and positive integers, got ", kernel_size);
  double sx = kx * 0.15 + 0.35, sy = ky * 0.15 + 0.35;
  if (sigma) {
    TORCH_CHECK(sigma->size() == 1 || sigma->size() == 2, "tvx.gaussian_blur: sigma must have 1 or 2 values, got ",
                sigma->size());
    sx = (*sigma)[0];
    sy = sigma->size() == 2 ? (*sigma)[1] : (*sigma)[0];
  }
  TORCH_CHECK(!(sx <= 0) && !(sy <= 0), "tvx.gaussian_blur: sigma should have positive values, got ", sx, ", ", sy);
  if (image.sym_numel() == 0) return image;  // any shape, as torchvision
  const core::NoAutocast no_autocast;
  check_image("tvx.gaussian_blur", image);
  const bool fp = image.is_floating_point();
  const auto kdtype = fp ? image.scalar_type() : at::kFloat;
  const auto kernel1d = [&](std::int64_t k, double s) {
    const double lim = (k - 1) / (2.0 * std::sqrt(2.0));
    return at::softmax(at::linspace(-lim, lim, k, image.options().dtype(kdtype)).div(s).pow(2).neg(), 0);
  };
  const at::Tensor kernel = kernel1d(ky, sy).unsqueeze(-1) * kernel1d(kx, sx);
  const c10::SymInt c = image.sym_size(-3);
  const at::Tensor x = image.reshape_symint({-1, c, image.sym_size(-2), image.sym_size(-1)});
  at::Tensor out = fp ? x : x.to(at::kFloat);
  out = at::pad(out, {kx / 2, kx / 2, ky / 2, ky / 2}, "reflect");
  out = at::conv2d_symint(out, kernel.expand_symint({c, 1, ky, kx}), std::nullopt, c10::SymIntArrayRef{1},
                          c10::SymIntArrayRef{0}, c10::SymIntArrayRef{1}, c);
  if (!fp) out = out.round_().to(image.scalar_type());
  return out.reshape_symint(image.sym_sizes());
}

TVX_LIBRARY(m) {
  m.def("to_dtype(Tensor image, ScalarType dtype=float, bool scale=False) -> Tensor");
  m.def("rgb_to_grayscale(Tensor image, int num_output_channels=1) -> Tensor");
  m.def("adjust_brightness(Tensor image, float brightness_factor) -> Tensor");
  m.def("adjust_contrast(Tensor image, float contrast_factor) -> Tensor");
  m.def("adjust_saturation(Tensor image, float saturation_factor) -> Tensor");
  m.def("adjust_sharpness(Tensor image, float sharpness_factor) -> Tensor");
  m.def("adjust_hue(Tensor image, float hue_factor) -> Tensor");
  m.def("adjust_gamma(Tensor image, float gamma, float gain=1) -> Tensor");
  m.def("posterize(Tensor image, int bits) -> Tensor");
  m.def("solarize(Tensor image, Scalar threshold) -> Tensor");
  m.def("autocontrast(Tensor image) -> Tensor");
  m.def("equalize(Tensor image) -> Tensor");
  m.def("invert(Tensor image) -> Tensor");
  m.def("gaussian_blur(Tensor image, int[] kernel_size, float[]? sigma=None) -> Tensor");
}

TVX_LIBRARY_IMPL(CompositeImplicitAutograd, m) {
  m.impl("to_dtype", &to_dtype);
  m.impl("rgb_to_grayscale", &rgb_to_grayscale);
  m.impl("adjust_brightness", &adjust_brightness);
  m.impl("adjust_contrast", &adjust_contrast);
  m.impl("adjust_saturation", &adjust_saturation);
  m.impl("adjust_sharpness", &adjust_sharpness);
  m.impl("adjust_hue", &adjust_hue);
  m.impl("adjust_gamma", &adjust_gamma);
  m.impl("posterize", &posterize);
  m.impl("solarize", &solarize);
  m.impl("autocontrast", &autocontrast);
  m.impl("equalize", &equalize);
  m.impl("invert", &invert);
  m.impl("gaussian_blur", &gaussian_blur);
}

}  // namespace tvx::transforms
