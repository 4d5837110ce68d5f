// Private to the deform_conv folder: the sampling geometry that every backend shares (host
// and device), the sizes of one call, and the two kernels a backend supplies to the
// backend-independent driver of deform_conv.cpp.
//
// deform_conv2d is a convolution whose kernel taps are moved: tap k = (i, j) of output pixel
// (oy, ox) reads input channel c at
//   y = oy * stride_h - pad_h + i * dilation_h + offset[b, og, k, 0, oy, ox]
//   x = ox * stride_w - pad_w + j * dilation_w + offset[b, og, k, 1, oy, ox]
// by bilinear interpolation (0 outside the image), times mask[b, og, k, oy, ox] with a mask,
// where og = c / (C / offset_groups). The driver gathers these samples into columns
// [C * K, B * HW] (K = kh * kw, HW = out_h * out_w) and multiplies by the weight, as
// torchvision does; the backward scatters the columns' gradient back (im2col's transpose)
// and differentiates the samples in their positions and masks.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/macros/Macros.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <tuple>

namespace tvx::ops::deform_conv {

/// The sizes of one call, and of the chunk of images [first, first + batch) a kernel runs on.
struct Geometry {
  std::int64_t batch;                 // images in the chunk
  std::int64_t channels, height, width;
  std::int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  std::int64_t out_h, out_w;
  std::int64_t offset_groups;
  bool use_mask;

  C10_HOST_DEVICE std::int64_t taps() const { return kernel_h * kernel_w; }
  C10_HOST_DEVICE std::int64_t plane() const { return out_h * out_w; }
  C10_HOST_DEVICE std::int64_t group_channels() const { return channels / offset_groups; }
  /// Samples of the chunk: (b, og, k, pixel).
  C10_HOST_DEVICE std::int64_t samples() const { return batch * offset_groups * taps() * plane(); }
};

/// The channel blocks that lie within one offset group and one weight group: C / gcd(C / OG,
/// C / groups) of them (1 in the common case of one group of each).
inline std::int64_t scatter_groups(const Geometry& g, std::int64_t groups) {
  return g.channels == 0 ? 0 : g.channels / std::gcd(g.group_channels(), g.channels / groups);
}

/// Where sample (b, og, k, pixel) lies, and its mask. offset/mask: the chunk's, contiguous
/// [batch, offset_groups * K * 2 | K, out_h, out_w].
template <typename T>
struct Sample {
  T y, x, mask;
};

template <typename T, typename scalar_t, typename index_t>
C10_HOST_DEVICE inline Sample<T> sample_at(const Geometry& g, const scalar_t* offset, const scalar_t* mask, index_t b,
                                           index_t og, index_t k, index_t pixel) {
  // Divisions in index_t (int32 on the GPU where the sizes allow: 64-bit ones cost ~10x).
  const index_t ow = static_cast<index_t>(g.out_w), kw = static_cast<index_t>(g.kernel_w);
  const index_t oy = pixel / ow, ox = pixel - oy * ow, i = k / kw, j = k - i * kw;
  const std::int64_t hw = g.plane(), sample = ((std::int64_t(b) * g.offset_groups + og) * g.taps() + k) * hw + pixel;
  const scalar_t* off = offset + sample + (std::int64_t(b) * g.offset_groups + og) * g.taps() * hw + std::int64_t(k) * hw;
  Sample<T> s;
  s.y = static_cast<T>(std::int64_t(oy) * g.stride_h - g.pad_h + std::int64_t(i) * g.dilation_h) + static_cast<T>(off[0]);
  s.x = static_cast<T>(std::int64_t(ox) * g.stride_w - g.pad_w + std::int64_t(j) * g.dilation_w) + static_cast<T>(off[hw]);
  s.mask = g.use_mask ? static_cast<T>(mask[sample]) : T(1);
  return s;
}

/// The four pixels around (y, x), as torchvision reads them. Corner q = 2 * dy + dx is
/// (floor(y) + dy, floor(x) + dx); `valid` has bit q when it lies in the image. The
/// interpolated value is 0 unless -1 < y < H and -1 < x < W (`inside`); the coordinate
/// gradient reads the valid corners regardless (so at y = -1 exactly it is not 0, as
/// torchvision's). NaN coordinates have no valid corner and are not inside.
template <typename T>
struct Corners {
  std::int64_t offset[4];  // y * stride_h + x * stride_w of each corner (0 where not valid)
  T ly, lx;                // y - floor(y), x - floor(x)
  unsigned valid;
  bool inside;
};

template <typename T>
C10_HOST_DEVICE inline Corners<T> corners(T y, T x, std::int64_t height, std::int64_t width, std::int64_t stride_h,
                                          std::int64_t stride_w) {
  Corners<T> c;
  c.inside = y > T(-1) && y < static_cast<T>(height) && x > T(-1) && x < static_cast<T>(width);
  const T fy = ::floor(y), fx = ::floor(x);
  c.ly = y - fy;
  c.lx = x - fx;
  // Compared as T first: a far (or NaN) coordinate is never converted to an integer.
  const bool y0 = fy >= T(0) && fy < static_cast<T>(height), y1 = fy >= T(-1) && fy < static_cast<T>(height - 1);
  const bool x0 = fx >= T(0) && fx < static_cast<T>(width), x1 = fx >= T(-1) && fx < static_cast<T>(width - 1);
  const std::int64_t iy = (y0 || y1) ? static_cast<std::int64_t>(fy) : 0;
  const std::int64_t ix = (x0 || x1) ? static_cast<std::int64_t>(fx) : 0;
  c.valid = (y0 && x0 ? 1u : 0u) | (y0 && x1 ? 2u : 0u) | (y1 && x0 ? 4u : 0u) | (y1 && x1 ? 8u : 0u);
  for (int q = 0; q < 4; ++q) {
    const std::int64_t py = iy + (q >> 1), px = ix + (q & 1);
    c.offset[q] = (c.valid >> q) & 1u ? py * stride_h + px * stride_w : 0;
  }
  return c;
}

/// The corner values of one channel's plane (0 where not valid), `plane` at (0, 0).
template <typename T, typename scalar_t>
C10_HOST_DEVICE inline void corner_values(const Corners<T>& c, const scalar_t* plane, T v[4]) {
  for (int q = 0; q < 4; ++q) v[q] = (c.valid >> q) & 1u ? static_cast<T>(plane[c.offset[q]]) : T(0);
}

/// Bilinear weight of corner q.
template <typename T>
C10_HOST_DEVICE inline T corner_weight(const Corners<T>& c, int q) {
  return ((q >> 1) ? c.ly : T(1) - c.ly) * ((q & 1) ? c.lx : T(1) - c.lx);
}

/// The interpolated value (torchvision's bilinear_interpolate).
template <typename T>
C10_HOST_DEVICE inline T interpolate(const Corners<T>& c, const T v[4]) {
  if (!c.inside) return T(0);
  const T hy = T(1) - c.ly, hx = T(1) - c.lx;
  return hy * hx * v[0] + hy * c.lx * v[1] + c.ly * hx * v[2] + c.ly * c.lx * v[3];
}

/// d value / dy and d value / dx over the valid corners (torchvision's coordinate weight).
template <typename T>
C10_HOST_DEVICE inline T d_dy(const Corners<T>& c, const T v[4]) {
  return c.lx * (v[3] - v[1]) + (T(1) - c.lx) * (v[2] - v[0]);
}
template <typename T>
C10_HOST_DEVICE inline T d_dx(const Corners<T>& c, const T v[4]) {
  return c.ly * (v[3] - v[2]) + (T(1) - c.ly) * (v[1] - v[0]);
}

/// The mask's data, or null without a mask (an undefined tensor).
template <typename scalar_t>
const scalar_t* data_or_null(const at::Tensor& t) {
  return t.defined() ? t.const_data_ptr<scalar_t>() : nullptr;
}

/// A backend's kernels, on the chunk's tensors: offset [batch, OG * K * 2, out_h, out_w] and
/// mask [batch, OG * K, out_h, out_w] (undefined without a mask) contiguous, and one of two
/// layouts, the backend's choice:
/// - channels first (`channels_last` false): input contiguous [batch, C, H, W]; columns
///   [C * K, batch * HW], row c * K + k;
/// - channels last (true): input [batch, C, H, W] in channels_last memory; columns [batch *
///   HW, groups, K, C / groups], so each sample's channels are contiguous and each weight
///   group's block is a matrix [batch * HW, K * C / groups].
/// grad_input has input's strides (float32 for float16/bfloat16 input, else input's dtype).
struct Kernels {
  bool channels_last;
  /// columns = mask * the input interpolated at each sample, for each channel and tap.
  void (*im2col)(const Geometry& g, std::int64_t groups, const at::Tensor& input, const at::Tensor& offset,
                 const at::Tensor& mask, at::Tensor& columns);
  /// From grad_columns (as columns): grad_input (added to; zero on entry), grad_offset and
  /// grad_mask (written, the shapes of offset and mask; grad_mask undefined without a mask).
  void (*col2im)(const Geometry& g, std::int64_t groups, const at::Tensor& grad_columns, const at::Tensor& input,
                 const at::Tensor& offset, const at::Tensor& mask, at::Tensor& grad_input, at::Tensor& grad_offset,
                 at::Tensor& grad_mask);
};

/// The driver (deform_conv.cpp): checks, chunks of images, the matrix products, bias.
at::Tensor forward(const Kernels& kernels, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                   const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w,
                   std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w,
                   std::int64_t groups, std::int64_t offset_groups, bool use_mask);

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> backward(
    const Kernels& kernels, const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& offset, const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h,
    std::int64_t stride_w, std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w,
    std::int64_t groups, std::int64_t offset_groups, bool use_mask);

/// A backend's kernels for the two operators:
///   TVX_LIBRARY_IMPL(CPU, m) { Backend<false, &im2col, &col2im>::define(m); }
template <bool ChannelsLast, auto Im2col, auto Col2im>
struct Backend {
  static constexpr Kernels kKernels{ChannelsLast, Im2col, Col2im};
  static at::Tensor forward_kernel(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                                   const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h,
                                   std::int64_t stride_w, std::int64_t pad_h, std::int64_t pad_w,
                                   std::int64_t dilation_h, std::int64_t dilation_w, std::int64_t groups,
                                   std::int64_t offset_groups, bool use_mask) {
    return forward(kKernels, input, weight, offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dilation_h,
                   dilation_w, groups, offset_groups, use_mask);
  }
  static std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> backward_kernel(
      const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
      const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w,
      std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w, std::int64_t groups,
      std::int64_t offset_groups, bool use_mask) {
    return backward(kKernels, grad, input, weight, offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dilation_h,
                    dilation_w, groups, offset_groups, use_mask);
  }
  static void define(torch::Library& m) {
    m.impl("deform_conv2d", &forward_kernel);
    m.impl("_deform_conv2d_backward", &backward_kernel);
  }
};

}  // namespace tvx::ops::deform_conv
