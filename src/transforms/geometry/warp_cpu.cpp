// The sampling step of the warps (affine, rotate, perspective, elastic) on the CPU, fused: for
// each output pixel, its grid point (the grid torchvision's own arithmetic made) unnormalised,
// 1 or 4 source pixels read straight from the uint8 or float32 image, the fill blended by the
// share of the window inside the image, and uint8 rounded: one pass, no float copy of the
// image, no extra mask channel, no intermediate tensors. The arithmetic is grid_sampler's
// (zeros padding, align_corners=False) and torchvision's blend, operation by operation: ATen's
// vectorised kernel is compiled with FMA where its tier has it, and its unnormalisation and
// four-corner sum come out fused; this file is compiled with -ffp-contract=off and fuses
// exactly those (std::fma) when ATen's kernel does, so the results equal torchvision's. Cost: a few dozen operations per output pixel and channel; bytes: the output once,
// the grid once, the source pixels the windows touch.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/check.h"
#include "core/registration.h"
#include "transforms/geometry/geometry.h"

namespace tvx::transforms {
namespace {

// float -> uint8 as ATen's conversion does it (through int64, so out-of-range values wrap).
inline std::uint8_t to_u8(float v) { return static_cast<std::uint8_t>(static_cast<std::int64_t>(v)); }

template <typename T>
struct Image {
  const T* data;
  std::int64_t c, h, w, sc, sy, sx;
  float at(std::int64_t ch, std::int64_t y, std::int64_t x) const { return static_cast<float>(data[ch * sc + y * sy + x * sx]); }
};

// Whether ATen's grid_sampler kernel in use fuses its multiply-adds: its AVX2/AVX-512 kernels
// (built with -mfma) and ARM's do; x86's DEFAULT kernel (no FMA in the baseline) does not.
bool aten_fuses() {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
  static const bool fuses = at::get_cpu_capability() != "DEFAULT";
  return fuses;
#else
  return true;
#endif
}

template <bool Fused>
inline float madd(float a, float b, float c) {
  if constexpr (Fused) return std::fma(a, b, c);
  return a * b + c;  // not contracted: -ffp-contract=off
}

// A row of a grid that is stored: (gx, gy) pairs.
struct StoredRow {
  const float* g;
  void operator()(std::int64_t ox, float& gx, float& gy) const { gx = g[2 * ox], gy = g[2 * ox + 1]; }
};

// A row of the grid torchvision's bmm makes: each point (xs[j], ys[i], 1) times theta [3, 2],
// summed as ATen's CPU bmm sums it here ((x * t0 + y * t1) + t2, unfused); for perspective,
// over the same with theta2, minus 1.
struct AffineRow {
  const float* xs;
  float y;
  float t[6], t2[6];
  bool perspective;
  void operator()(std::int64_t ox, float& gx, float& gy) const {
    const float x = xs[ox];
    gx = (x * t[0] + y * t[2]) + t[4];
    gy = (x * t[1] + y * t[3]) + t[5];
    if (perspective) {
      gx = gx / ((x * t2[0] + y * t2[2]) + t2[4]) - 1.0f;
      gy = gy / ((x * t2[1] + y * t2[3]) + t2[5]) - 1.0f;
    }
  }
};

template <typename T, bool Nearest, bool Fill, bool Fused, typename Row>
void sample_row(const Image<T>& in, const Row& grid, std::int64_t ow, const float* fill, T* out, std::int64_t out_sc) {
  const float sw = static_cast<float>(in.w) / 2, sh = static_cast<float>(in.h) / 2;
  const std::int64_t C = in.c;
  for (std::int64_t ox = 0; ox < ow; ++ox) {
    // Unnormalised as grid_sampler's CPU kernel: (g + 1) * (size / 2) - 0.5.
    float gx, gy;
    grid(ox, gx, gy);
    const float x = madd<Fused>(gx + 1.0f, sw, -0.5f);
    const float y = madd<Fused>(gy + 1.0f, sh, -0.5f);
    if constexpr (Nearest) {
      const float xn = std::nearbyint(x), yn = std::nearbyint(y);
      // (int32 conversion as grid_sampler's; a NaN or huge coordinate is out of bounds)
      // (compared in double: float(w) rounds widths above 2^24)
      const bool inside = xn > -1.0f && double(xn) < double(in.w) && yn > -1.0f && double(yn) < double(in.h);
      const std::int64_t ix = inside ? std::int64_t(xn) : 0, iy = inside ? std::int64_t(yn) : 0;
      for (std::int64_t c = 0; c < C; ++c) {
        float v = inside ? in.at(c, iy, ix) : 0.0f;
        if constexpr (Fill) v = inside ? v : fill[c];  // mask 1 inside, 0 outside: mask < 0.5 takes the fill
        if constexpr (std::is_same_v<T, std::uint8_t>)
          out[c * out_sc + ox] = to_u8(std::nearbyint(v));
        else
          out[c * out_sc + ox] = v;
      }
    } else {
      const float xw = std::floor(x), yn = std::floor(y);
      const float w = x - xw, e = 1.0f - w, n = y - yn, s = 1.0f - n;
      const float nw = s * e, ne = s * w, sw_ = n * e, se = n * w;
      const bool finite = xw > -2.0f && double(xw) < double(in.w) && yn > -2.0f && double(yn) < double(in.h);
      const std::int64_t ix = finite ? std::int64_t(xw) : -2, iy = finite ? std::int64_t(yn) : -2;
      const bool xw_in = ix > -1 && ix < in.w, xe_in = ix + 1 > -1 && ix + 1 < in.w;
      const bool yn_in = iy > -1 && iy < in.h, ys_in = iy + 1 > -1 && iy + 1 < in.h;
      const bool m_nw = xw_in && yn_in, m_ne = xe_in && yn_in, m_sw = xw_in && ys_in, m_se = xe_in && ys_in;
      float mask = 0.0f;
      if constexpr (Fill)
        mask = madd<Fused>(float(m_se), se, madd<Fused>(float(m_sw), sw_, madd<Fused>(float(m_ne), ne, float(m_nw) * nw)));
      for (std::int64_t c = 0; c < C; ++c) {
        const float v_nw = m_nw ? in.at(c, iy, ix) : 0.0f, v_ne = m_ne ? in.at(c, iy, ix + 1) : 0.0f;
        const float v_sw = m_sw ? in.at(c, iy + 1, ix) : 0.0f, v_se = m_se ? in.at(c, iy + 1, ix + 1) : 0.0f;
        // nw + ne + sw + se, in that order
        float v = madd<Fused>(v_se, se, madd<Fused>(v_sw, sw_, madd<Fused>(v_ne, ne, v_nw * nw)));
        if constexpr (Fill) {
          const float f = fill[c];
          v = (v - f) * mask + f;
        }
        if constexpr (std::is_same_v<T, std::uint8_t>)
          out[c * out_sc + ox] = to_u8(std::nearbyint(v));
        else
          out[c * out_sc + ox] = v;
      }
    }
  }
}

// The row prototype of the points (xs[j], y, 1) times theta (and theta2) [3, 2]; xs contiguous.
AffineRow affine_row(const at::Tensor& xs, const at::Tensor& theta, const std::optional<at::Tensor>& theta2) {
  AffineRow row{xs.const_data_ptr<float>(), 0.0f, {}, {}, theta2.has_value()};
  const auto read = [](const at::Tensor& t, float* to) {
    const at::Tensor c = t.reshape({3, 2}).contiguous();
    std::copy_n(c.const_data_ptr<float>(), 6, to);
  };
  read(theta, row.t);
  if (theta2) read(*theta2, row.t2);
  return row;
}

// row_of(b, oy): the grid row of output row oy of image b.
template <typename T, bool Nearest, bool Fill, bool Fused, typename RowOf>
void sample(const at::Tensor& image, const RowOf& row_of, const float* fill, at::Tensor& out) {
  const std::int64_t n = image.size(0), oh = out.size(2), ow = out.size(3);
  const T* src = image.const_data_ptr<T>();
  T* dst = out.mutable_data_ptr<T>();
  const std::int64_t out_sc = oh * ow, out_sn = image.size(1) * oh * ow;
  at::parallel_for(0, n * oh, std::max<std::int64_t>(1, 2048 / std::max<std::int64_t>(ow, 1)), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::int64_t b = r / oh, oy = r % oh;
      const Image<T> in{src + b * image.stride(0), image.size(1), image.size(2), image.size(3),
                        image.stride(1), image.stride(2), image.stride(3)};
      sample_row<T, Nearest, Fill, Fused>(in, row_of(b, oy), ow, fill, dst + b * out_sn + oy * ow, out_sc);
    }
  });
}

// Runs sample() for the image's dtype, the mode, with or without fill, fused as ATen's.
template <typename RowOf>
at::Tensor run_sample(const at::Tensor& image, std::int64_t oh, std::int64_t ow, const RowOf& row_of, bool nearest,
                      std::optional<c10::ArrayRef<double>> fill) {
  TORCH_CHECK(image.scalar_type() == at::kByte || image.scalar_type() == at::kFloat,
              "tvx._warp_sample: image must be uint8 or float32");
  at::Tensor out = at::empty({image.size(0), image.size(1), oh, ow}, image.options());
  if (out.numel() == 0) return out;
  std::vector<float> f;
  if (fill) {
    TORCH_CHECK(fill->size() == 1 || std::int64_t(fill->size()) == image.size(1),
                "tvx._warp_sample: fill must have 1 value or one per channel");
    for (std::int64_t c = 0; c < image.size(1); ++c) f.push_back(float((*fill)[fill->size() == 1 ? 0 : c]));
  }
  const auto run = [&](auto tag, auto fused) {
    using T = decltype(tag);
    constexpr bool F = decltype(fused)::value;
    if (nearest)
      fill ? sample<T, true, true, F>(image, row_of, f.data(), out) : sample<T, true, false, F>(image, row_of, nullptr, out);
    else
      fill ? sample<T, false, true, F>(image, row_of, f.data(), out) : sample<T, false, false, F>(image, row_of, nullptr, out);
  };
  const auto with_dtype = [&](auto fused) {
    if (image.scalar_type() == at::kByte)
      run(std::uint8_t{}, fused);
    else
      run(float{}, fused);
  };
  if (aten_fuses())
    with_dtype(std::true_type{});
  else
    with_dtype(std::false_type{});
  return out;
}

// image [N, C, H, W] uint8 or float32, grid [1 or N, oh, ow, 2] float32: the warped
// [N, C, oh, ow] in the image's dtype; fill: none, or 1 or C values.
at::Tensor warp_sample_cpu(const at::Tensor& image, const at::Tensor& grid, bool nearest,
                           std::optional<c10::ArrayRef<double>> fill) {
  TORCH_CHECK(image.dim() == 4 && grid.dim() == 4 && grid.size(3) == 2 && grid.scalar_type() == at::kFloat &&
                  (grid.size(0) == 1 || grid.size(0) == image.size(0)),
              "tvx._warp_sample: expects image [N, C, H, W] and a float32 grid [1 or N, h, w, 2]");
  const at::Tensor g = grid.contiguous();
  const float* data = g.const_data_ptr<float>();
  const std::int64_t oh = g.size(1), ow = g.size(2), batch = g.size(0) == 1 ? 0 : oh * ow * 2;
  return run_sample(image, oh, ow, [&](std::int64_t b, std::int64_t oy) { return StoredRow{data + b * batch + oy * ow * 2}; },
                    nearest, fill);
}

// The same with the grid described, not stored: points (xs[j], ys[i], 1) times theta [.., 3, 2]
// (and over theta2's, minus 1, for perspective), as torchvision's bmm computes them.
at::Tensor warp_affine_sample_cpu(const at::Tensor& image, const at::Tensor& xs, const at::Tensor& ys,
                                  const at::Tensor& theta, const std::optional<at::Tensor>& theta2, bool nearest,
                                  std::optional<c10::ArrayRef<double>> fill) {
  TORCH_CHECK(image.dim() == 4 && xs.dim() == 1 && ys.dim() == 1 && theta.numel() == 6 &&
                  (!theta2 || theta2->numel() == 6) && xs.scalar_type() == at::kFloat && ys.scalar_type() == at::kFloat &&
                  theta.scalar_type() == at::kFloat,
              "tvx._warp_affine_sample: expects image [N, C, H, W], float32 xs [w], ys [h] and theta [3, 2]");
  const at::Tensor x = xs.contiguous(), y = ys.contiguous();
  const AffineRow proto = affine_row(x, theta, theta2);
  const float* yv = y.const_data_ptr<float>();
  return run_sample(image, y.size(0), x.size(0),
                    [&](std::int64_t, std::int64_t oy) {
                      AffineRow r = proto;
                      r.y = yv[oy];
                      return r;
                    },
                    nearest, fill);
}


at::Tensor warp_sample_meta(const at::Tensor& image, const at::Tensor& grid, bool, std::optional<c10::ArrayRef<double>>) {
  return at::empty_symint({image.sym_size(0), image.sym_size(1), grid.sym_size(1), grid.sym_size(2)}, image.options());
}

at::Tensor warp_affine_sample_meta(const at::Tensor& image, const at::Tensor& xs, const at::Tensor& ys, const at::Tensor&,
                                   const std::optional<at::Tensor>&, bool, std::optional<c10::ArrayRef<double>>) {
  return at::empty_symint({image.sym_size(0), image.sym_size(1), ys.sym_size(0), xs.sym_size(0)}, image.options());
}

}  // namespace

namespace detail {

at::Tensor affine_grid_pointwise(const at::Tensor& xs, const at::Tensor& ys, const at::Tensor& theta,
                                 const std::optional<at::Tensor>& theta2) {
  const at::Tensor x = xs.contiguous(), y = ys.contiguous();
  AffineRow row = affine_row(x, theta, theta2);
  const std::int64_t oh = y.size(0), ow = x.size(0);
  at::Tensor grid = at::empty({1, oh, ow, 2}, x.options());
  float* g = grid.mutable_data_ptr<float>();
  for (std::int64_t i = 0; i < oh; ++i) {
    row.y = y.const_data_ptr<float>()[i];
    for (std::int64_t j = 0; j < ow; ++j) row(j, g[(i * ow + j) * 2], g[(i * ow + j) * 2 + 1]);
  }
  return grid;
}

}  // namespace detail

TVX_LIBRARY(m) {
  m.def("_warp_sample(Tensor image, Tensor grid, bool nearest, float[]? fill) -> Tensor");
  m.def("_warp_affine_sample(Tensor image, Tensor xs, Tensor ys, Tensor theta, Tensor? theta2, bool nearest, "
        "float[]? fill) -> Tensor");
}

TVX_LIBRARY_IMPL(CPU, m) {
  m.impl("_warp_sample", &warp_sample_cpu);
  m.impl("_warp_affine_sample", &warp_affine_sample_cpu);
}
TVX_LIBRARY_IMPL(Meta, m) {
  m.impl("_warp_sample", &warp_sample_meta);
  m.impl("_warp_affine_sample", &warp_affine_sample_meta);
}

}  // namespace tvx::transforms
