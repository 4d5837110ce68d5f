// Private to the roi family (roi_align, ps_roi_align, roi_pool, ps_roi_pool): the geometry
// every backend shares, written once for host and device, and the argument checks. The
// arithmetic follows torchvision's CPU kernels operation by operation, so tvx's CPU results
// equal theirs bit for bit (CUDA may differ in the last bits: nvcc fuses multiply-adds).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/macros/Macros.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>

namespace tvx::ops::roi {

// ---------------------------------------------------------------------------------------
// Argument checks (roi.cpp)

/// input [N, C, H, W] and rois [K, 5] (batch index, x1, y1, x2, y2): floating, one device,
/// rois of input's dtype (or float32/float64 when input is float16/bfloat16), pooled sizes
/// > 0, a finite spatial_scale and, for the position-sensitive ops, C a multiple of PH*PW.
/// sampling_ratio is at most kMaxGrid and PH * PW fits in int32.
void check_forward(const char* op, const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                   std::int64_t pooled_height, std::int64_t pooled_width, bool position_sensitive);

/// grad [K, C', PH, PW] for the backward operators; sizes of the input they return.
void check_backward(const char* op, const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                    std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                    std::int64_t channels, std::int64_t height, std::int64_t width, bool position_sensitive);

/// Batch indices of rois in [0, batch_size) after truncation, as torchvision reads them (a
/// NaN fails). Pass the RoIs the kernels read (rois_for's: 1.99999999 in float64 is 2 in
/// float32). CPU only: the CUDA kernels assert it on the device (cuda::valid_batch), so
/// that they never wait for the host.
void check_batch_indices(const char* op, const at::Tensor& rois, std::int64_t batch_size);

/// roi_align / ps_roi_align: sampling_ratio <= kMaxGrid.
void check_sampling_ratio(const char* op, std::int64_t sampling_ratio);

/// rois in the dtype the kernels read them in: the compute type of `dtype`.
at::Tensor rois_for(const at::Tensor& rois, at::ScalarType dtype);

/// A backward's zeroed [N, C, H, W] sum, in float32 for float16/bfloat16 grads (rounded once
/// by `.to(grad.scalar_type())` at the end), else in grad's dtype.
at::Tensor grad_input_sum(const at::Tensor& grad, std::int64_t batch_size, std::int64_t channels, std::int64_t height,
                          std::int64_t width);

/// CPU work items per parallel task: about 64k samples' worth.
inline std::int64_t cpu_grain(std::int64_t per_item) { return std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(per_item, 1)); }

// ---------------------------------------------------------------------------------------
// A backend's entry points and registration, from its two implementations (same for CPU and
// CUDA): Forward(op, input, rois, scale, PH, PW, sampling_ratio, aligned, position_sensitive)
// -> (output, channel map) and Backward(op, grad, rois, scale, PH, PW, N, C, H, W,
// sampling_ratio, aligned, position_sensitive) for the align ops; Forward(op, input, rois,
// scale, PH, PW, position_sensitive) -> (output, argmax or channel map) and Backward(op,
// grad, rois, index, scale, PH, PW, N, C, H, W, position_sensitive) for the pool ops.

using I64 = std::int64_t;

template <auto Forward, auto Backward>
struct AlignBackend {
  static at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, double scale, I64 ph, I64 pw,
                              I64 sampling_ratio, bool aligned) {
    return std::get<0>(Forward("tvx.roi_align", input, rois, scale, ph, pw, sampling_ratio, aligned, false));
  }
  static std::tuple<at::Tensor, at::Tensor> ps_roi_align(const at::Tensor& input, const at::Tensor& rois, double scale,
                                                         I64 ph, I64 pw, I64 sampling_ratio) {
    return Forward("tvx.ps_roi_align", input, rois, scale, ph, pw, sampling_ratio, true, true);
  }
  static at::Tensor roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, double scale, I64 ph, I64 pw,
                                       I64 n, I64 c, I64 h, I64 w, I64 sampling_ratio, bool aligned) {
    return Backward("tvx._roi_align_backward", grad, rois, scale, ph, pw, n, c, h, w, sampling_ratio, aligned, false);
  }
  // The channel map is the formula ps_channel(): its values are not read.
  static at::Tensor ps_roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor&,
                                          double scale, I64 ph, I64 pw, I64 sampling_ratio, I64 n, I64 c, I64 h,
                                          I64 w) {
    return Backward("tvx._ps_roi_align_backward", grad, rois, scale, ph, pw, n, c, h, w, sampling_ratio, true, true);
  }
  static void define(torch::Library& m) {
    m.impl("roi_align", &roi_align);
    m.impl("_roi_align_backward", &roi_align_backward);
    m.impl("ps_roi_align", &ps_roi_align);
    m.impl("_ps_roi_align_backward", &ps_roi_align_backward);
  }
};

template <auto Forward, auto Backward>
struct PoolBackend {
  static std::tuple<at::Tensor, at::Tensor> roi_pool(const at::Tensor& input, const at::Tensor& rois, double scale,
                                                     I64 ph, I64 pw) {
    return Forward("tvx.roi_pool", input, rois, scale, ph, pw, false);
  }
  static std::tuple<at::Tensor, at::Tensor> ps_roi_pool(const at::Tensor& input, const at::Tensor& rois, double scale,
                                                        I64 ph, I64 pw) {
    return Forward("tvx.ps_roi_pool", input, rois, scale, ph, pw, true);
  }
  static at::Tensor roi_pool_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& argmax,
                                      double scale, I64 ph, I64 pw, I64 n, I64 c, I64 h, I64 w) {
    return Backward("tvx._roi_pool_backward", grad, rois, argmax, scale, ph, pw, n, c, h, w, false);
  }
  static at::Tensor ps_roi_pool_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& mapping,
                                         double scale, I64 ph, I64 pw, I64 n, I64 c, I64 h, I64 w) {
    return Backward("tvx._ps_roi_pool_backward", grad, rois, mapping, scale, ph, pw, n, c, h, w, true);
  }
  static void define(torch::Library& m) {
    m.impl("roi_pool", &roi_pool);
    m.impl("_roi_pool_backward", &roi_pool_backward);
    m.impl("ps_roi_pool", &ps_roi_pool);
    m.impl("_ps_roi_pool_backward", &ps_roi_pool_backward);
  }
};

// ---------------------------------------------------------------------------------------
// Geometry, host and device. T is the compute type: float for float32/float16/bfloat16,
// double for float64.

#ifdef __CUDA_ARCH__
#define TVX_ROI_MATH(f) ::f
#else
#define TVX_ROI_MATH(f) std::f
#endif

/// The largest sampling grid per bin axis: larger explicit sampling ratios are refused, and
/// adaptive grids (bins over 4096 pixels, huge or NaN coordinates) are clamped, so the
/// sample counts of a RoI (PH * PW * grid^2 * 4 < 2^57) never overflow. torchvision's int
/// arithmetic overflows there.
constexpr std::int64_t kMaxGrid = 1 << 12;

/// A float grid size as an int in [-kMaxGrid, kMaxGrid] (NaN: 0); negative sizes are kept
/// because ps_roi_align divides by their product, as torchvision does.
template <typename T>
C10_HOST_DEVICE inline int grid_size(T g) {
  if (!(g == g)) return 0;
  const T lim = static_cast<T>(kMaxGrid);
  return static_cast<int>(g > lim ? lim : (g < -lim ? -lim : g));
}

/// round(v) as an index, clamped to +-2^40 (NaN: 0) so that the conversion is defined.
template <typename T>
C10_HOST_DEVICE inline std::int64_t rounded_index(T v) {
  v = TVX_ROI_MATH(round)(v);
  if (!(v == v)) return 0;
  const T lim = static_cast<T>(std::int64_t(1) << 40);
  return static_cast<std::int64_t>(v > lim ? lim : (v < -lim ? -lim : v));
}

/// One RoI of roi_align / ps_roi_align: origin, bin size and sampling grid.
template <typename T>
struct AlignRoi {
  std::int64_t batch;
  T start_h, start_w, bin_h, bin_w;
  int grid_h, grid_w;
  T count;  // samples per bin, as the divisor (roi_align: at least 1)
};

/// roi = 5 values. roi_align: aligned shifts by half a pixel; unaligned RoIs are at least
/// 1x1; the divisor is at least 1. ps_roi_align always shifts and clamps nothing: an empty
/// RoI there has 0 samples and averages to 0/0 = NaN, as torchvision's does.
template <typename T>
C10_HOST_DEVICE inline AlignRoi<T> align_roi(const T* roi, T spatial_scale, std::int64_t pooled_height,
                                             std::int64_t pooled_width, std::int64_t sampling_ratio, bool aligned,
                                             bool position_sensitive) {
  AlignRoi<T> r;
  r.batch = static_cast<std::int64_t>(roi[0]);
  const T offset = (aligned || position_sensitive) ? T(0.5) : T(0);
  r.start_w = roi[1] * spatial_scale - offset;
  r.start_h = roi[2] * spatial_scale - offset;
  T width = roi[3] * spatial_scale - offset - r.start_w;
  T height = roi[4] * spatial_scale - offset - r.start_h;
  if (!aligned && !position_sensitive) {
    width = width > T(1) ? width : T(1);
    height = height > T(1) ? height : T(1);
  }
  r.bin_h = height / static_cast<T>(pooled_height);
  r.bin_w = width / static_cast<T>(pooled_width);
  r.grid_h = sampling_ratio > 0 ? static_cast<int>(sampling_ratio)
                                : grid_size(TVX_ROI_MATH(ceil)(height / static_cast<T>(pooled_height)));
  r.grid_w = sampling_ratio > 0 ? static_cast<int>(sampling_ratio)
                                : grid_size(TVX_ROI_MATH(ceil)(width / static_cast<T>(pooled_width)));
  const T count = static_cast<T>(r.grid_h * r.grid_w);
  r.count = position_sensitive ? count : (count > T(1) ? count : T(1));
  return r;
}

/// Coordinate of sample i of bin p along one axis (y: start_h, bin_h, grid_h).
template <typename T>
C10_HOST_DEVICE inline T sample_coord(T start, T bin, int grid, std::int64_t p, int i) {
  return start + static_cast<T>(p) * bin + static_cast<T>(i + .5f) * bin / static_cast<T>(grid);
}

/// Bilinear interpolation along one axis of length n: the two neighbours and their weights.
/// A coordinate outside [-1, n] (or NaN), or any on an empty axis, is not sampled.
template <typename T>
struct Axis {
  std::int64_t lo, hi;
  T w_lo, w_hi;
  bool valid;
};

template <typename T>
C10_HOST_DEVICE inline Axis<T> axis(T v, std::int64_t n) {
  Axis<T> a;
  a.valid = n > 0 && v >= T(-1) && v <= static_cast<T>(n);
  if (!a.valid) {
    a.lo = a.hi = 0;
    a.w_lo = a.w_hi = T(0);
    return a;
  }
  if (v <= T(0)) v = T(0);
  a.lo = static_cast<std::int64_t>(v);
  if (a.lo >= n - 1) {
    a.lo = a.hi = n - 1;
    v = static_cast<T>(a.lo);
  } else {
    a.hi = a.lo + 1;
  }
  const T l = v - static_cast<T>(a.lo);
  a.w_hi = l;
  a.w_lo = T(1) - l;
  return a;
}

/// One pooling bin of roi_pool / ps_roi_pool: [h0, h1) x [w0, w1), clipped to the image.
struct PoolBin {
  std::int64_t h0, h1, w0, w1;
  C10_HOST_DEVICE bool empty() const { return h1 <= h0 || w1 <= w0; }
};

/// One RoI of roi_pool / ps_roi_pool in whole pixels (rounded half away from zero).
/// roi_pool counts both end pixels (x2 - x1 + 1); ps_roi_pool does not. Both are at least 1.
template <typename T>
struct PoolRoi {
  std::int64_t batch, start_h, start_w;
  T bin_h, bin_w;
};

template <typename T>
C10_HOST_DEVICE inline PoolRoi<T> pool_roi(const T* roi, T spatial_scale, std::int64_t pooled_height,
                                           std::int64_t pooled_width, bool position_sensitive) {
  PoolRoi<T> r;
  r.batch = static_cast<std::int64_t>(roi[0]);
  r.start_w = rounded_index(roi[1] * spatial_scale);
  r.start_h = rounded_index(roi[2] * spatial_scale);
  const std::int64_t end_w = rounded_index(roi[3] * spatial_scale);
  const std::int64_t end_h = rounded_index(roi[4] * spatial_scale);
  const std::int64_t extra = position_sensitive ? 0 : 1;
  const std::int64_t width = end_w - r.start_w + extra > 1 ? end_w - r.start_w + extra : 1;
  const std::int64_t height = end_h - r.start_h + extra > 1 ? end_h - r.start_h + extra : 1;
  r.bin_h = static_cast<T>(height) / static_cast<T>(pooled_height);
  r.bin_w = static_cast<T>(width) / static_cast<T>(pooled_width);
  return r;
}

/// Bin (ph, pw), clipped to [0, limit_h] x [0, limit_w]. torchvision clips roi_pool's bins
/// and ps_roi_pool's gradient to the image (limit = H, W) but ps_roi_pool's forward to
/// H - 1, W - 1: its last row and column are never pooled. tvx's forward does the same;
/// its gradient is that of the forward (see ps_roi_pool in the README).
template <typename T>
C10_HOST_DEVICE inline PoolBin pool_bin(const PoolRoi<T>& r, std::int64_t ph, std::int64_t pw, std::int64_t limit_h,
                                        std::int64_t limit_w) {
  auto clip = [](std::int64_t v, std::int64_t hi) { return v < 0 ? 0 : (v > hi ? hi : v); };
  PoolBin b;
  b.h0 = clip(static_cast<std::int64_t>(TVX_ROI_MATH(floor)(static_cast<T>(ph) * r.bin_h)) + r.start_h, limit_h);
  b.h1 = clip(static_cast<std::int64_t>(TVX_ROI_MATH(ceil)(static_cast<T>(ph + 1) * r.bin_h)) + r.start_h, limit_h);
  b.w0 = clip(static_cast<std::int64_t>(TVX_ROI_MATH(floor)(static_cast<T>(pw) * r.bin_w)) + r.start_w, limit_w);
  b.w1 = clip(static_cast<std::int64_t>(TVX_ROI_MATH(ceil)(static_cast<T>(pw + 1) * r.bin_w)) + r.start_w, limit_w);
  return b;
}

/// ps ops: input channel of output channel c_out at bin (ph, pw), as torchvision numbers them.
C10_HOST_DEVICE inline std::int64_t ps_channel(std::int64_t c_out, std::int64_t ph, std::int64_t pw,
                                               std::int64_t pooled_height, std::int64_t pooled_width) {
  return (c_out * pooled_height + ph) * pooled_width + pw;
}

}  // namespace tvx::ops::roi
