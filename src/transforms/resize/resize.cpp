// resize: the schema, the argument checks, the resampling taps shared by the backends, and the
// C++ entry point with torchvision's output-size rule (size [h, w], or the shorter edge, capped
// by max_size). Semantics are torchvision.transforms.v2.functional.resize's on tensors.
#include "transforms/resize/resize.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::transforms {
namespace detail {

Interpolation parse_interpolation(const char* op, c10::string_view name) {
  if (name == "bilinear") return Interpolation::bilinear;
  if (name == "bicubic") return Interpolation::bicubic;
  if (name == "nearest") return Interpolation::nearest;
  if (name == "nearest-exact") return Interpolation::nearest_exact;
  TORCH_CHECK(false, op, ": interpolation must be \"nearest\", \"nearest-exact\", \"bilinear\" or \"bicubic\", got \"",
              std::string(name), "\"");
}

const char* interpolation_name(Interpolation mode) {
  static const char* names[] = {"nearest", "nearest-exact", "bilinear", "bicubic"};
  return names[int(mode)];
}

void check_resize_args(const char* op, const at::Tensor& image, c10::IntArrayRef size) {
  TORCH_CHECK(image.dim() >= 3, op, ": image must have shape [..., C, H, W], got ", image.sizes());
  const auto t = image.scalar_type();
  TORCH_CHECK(t == at::kByte || t == at::kFloat || t == at::kDouble || t == at::kHalf || t == at::kBFloat16, op,
              ": image must be uint8, float32, float64, float16 or bfloat16, got ", core::dtype_name(t));
  TORCH_CHECK(size.size() == 2, op, ": size must be [height, width], got ", size.size(), " values");
  TORCH_CHECK(size[0] > 0 && size[1] > 0, op, ": size must be positive, got [", size[0], ", ", size[1], "]");
}

void check_resize_list_args(at::TensorList images, c10::IntArrayRef sizes) {
  TORCH_CHECK(sizes.size() == 2 * images.size(), "tvx.resize_list: sizes must hold [h, w] for each of the ",
              images.size(), " images, got ", sizes.size(), " values");
  for (std::size_t i = 0; i < images.size(); ++i) {
    TORCH_CHECK(images[i].dim() == 3, "tvx.resize_list: image ", i, " must have shape [C, H, W], got ", images[i].sizes());
    TORCH_CHECK(images[i].size(1) > 0 && images[i].size(2) > 0, "tvx.resize_list: image ", i, " has no pixels (",
                images[i].sizes(), ")");
    check_resize_args("tvx.resize_list", images[i], sizes.slice(2 * i, 2));
  }
}

namespace {

template <typename A>
A filter(Interpolation mode, A x, A a) {
  x = std::abs(x);
  if (mode == Interpolation::bilinear) return x < 1 ? 1 - x : 0;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

Taps make(std::int64_t out, std::int64_t width) {
  Taps t;
  t.start.resize(out);
  t.count.resize(out);
  t.weights.assign(std::size_t(out * width), 0.0);
  t.width = width;
  return t;
}

// ATen's antialiased taps, computed in A (the kernel's float type: float32 for float32 images,
// double for float64 and uint8), as ATen computes them.
template <typename A>
Taps normalized(std::int64_t in, std::int64_t out, Interpolation mode, bool antialias) {
  const A scale = A(in) / A(out);
  const bool stretch = antialias && scale > 1;
  const A support = (mode == Interpolation::bilinear ? A(1) : A(2)) * (stretch ? scale : A(1));
  const A invscale = stretch ? A(1) / scale : A(1);
  const A a = antialias ? A(-0.5) : A(-0.75);
  Taps t = make(out, std::int64_t(std::ceil(double(support))) * 2 + 1);
  std::vector<A> w(std::size_t(t.width));
  for (std::int64_t i = 0; i < out; ++i) {
    const A center = scale * (A(i) + A(0.5));
    const std::int64_t lo = std::max<std::int64_t>(std::int64_t(center - support + A(0.5)), 0);
    const std::int64_t hi = std::min<std::int64_t>(std::int64_t(center + support + A(0.5)), in);
    A total = 0;
    for (std::int64_t j = 0; j < hi - lo; ++j) total += w[j] = filter(mode, (A(j + lo) - center + A(0.5)) * invscale, a);
    for (std::int64_t j = 0; j < hi - lo; ++j) t.weights[std::size_t(i * t.width + j)] = total != 0 ? w[j] / total : w[j];
    t.start[i] = lo;
    t.count[i] = hi - lo;
  }
  return t;
}

// scale * (i + 0.5) - 0.5 with one rounding, as ATen's build computes it (its compiler
// contracts the expression into a fused multiply-add; tvx compiles in ISO mode, which does
// not): a float32 position differs by an ulp otherwise, 1.5e-5 of a pixel at 256.
template <typename A>
A source_index(A scale, std::int64_t i) {
  return std::fma(scale, A(i) + A(0.5), A(-0.5));
}

// ATen's taps without antialias, in A: bilinear at scale * (i + 0.5) - 0.5 clamped at 0;
// bicubic (a = -0.75) over four pixels with indices clamped to the image.
template <typename A>
Taps plain(std::int64_t in, std::int64_t out, Interpolation mode) {
  const A scale = A(in) / A(out);
  if (mode == Interpolation::bilinear) {
    Taps t = make(out, 2);
    for (std::int64_t i = 0; i < out; ++i) {
      const A src = std::max(source_index(scale, i), A(0));
      const std::int64_t x0 = std::min<std::int64_t>(std::int64_t(src), in - 1);
      const A l1 = std::min(src - A(x0), A(1));
      t.start[i] = x0;
      t.count[i] = x0 < in - 1 ? 2 : 1;
      t.weights[std::size_t(2 * i)] = t.count[i] == 2 ? double(A(1) - l1) : 1.0;
      t.weights[std::size_t(2 * i + 1)] = t.count[i] == 2 ? double(l1) : 0.0;
    }
    return t;
  }
  Taps t = make(out, 4);
  for (std::int64_t i = 0; i < out; ++i) {
    const A src = source_index(scale, i);
    const std::int64_t x0 = std::int64_t(std::floor(src));
    const A f = src - A(x0), a = A(-0.75);
    const A k[4] = {filter(mode, f + 1, a), filter(mode, f, a), filter(mode, 1 - f, a), filter(mode, 2 - f, a)};
    const std::int64_t lo = std::clamp<std::int64_t>(x0 - 1, 0, in - 1), hi = std::clamp<std::int64_t>(x0 + 2, 0, in - 1);
    for (int j = 0; j < 4; ++j)
      t.weights[std::size_t(4 * i + std::clamp<std::int64_t>(x0 - 1 + j, 0, in - 1) - lo)] += double(k[j]);
    t.start[i] = lo;
    t.count[i] = hi - lo + 1;
  }
  return t;
}

}  // namespace

Taps compute_taps(std::int64_t in, std::int64_t out, Interpolation mode, bool antialias, at::ScalarType dtype) {
  if (dtype == at::kByte) {
    // ATen's uint8 path: the antialiased form in double, also for bilinear without antialias
    // (where it is the same filter); bicubic without antialias clamps its taps.
    if (mode == Interpolation::bicubic && !antialias) return plain<double>(in, out, mode);
    return normalized<double>(in, out, mode, antialias);
  }
  if (dtype == at::kFloat)
    return antialias ? normalized<float>(in, out, mode, true) : plain<float>(in, out, mode);
  return antialias ? normalized<double>(in, out, mode, true) : plain<double>(in, out, mode);
}

Taps slice(const Taps& t, std::int64_t first, std::int64_t n) {
  Taps s;
  s.width = t.width;
  s.largest = t.largest;
  if (s.largest == 0)
    for (double w : t.weights) s.largest = std::max(s.largest, w);
  s.start.assign(t.start.begin() + first, t.start.begin() + first + n);
  s.count.assign(t.count.begin() + first, t.count.begin() + first + n);
  s.weights.assign(t.weights.begin() + first * t.width, t.weights.begin() + (first + n) * t.width);
  return s;
}

std::vector<std::int64_t> nearest_indices(std::int64_t in, std::int64_t out, bool exact, NearestKernel kernel) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(out));
  const float fs = float(in) / float(out);
  const double ds = double(in) / double(out);
  for (std::int64_t i = 0; i < out; ++i) {
    float src = 0;
    switch (kernel) {
      case NearestKernel::channels_last:  // and CUDA: the scale and the product in float
        src = exact ? float((double(i) + 0.5) * double(fs)) : float(i) * fs;
        break;
      case NearestKernel::generic_float:  // exact: (i + 0.5) * scale - 0.5 in one rounding, then + 0.5
        src = exact ? std::max(std::fma(fs, float(i) + 0.5f, -0.5f), 0.0f) + 0.5f : fs * float(i);
        break;
      case NearestKernel::generic_double:  // computed in double, rounded to float before the floor
        src = exact ? float(std::max(std::fma(ds, double(i) + 0.5, -0.5), 0.0) + 0.5) : float(ds * double(i));
        break;
    }
    idx[std::size_t(i)] = std::min<std::int64_t>(std::int64_t(std::floor(src)), in - 1);
  }
  return idx;
}

NearestKernel cpu_nearest_kernel(at::ScalarType dtype, std::int64_t channels, bool interleaved, std::int64_t out_h,
                                 std::int64_t out_w) {
  if ((interleaved && channels > 3) || out_h + out_w <= 128) return NearestKernel::channels_last;
  return dtype == at::kDouble ? NearestKernel::generic_double : NearestKernel::generic_float;
}

}  // namespace detail

TVX_LIBRARY(m) {
  m.def("resize(Tensor image, SymInt[] size, str interpolation=\"bilinear\", bool antialias=True) -> Tensor");
  // A list of [C, H, W] images of any sizes, sizes = [h0, w0, h1, w1, ...]: one CUDA launch.
  m.def("resize_list(Tensor[] images, SymInt[] sizes, str interpolation=\"bilinear\", bool antialias=True) -> Tensor[]");
}

std::vector<std::int64_t> resized_size(std::int64_t height, std::int64_t width, c10::IntArrayRef size,
                                       std::optional<std::int64_t> max_size) {
  TORCH_CHECK(size.size() <= 2, "tvx.resize: size must be [h, w], [shorter edge] or empty (max_size alone), got ",
              size.size(), " values");
  TORCH_CHECK(size.size() != 2 || !max_size, "tvx.resize: max_size is only for a size of one value (the shorter "
              "edge) or none");
  if (size.size() == 2) return {size[0], size[1]};
  const bool tall = width <= height;
  const std::int64_t shorter = tall ? width : height, longer = tall ? height : width;
  std::int64_t new_short, new_long;
  if (size.empty()) {
    TORCH_CHECK(max_size, "tvx.resize: max_size is needed when size is empty");
    new_short = std::int64_t(double(*max_size) * double(shorter) / double(longer));
    new_long = *max_size;
  } else {
    new_short = size[0];
    new_long = std::int64_t(double(new_short) * double(longer) / double(shorter));
    if (max_size) {
      TORCH_CHECK(*max_size > size[0], "tvx.resize: max_size = ", *max_size,
                  " must be strictly greater than the requested size for the smaller edge size = ", size[0]);
      if (new_long > *max_size) {
        new_short = std::int64_t(double(*max_size) * double(new_short) / double(new_long));
        new_long = *max_size;
      }
    }
  }
  return tall ? std::vector<std::int64_t>{new_long, new_short} : std::vector<std::int64_t>{new_short, new_long};
}

at::Tensor resize(const at::Tensor& image, c10::IntArrayRef size, Interpolation interpolation,
                  std::optional<std::int64_t> max_size, bool antialias) {
  TORCH_CHECK(image.dim() >= 3, "tvx.resize: image must have shape [..., C, H, W], got ", image.sizes());
  const auto hw = resized_size(image.size(-2), image.size(-1), size, max_size);
  const auto t = image.scalar_type();
  if (t == at::kBool || (at::isIntegralType(t, /*includeBool=*/false) && t != at::kByte)) {
    // As torchvision: other integer images (and bool masks) resample in float32, rounded back.
    if (hw[0] == image.size(-2) && hw[1] == image.size(-1)) return image;
    at::Tensor f = resize(image.to(at::kFloat), hw, interpolation, std::nullopt, antialias);
    return (t == at::kBool ? f : f.round_()).to(t);
  }
  using Sig = at::Tensor(const at::Tensor&, c10::SymIntArrayRef, c10::string_view, bool);
  return core::call_op<"tvx::resize", Sig>(image, c10::fromIntArrayRefSlow(hw), detail::interpolation_name(interpolation),
                                           antialias);
}

std::vector<at::Tensor> resize(at::TensorList images, c10::IntArrayRef size, Interpolation interpolation,
                               std::optional<std::int64_t> max_size, bool antialias) {
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < images.size(); ++i) {
    TORCH_CHECK(images[i].dim() == 3, "tvx.resize_list: image ", i, " must have shape [C, H, W], got ", images[i].sizes());
    const auto hw = resized_size(images[i].size(1), images[i].size(2), size, max_size);
    sizes.insert(sizes.end(), hw.begin(), hw.end());
  }
  if (images.empty()) return {};  // no tensor to dispatch on
  using Sig = std::vector<at::Tensor>(at::TensorList, c10::SymIntArrayRef, c10::string_view, bool);
  return core::call_op<"tvx::resize_list", Sig>(images, c10::fromIntArrayRefSlow(sizes),
                                                detail::interpolation_name(interpolation), antialias);
}

}  // namespace tvx::transforms
