// The geometric transforms of torchvision.transforms.v2.functional on image tensors and masks:
// flips, rotate90, crop, center_crop, resized_crop, pad, affine, rotate, perspective, elastic.
// Each is an operator (torch.ops.tvx.<name>) written with ATen's operations in torchvision's
// order, so one definition serves the CPU, CUDA, autograd and Meta (CompositeImplicitAutograd)
// and the results equal torchvision's. Flips, crops and pads move each byte once; the warps
// build one sampling grid (H x W x 2 floats) and resample through grid_sampler, which reads
// each output's 1 or 4 source pixels.
#include <tvx/transforms.h>

#include <ATen/ATen.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <c10/util/safe_numerics.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <string_view>
#include <utility>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"
#include "transforms/geometry/geometry.h"
#include "transforms/resize/resize.h"

namespace tvx::transforms {
namespace detail {

AffineArgs parse_affine(const char* op, double angle, c10::ArrayRef<double> translate, double scale,
                        c10::ArrayRef<double> shear, std::optional<c10::ArrayRef<double>> center) {
  TORCH_CHECK(translate.size() == 2, op, ": translate must have 2 values, got ", translate.size());
  TORCH_CHECK(scale > 0.0, op, ": scale must be positive, got ", scale);
  TORCH_CHECK(shear.size() == 1 || shear.size() == 2, op, ": shear must have 1 or 2 values, got ", shear.size());
  AffineArgs a{angle, translate[0], translate[1], scale, shear[0], shear.size() == 2 ? shear[1] : shear[0], {}};
  if (center) {
    TORCH_CHECK(center->size() == 2, op, ": center must have 2 values, got ", center->size());
    a.center = std::array<double, 2>{(*center)[0], (*center)[1]};
  }
  return a;
}

std::array<double, 6> affine_matrix(std::array<double, 2> center, const AffineArgs& a, bool inverted) {
  // M = T * C * RotateScaleShear * C^-1; RSS = R(angle) * S(scale) * SHy(shear_y) * SHx(shear_x).
  constexpr double radians = std::numbers::pi / 180.0;  // Python's math.radians
  const double rot = a.angle * radians, sx = a.shear_x * radians, sy = a.shear_y * radians;
  const auto [cx, cy] = center;
  const double cos_sy = std::cos(sy), tan_sx = std::tan(sx), rot_minus_sy = rot - sy;
  const double cx_plus_tx = cx + a.tx, cy_plus_ty = cy + a.ty;
  const double pa = std::cos(rot_minus_sy) / cos_sy;
  const double pb = -(pa * tan_sx + std::sin(rot));
  const double pc = std::sin(rot_minus_sy) / cos_sy;
  const double pd = std::cos(rot) - pc * tan_sx;
  std::array<double, 6> m;
  if (inverted) {  // det(RSS) = 1 without the scale
    m = {pd / a.scale, -pb / a.scale, 0.0, -pc / a.scale, pa / a.scale, 0.0};
    m[2] += cx - m[0] * cx_plus_tx - m[1] * cy_plus_ty;
    m[5] += cy - m[3] * cx_plus_tx - m[4] * cy_plus_ty;
  } else {
    m = {pa * a.scale, pb * a.scale, 0.0, pc * a.scale, pd * a.scale, 0.0};
    m[2] += cx_plus_tx - m[0] * cx - m[1] * cy;
    m[5] += cy_plus_ty - m[3] * cx - m[4] * cy;
  }
  return m;
}

std::array<std::int64_t, 2> affine_output_size(const std::array<double, 6>& m, std::int64_t w, std::int64_t h) {
  // The corners about the centre through the matrix, in float32; the bounds truncated to 1e-4
  // first so that 1e-15 past an integer does not add a pixel.
  const double half_w = 0.5 * double(w), half_h = 0.5 * double(h);
  const float corners[4][2] = {{float(-half_w), float(-half_h)}, {float(-half_w), float(half_h)},
                               {float(half_w), float(half_h)}, {float(half_w), float(-half_h)}};
  float lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (const auto& p : corners) {
    for (int r = 0; r < 2; ++r) {
      const float v = float(m[3 * r]) * p[0] + float(m[3 * r + 1]) * p[1] + float(m[3 * r + 2]);
      lo[r] = std::min(lo[r], v);
      hi[r] = std::max(hi[r], v);
    }
  }
  const float halfs[2] = {float(half_w), float(half_h)};
  std::array<std::int64_t, 2> size;
  for (int r = 0; r < 2; ++r) {
    const float cmax = std::ceil(std::trunc((hi[r] + halfs[r]) * 10000.0f) * 1e-4f);
    const float cmin = std::floor(std::trunc((lo[r] + halfs[r]) * 10000.0f) * 1e-4f);
    TORCH_CHECK(std::isfinite(cmax - cmin) && cmax - cmin < 9.0e18f,
                "tvx.rotate: the expanded output's size is not finite (is the angle or the center NaN or infinite?)");
    size[r] = std::int64_t(cmax - cmin);
  }
  return size;
}

at::Tensor constant(c10::ArrayRef<double> values, const at::TensorOptions& options) {
  // Written in float64 and converted, so that a value beyond the dtype's range becomes inf (as
  // torch.tensor(values, dtype) makes it) instead of failing fill_'s range check.
  at::Tensor t = at::empty({std::int64_t(values.size())}, options.dtype(at::kDouble));
  for (std::size_t i = 0; i < values.size(); ++i) t.select(0, std::int64_t(i)).fill_(values[i]);
  return options.dtype() == at::kDouble ? t : t.to(options.dtype().toScalarType());
}

}  // namespace detail

namespace {

void check_image(const char* op, const at::Tensor& image, int64_t min_dim = 3) {
  TORCH_CHECK(image.dim() >= min_dim, op, ": image must have shape ", min_dim == 3 ? "[..., C, H, W]" : "[..., H, W]",
              ", got ", image.sym_sizes());
}

void check_warp_interpolation(const char* op, Interpolation mode) {
  TORCH_CHECK(mode == Interpolation::nearest || mode == Interpolation::bilinear, op,
              ": interpolation must be nearest or bilinear, got ", detail::interpolation_name(mode));
}

// The image's shape with its last two sizes replaced by h, w.
std::vector<std::int64_t> with_hw(const at::Tensor& image, std::int64_t h, std::int64_t w) {
  std::vector<std::int64_t> shape = detail::shape(image);
  shape[shape.size() - 2] = h;
  shape[shape.size() - 1] = w;
  return shape;
}

void check_fill(const char* op, const at::Tensor& image, std::optional<c10::ArrayRef<double>> fill) {
  if (!fill) return;
  const auto n = static_cast<std::int64_t>(fill->size());
  TORCH_CHECK(n >= 1, op, ": fill must have 1 value or one per channel, got none");
  TORCH_CHECK(n == 1 || n == detail::dim(image, -3), op, ": fill has ", n, " values, the image ", detail::dim(image, -3),
              " channels: give 1 value or one per channel");
}

// torchvision's _apply_grid_transform through ATen: images [N, C, H, W] sampled at grid [1, oh,
// ow, 2] (normalised, align_corners=False) with zeros outside; with fill, a channel of ones
// rides along and says how much of each output came from inside the image.
at::Tensor sample_with_aten(const at::Tensor& x, at::Tensor grid, Interpolation mode,
                            std::optional<c10::ArrayRef<double>> fill) {
  const std::int64_t n = detail::dim(x, 0), c = detail::dim(x, 1), h = detail::dim(x, 2), w = detail::dim(x, 3);
  const std::int64_t oh = detail::dim(grid, 1), ow = detail::dim(grid, 2);
  const bool fp = x.scalar_type() == grid.scalar_type();
  at::Tensor f = fp ? x : x.to(grid.scalar_type());
  if (n > 1) grid = grid.expand({n, -1, -1, -1});
  if (fill) f = at::cat({f, at::ones({n, 1, h, w}, f.options())}, 1);
  f = at::grid_sampler(f, grid, mode == Interpolation::nearest ? 1 : 0, /*padding_mode=zeros*/ 0,
                       /*align_corners=*/false);
  if (fill) {
    const at::Tensor inside = f.slice(1, c).expand({n, c, oh, ow});
    f = f.slice(1, 0, c);
    const at::Tensor fill_image = detail::constant(*fill, f.options()).view({1, -1, 1, 1});
    if (mode == Interpolation::nearest)
      f = at::where(inside < 0.5, fill_image.expand_as(f), f);
    else  // mask * (image - fill) + fill
      f = f.sub(fill_image).mul_(inside).add_(fill_image);
  }
  if (!fp) f = f.round_().to(x.scalar_type());
  return f;
}

at::Tensor fused_sample(const at::Tensor& x, const at::Tensor& grid, Interpolation mode,
                        std::optional<c10::ArrayRef<double>> fill) {
  using Sig = at::Tensor(const at::Tensor&, const at::Tensor&, bool, std::optional<c10::ArrayRef<double>>);
  return core::call_op<"tvx::_warp_sample", Sig>(x, grid, mode == Interpolation::nearest, fill);
}

// A grid [1, oh, ow, 2] as torchvision makes the affine and perspective ones: the points
// (xs[j], ys[i], 1) times theta [1, 3, 2] (a transposed view, as torchvision lays it out:
// cuBLAS sums another layout in another order, and the grid must be torchvision's to the
// bit); for perspective, over the same times theta2, minus 1.
struct GridSpec {
  at::Tensor xs, ys, theta, theta2;  // theta2 undefined: affine

  at::Tensor make() const {
    const std::int64_t oh = detail::dim(ys, 0), ow = detail::dim(xs, 0);
    at::Tensor base = at::empty({1, oh, ow, 3}, theta.options());
    base.select(-1, 0).copy_(xs);
    base.select(-1, 1).copy_(ys.unsqueeze(-1));
    base.select(-1, 2).fill_(1);
    const at::Tensor flat = base.view({1, oh * ow, 3});
    at::Tensor g = flat.bmm(theta);
    if (theta2.defined()) g = g.div_(flat.bmm(theta2)).sub_(1.0);
    return g.view({1, oh, ow, 2});
  }

  std::optional<at::Tensor> theta2_or_none() const { return theta2.defined() ? std::optional(theta2) : std::nullopt; }
};

// The grid of an inverted affine matrix over an ow x oh output, the input being w x h
// (torchvision's _affine_grid: pixel centres about the output's centre, float32 as linspace
// makes them, normalised by the input's half size), in the sampling dtype.
GridSpec affine_grid(const std::array<double, 6>& m, at::ScalarType dtype, const at::Device& device, std::int64_t w,
                     std::int64_t h, std::int64_t ow, std::int64_t oh) {
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  const auto f32 = opts.dtype(at::kFloat);
  GridSpec g;
  g.xs = at::linspace((1.0 - double(ow)) * 0.5, (double(ow) - 1.0) * 0.5, ow, f32);
  g.ys = at::linspace((1.0 - double(oh)) * 0.5, (double(oh) - 1.0) * 0.5, oh, f32);
  g.theta = detail::constant({m[0], m[1], m[2], m[3], m[4], m[5]}, opts)
                .view({1, 2, 3})
                .transpose(1, 2)
                .div_(detail::constant({0.5 * double(w), 0.5 * double(h)}, opts));
  return g;
}

// The grid of perspective coefficients k [8] over an ow x oh image: each output pixel centre
// (x, y) goes to ((a x + b y + c) / (g x + h y + 1), (d x + e y + f) / (g x + h y + 1)),
// normalised by the output's half size (torchvision's _perspective_grid).
GridSpec perspective_grid(c10::ArrayRef<double> k, const at::TensorOptions& opts, std::int64_t ow, std::int64_t oh) {
  GridSpec grid;
  grid.xs = at::linspace(0.5, double(ow) - 0.5, ow, opts);
  grid.ys = at::linspace(0.5, double(oh) - 0.5, oh, opts);
  // The thetas [1, 2, 3] transposed, as torchvision lays them out (see GridSpec).
  grid.theta = detail::constant({k[0], k[1], k[2], k[3], k[4], k[5]}, opts)
                   .view({1, 2, 3})
                   .transpose(1, 2)
                   .div_(detail::constant({0.5 * double(ow), 0.5 * double(oh)}, opts));
  grid.theta2 = detail::constant({k[6], k[7], 1.0, k[6], k[7], 1.0}, opts).view({1, 2, 3}).transpose(1, 2);
  return grid;
}

// The CPU's fused warps (warp_cpu.cpp) give torchvision's bits only where they repeat ATen's
// arithmetic on this machine, and that depends on the machine: grid_sampler's kernel fuses its
// multiply-adds or not by the CPU's tier, and the BLAS behind bmm sums the grid's three-term
// products in an order of its own (MKL takes other kernels on other CPUs: on the development
// machine's AMD EPYC it sums ((x * t0 + y * t1) + t2), unfused; on the GPU machine's CPU it
// does not). So each step is checked once, on first use, against ATen itself on probe warps
// (rotations, an affine map and a perspective one; grids of 8x8 (ATen's own small-bmm kernel)
// to 640x480, uint8 and float32, nearest and bilinear, with and without fill); a step that
// differs anywhere falls back to ATen's: the sampler to grid_sampler's chain, the pointwise
// grid to bmm's stored grid. bmm's routing also follows two global settings (float32 matmul
// precision, oneDNN on or off): the pointwise grid serves only while they are as checked.
// TVX_CPU_WARPS=stored-grid or =aten forces those fallbacks (the tests run each).
struct FusedWarps {
  bool sampler = false, grid = false;
  at::Float32MatmulPrecision precision = at::Float32MatmulPrecision::HIGHEST;  // bmm's settings when checked
  bool mkldnn = true;
};

FusedWarps check_fused_warps(bool grid_too) {
  // Real tensors on the default dispatch state, whatever mode the first caller runs under
  // (a fake-tensor trace, functorch's transforms, functionalisation, autocast).
  const c10::impl::ForceDispatchKeyGuard clean(c10::default_included_set, c10::default_excluded_set);
  const at::NoGradGuard no_grad;
  FusedWarps f{true, grid_too, at::globalContext().float32MatmulPrecision(), at::globalContext().userEnabledMkldnn()};
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  // A fixed pattern, not random numbers: the caller's random streams stay as they were.
  const at::Tensor u8 = at::arange(3 * 29 * 41, at::kLong).mul_(40503).remainder_(251).to(at::kByte).view({1, 3, 29, 41});
  const at::Tensor fl = u8.to(at::kFloat).mul_(0.731);
  const double pers[8] = {1.1, 0.1, -2.0, -0.1, 1.3, -1.0, 0.001, 0.002};
  std::vector<std::pair<GridSpec, bool>> grids;  // a grid, and whether to sample with it too
  for (const double angle : {-33.0, 17.0, 90.5}) {
    const double no_move[2] = {0.0, 0.0}, shear[2] = {4.0, -7.0};
    const auto args = detail::parse_affine("tvx.probe", angle, no_move, angle > 0 ? 1.0 : 0.9, shear, std::nullopt);
    const auto m = detail::affine_matrix({0.0, 0.0}, args, /*inverted=*/true);
    grids.emplace_back(affine_grid(m, at::kFloat, at::kCPU, 41, 29, 8, 8), true);
    grids.emplace_back(affine_grid(m, at::kFloat, at::kCPU, 41, 29, 41, 29), true);
    grids.emplace_back(affine_grid(m, at::kFloat, at::kCPU, 41, 29, 53, 37), true);
    grids.emplace_back(affine_grid(m, at::kFloat, at::kCPU, 41, 29, 641, 33), true);  // a long bmm
    grids.emplace_back(affine_grid(m, at::kFloat, at::kCPU, 41, 29, 640, 480), false);
  }
  grids.emplace_back(perspective_grid(pers, f32, 41, 29), true);
  grids.emplace_back(perspective_grid(pers, f32, 641, 33), true);
  grids.emplace_back(perspective_grid(pers, f32, 640, 480), false);
  const double fill[3] = {7.0, 200.0, 13.5};
  for (const auto& [g, sample] : grids) {
    const at::Tensor stored = g.make();
    f.grid = f.grid && at::equal(stored, detail::affine_grid_pointwise(g.xs, g.ys, g.theta, g.theta2_or_none()));
    if (!sample) continue;
    for (const at::Tensor& x : {u8, fl})
      for (const auto mode : {Interpolation::nearest, Interpolation::bilinear})
        for (const bool filled : {false, true}) {
          const auto fl_ = filled ? std::optional<c10::ArrayRef<double>>(fill) : std::nullopt;
          f.sampler = f.sampler && at::equal(fused_sample(x, stored, mode, fl_), sample_with_aten(x, stored, mode, fl_));
        }
  }
  f.grid = f.grid && f.sampler;  // the pointwise grid is read by the fused sampler only
  return f;
}

const FusedWarps& fused_warps() {
  static const FusedWarps checked = [] {
    const char* forced = std::getenv("TVX_CPU_WARPS");
    const std::string_view force = forced ? forced : "";
    TORCH_CHECK(force.empty() || force == "stored-grid" || force == "aten",
                "TVX_CPU_WARPS: expected stored-grid or aten, got ", force);
    return force == "aten" ? FusedWarps{} : check_fused_warps(force.empty());
  }();
  return checked;
}

// Whether the fused sampler may compute the affine and perspective grids point by point.
bool pointwise_grid() {
  const FusedWarps& f = fused_warps();
  const auto& ctx = at::globalContext();
  return f.grid && ctx.float32MatmulPrecision() == f.precision && ctx.userEnabledMkldnn() == f.mkldnn;
}


// The CPU's fused sampler serves uint8 and float32 images that need no gradient, where it
// gives ATen's bits (above). (Not for planes of 2^31 pixels or more: ATen's grid_sampler takes
// its scalar, unfused fallback there.)
bool fused_cpu(const at::Tensor& image) {
  const auto t = image.scalar_type();
  return image.device().is_cpu() && (t == at::kByte || t == at::kFloat) &&
         !(at::GradMode::is_enabled() && image.requires_grad()) &&
         detail::dim(image, -2) * detail::dim(image, -1) <= std::int64_t(std::numeric_limits<std::int32_t>::max()) &&
         fused_warps().sampler;
}

// torchvision's _apply_grid_transform: image [..., C, H, W] sampled at grid [1, oh, ow, 2],
// through the fused sampler where it serves, else through ATen.
at::Tensor apply_grid(const at::Tensor& image, at::Tensor grid, Interpolation mode,
                      std::optional<c10::ArrayRef<double>> fill) {
  const std::int64_t c = detail::dim(image, -3), h = detail::dim(image, -2), w = detail::dim(image, -1);
  const std::vector<std::int64_t> out_shape = with_hw(image, detail::dim(grid, 1), detail::dim(grid, 2));
  if (detail::empty(image)) return image.new_zeros(out_shape);
  const at::Tensor x = image.reshape({-1, c, h, w});
  if (fused_cpu(image) && grid.scalar_type() == at::kFloat && !(at::GradMode::is_enabled() && grid.requires_grad()))
    return fused_sample(x, grid, mode, fill).reshape(out_shape);
  return sample_with_aten(x, grid, mode, fill).reshape(out_shape);
}

at::Tensor warp(const at::Tensor& image, const GridSpec& grid, Interpolation mode,
                std::optional<c10::ArrayRef<double>> fill) {
  if (fused_cpu(image) && grid.theta.scalar_type() == at::kFloat && pointwise_grid()) {
    const std::int64_t c = detail::dim(image, -3), h = detail::dim(image, -2), w = detail::dim(image, -1);
    const std::vector<std::int64_t> out_shape = with_hw(image, detail::dim(grid.ys, 0), detail::dim(grid.xs, 0));
    if (detail::empty(image)) return image.new_zeros(out_shape);
    using Sig = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                           const std::optional<at::Tensor>&, bool, std::optional<c10::ArrayRef<double>>);
    return core::call_op<"tvx::_warp_affine_sample", Sig>(image.reshape({-1, c, h, w}), grid.xs, grid.ys, grid.theta,
                                                          grid.theta2_or_none(), mode == Interpolation::nearest, fill)
        .reshape(out_shape);
  }
  return apply_grid(image, grid.make(), mode, fill);
}

at::ScalarType grid_dtype(const at::Tensor& image) {
  return image.is_floating_point() ? image.scalar_type() : at::kFloat;
}

// Runs an image transform on a mask: [..., H, W] is taken as one channel.
template <class F>
at::Tensor on_mask(const at::Tensor& mask, F&& f) {
  TORCH_CHECK(mask.dim() >= 2, "tvx: a mask must have shape [..., H, W], got ", mask.sym_sizes());
  if (mask.dim() >= 3) return f(mask);
  return f(mask.unsqueeze(0)).squeeze(0);
}

std::vector<std::int64_t> crop_size(const char* op, c10::IntArrayRef output_size) {
  TORCH_CHECK(output_size.size() == 1 || output_size.size() == 2, op, ": output_size must have 1 or 2 values, got ",
              output_size.size());
  const std::int64_t ch = output_size[0], cw = output_size.size() == 2 ? output_size[1] : output_size[0];
  TORCH_CHECK(ch >= 0 && cw >= 0, op, ": output_size must not be negative, got ", output_size);
  return {ch, cw};
}

// torch.nn.functional.pad's order: [left, right, top, bottom] from pad's [all], [lr, tb] or
// [left, top, right, bottom].
std::array<std::int64_t, 4> torch_padding(const char* op, c10::IntArrayRef p) {
  switch (p.size()) {
    case 1: return {p[0], p[0], p[0], p[0]};
    case 2: return {p[0], p[0], p[1], p[1]};
    case 4: return {p[0], p[2], p[1], p[3]};
    default: TORCH_CHECK(false, op, ": padding must have 1, 2 or 4 values, got ", p.size());
  }
}

// Edge, reflect or symmetric padding p = [left, right, top, bottom] >= 0 by block copies: the
// image into the middle once, then each border from its edge pixel (repeated) or its mirror
// band (reflect leaves the edge pixel out, symmetric repeats it): the rows first, then whole
// padded rows.
at::Tensor pad_blocks(const at::Tensor& image, std::array<std::int64_t, 4> p, PaddingMode mode) {
  const auto [left, right, top, bottom] = p;
  const std::int64_t h = detail::dim(image, -2), w = detail::dim(image, -1);
  const char* name = mode == PaddingMode::edge ? "edge" : mode == PaddingMode::reflect ? "reflect" : "symmetric";
  // A mirror band reaches one pixel short of the far edge (reflect) or to it (symmetric).
  const std::int64_t reach = mode == PaddingMode::reflect ? 1 : 0;
  TORCH_CHECK(mode == PaddingMode::edge || (left + reach <= w && right + reach <= w && top + reach <= h && bottom + reach <= h),
              "tvx.pad: ", name, " padding [", left, ", ", right, ", ", top, ", ", bottom, "] must be ",
              reach ? "less than" : "at most", " the image's size [", h, ", ", w, "]");
  TORCH_CHECK((h > 0 || top + bottom == 0) && (w > 0 || left + right == 0), "tvx.pad: cannot pad an axis of size 0 with padding_mode ",
              name);
  at::Tensor out = at::empty(with_hw(image, h + top + bottom, w + left + right),
                             image.options().memory_format(at::MemoryFormat::Contiguous));
  // The `before` and `after` bands of `dst` along `dim` from `src` (size n there, placed at `before`).
  const auto borders = [&](const at::Tensor& dst, const at::Tensor& src, std::int64_t dim, std::int64_t n,
                           std::int64_t before, std::int64_t after) {
    if (before > 0) {
      at::Tensor band = dst.slice(dim, 0, before);
      band.copy_(mode == PaddingMode::edge ? src.slice(dim, 0, 1).expand_as(band)
                                           : src.slice(dim, reach, reach + before).flip(dim));
    }
    if (after > 0) {
      at::Tensor band = dst.slice(dim, before + n);
      band.copy_(mode == PaddingMode::edge ? src.slice(dim, n - 1, n).expand_as(band)
                                           : src.slice(dim, n - reach - after, n - reach).flip(dim));
    }
  };
  at::Tensor rows = out.slice(-2, top, top + h);  // the image's rows, full padded width
  rows.slice(-1, left, left + w).copy_(image);
  borders(rows, image, -1, w, left, right);  // [left pad | image | right pad]
  borders(out, rows, -2, h, top, bottom);    // whole padded rows above and below
  return out;
}

}  // namespace

std::string cpu_warp_path() {
  if (!fused_warps().sampler) return "ATen's grid_sampler chain";
  return pointwise_grid() ? "fused sampler, pointwise grid" : "fused sampler, bmm grid";
}

at::Tensor horizontal_flip(const at::Tensor& image) {
  check_image("tvx.horizontal_flip", image, 2);
  return image.flip(-1);
}

at::Tensor vertical_flip(const at::Tensor& image) {
  check_image("tvx.vertical_flip", image, 2);
  return image.flip(-2);
}

at::Tensor rotate90(const at::Tensor& image, std::int64_t k) {
  check_image("tvx.rotate90", image, 2);
  return at::rot90(image, k, {-2, -1});
}

at::Tensor crop(const at::Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  check_image("tvx.crop", image, 2);
  TORCH_CHECK(height >= 0 && width >= 0, "tvx.crop: height and width must not be negative, got ", height, ", ", width);
  const std::int64_t h = detail::dim(image, -2), w = detail::dim(image, -1);
  std::int64_t bottom, right;
  TORCH_CHECK(!c10::add_overflows(top, height, &bottom) && !c10::add_overflows(left, width, &right),
              "tvx.crop: top + height and left + width must fit in 64 bits");
  if (top >= 0 && left >= 0 && bottom <= h && right <= w) return image.slice(-2, top, bottom).slice(-1, left, right);
  const std::int64_t y0 = std::max<std::int64_t>(top, 0), y1 = std::min(bottom, h);
  const std::int64_t x0 = std::max<std::int64_t>(left, 0), x1 = std::min(right, w);
  if (y1 <= y0 || x1 <= x0) return image.new_zeros(with_hw(image, height, width));  // the image does not reach the region
  // What the image holds, padded with zeros to the region.
  return at::constant_pad_nd(image.slice(-2, y0, y1).slice(-1, x0, x1), {x0 - left, right - x1, y0 - top, bottom - y1}, 0);
}

at::Tensor center_crop(const at::Tensor& image, c10::IntArrayRef output_size) {
  check_image("tvx.center_crop", image, 2);
  const auto size = crop_size("tvx.center_crop", output_size);
  const std::int64_t ch = size[0], cw = size[1];
  // torchvision pads a crop larger than the image with zeros first and then crops at the
  // anchor: crop's region with its zeros outside the image.
  return crop(image, detail::crop_anchor(detail::dim(image, -2), ch), detail::crop_anchor(detail::dim(image, -1), cw), ch,
              cw);
}

at::Tensor resized_crop(const at::Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height,
                        std::int64_t width, c10::IntArrayRef size, Interpolation interpolation, bool antialias) {
  check_image("tvx.resized_crop", image);
  return resize(crop(image, top, left, height, width), size, interpolation, std::nullopt, antialias);
}

at::Tensor pad(const at::Tensor& image, c10::IntArrayRef padding, std::optional<c10::ArrayRef<double>> fill,
               PaddingMode padding_mode) {
  check_image("tvx.pad", image);
  const auto p = torch_padding("tvx.pad", padding);
  const auto sizes = detail::shape(image);
  const std::int64_t c = sizes[sizes.size() - 3], h = sizes[sizes.size() - 2], w = sizes[sizes.size() - 1];
  if (detail::empty(image))  // nothing to mirror or replicate: the padded shape
    return image.new_zeros(with_hw(image, std::max<std::int64_t>(h + p[2] + p[3], 0), std::max<std::int64_t>(w + p[0] + p[1], 0)));
  std::int64_t n = 1;  // the leading axes as one
  for (std::size_t i = 0; i + 3 < sizes.size(); ++i) n *= sizes[i];
  at::Tensor x = image.reshape({n, c, h, w});
  const bool vector_fill = fill && fill->size() > 1;
  TORCH_CHECK(!fill || !fill->empty(), "tvx.pad: fill must have 1 value or one per channel, got none");
  TORCH_CHECK(!vector_fill || padding_mode == PaddingMode::constant,
              "tvx.pad: a fill of several values needs padding_mode constant");
  switch (padding_mode) {
    case PaddingMode::constant:
      x = at::constant_pad_nd(x, p, vector_fill || !fill ? 0.0 : (*fill)[0]);
      break;
    case PaddingMode::edge:
    case PaddingMode::reflect: {
      const bool edge = padding_mode == PaddingMode::edge;
      if (!x.is_floating_point() && p[0] >= 0 && p[1] >= 0 && p[2] >= 0 && p[3] >= 0) {
        // Integers: ATen pads floating point only, and torchvision goes through float32; block
        // copies give the same values without the two conversions.
        x = pad_blocks(x, p, padding_mode);
        break;
      }
      const bool cast = !x.is_floating_point();
      at::Tensor f = cast ? x.to(at::kFloat) : x;
      f = at::pad(f, c10::IntArrayRef(p), edge ? "replicate" : "reflect");
      x = cast ? f.to(image.scalar_type()) : f;
      break;
    }
    case PaddingMode::symmetric: {  // negative padding crops first, as torchvision's
      const auto cut = [](std::int64_t v) { return std::max<std::int64_t>(-v, 0); };
      const std::int64_t h1 = detail::dim(x, -2), w1 = detail::dim(x, -1);
      x = x.slice(-2, cut(p[2]), h1 - cut(p[3])).slice(-1, cut(p[0]), w1 - cut(p[1]));
      std::array<std::int64_t, 4> q;
      for (int i = 0; i < 4; ++i) q[i] = std::max<std::int64_t>(p[i], 0);
      x = pad_blocks(x, q, padding_mode);
      break;
    }
  }
  if (vector_fill) {
    TORCH_CHECK(static_cast<std::int64_t>(fill->size()) == c, "tvx.pad: fill has ", fill->size(), " values, the image ",
                c, " channels");
    // As torch.tensor(fill).to(dtype): float32 values for a floating-point image; integers exact
    // (float64 holds them to 2^53) for an integer image.
    const auto via = x.is_floating_point() ? at::kFloat : at::kDouble;
    const at::Tensor v = detail::constant(*fill, x.options().dtype(via)).to(x.scalar_type()).view({-1, 1, 1});
    const std::int64_t oh = detail::dim(x, -2), ow = detail::dim(x, -1);
    const auto [left, right, top, bottom] = p;
    if (top > 0) x.slice(-2, 0, top).copy_(v.expand({c, std::min(top, oh), ow}));
    if (left > 0) x.slice(-1, 0, left).copy_(v.expand({c, oh, std::min(left, ow)}));
    if (bottom > 0) x.slice(-2, std::max<std::int64_t>(oh - bottom, 0)).copy_(v.expand({c, std::min(bottom, oh), ow}));
    if (right > 0) x.slice(-1, std::max<std::int64_t>(ow - right, 0)).copy_(v.expand({c, oh, std::min(right, ow)}));
  }
  return x.reshape(with_hw(image, detail::dim(x, -2), detail::dim(x, -1)));
}

at::Tensor affine(const at::Tensor& image, double angle, c10::ArrayRef<double> translate, double scale,
                  c10::ArrayRef<double> shear, Interpolation interpolation, std::optional<c10::ArrayRef<double>> fill,
                  std::optional<c10::ArrayRef<double>> center) {
  constexpr const char* op = "tvx.affine";
  const core::NoAutocast no_autocast;  // grid_sampler is on autocast's float32 list
  check_image(op, image);
  const auto args = detail::parse_affine(op, angle, translate, scale, shear, center);
  check_warp_interpolation(op, interpolation);
  check_fill(op, image, fill);
  const std::int64_t h = detail::dim(image, -2), w = detail::dim(image, -1);
  // The centre in pixels about the image's centre.
  std::array<double, 2> c{0.0, 0.0};
  if (args.center) c = {(*args.center)[0] - double(w) * 0.5, (*args.center)[1] - double(h) * 0.5};
  const auto m = detail::affine_matrix(c, args, /*inverted=*/true);
  return warp(image, affine_grid(m, grid_dtype(image), image.device(), w, h, w, h), interpolation, fill);
}

at::Tensor rotate(const at::Tensor& image, double angle, Interpolation interpolation, bool expand,
                  std::optional<c10::ArrayRef<double>> center, std::optional<c10::ArrayRef<double>> fill) {
  constexpr const char* op = "tvx.rotate";
  const core::NoAutocast no_autocast;  // grid_sampler is on autocast's float32 list
  check_image(op, image);
  double a = std::fmod(angle, 360.0);  // Python's angle % 360: in [0, 360)
  if (a < 0) a += 360.0;
  if (!center) {  // quarter turns without resampling
    if (a == 0) return image.clone();
    if (a == 180) return at::rot90(image, 2, {-2, -1});
    if (expand || detail::dim(image, -1) == detail::dim(image, -2)) {
      if (a == 90) return at::rot90(image, 1, {-2, -1});
      if (a == 270) return at::rot90(image, 3, {-2, -1});
    }
  }
  check_warp_interpolation(op, interpolation);
  const std::int64_t h = detail::dim(image, -2), w = detail::dim(image, -1);
  const double no_shear[2] = {0.0, 0.0}, no_move[2] = {0.0, 0.0};
  auto args = detail::parse_affine(op, -a, no_move, 1.0, no_shear, center);
  std::array<double, 2> c{0.0, 0.0};
  if (args.center) c = {(*args.center)[0] - double(w) * 0.5, (*args.center)[1] - double(h) * 0.5};
  const auto m = detail::affine_matrix(c, args, /*inverted=*/true);
  check_fill(op, image, fill);
  std::int64_t ow = w, oh = h;
  if (expand) {
    const auto size = detail::affine_output_size(m, w, h);
    ow = size[0];
    oh = size[1];
  }
  return warp(image, affine_grid(m, grid_dtype(image), image.device(), w, h, ow, oh), interpolation, fill);
}

std::vector<double> perspective_coefficients(c10::ArrayRef<double> startpoints, c10::ArrayRef<double> endpoints) {
  TORCH_CHECK(startpoints.size() == 8 && endpoints.size() == 8,
              "tvx.perspective: startpoints and endpoints must be four [x, y] corners each, got ", startpoints.size(),
              " and ", endpoints.size(), " values");
  // The 8 x 8 system that maps each endpoint to its startpoint, solved in double (Gaussian
  // elimination with partial pivoting) and rounded to float32, as torchvision's least squares.
  double a[8][9];
  for (int i = 0; i < 4; ++i) {
    const double x = endpoints[2 * i], y = endpoints[2 * i + 1], u = startpoints[2 * i], v = startpoints[2 * i + 1];
    const double r0[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
    const double r1[9] = {0, 0, 0, x, y, 1, -v * x, -v * y, v};
    std::copy(r0, r0 + 9, a[2 * i]);
    std::copy(r1, r1 + 9, a[2 * i + 1]);
  }
  for (int col = 0; col < 8; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 8; ++r)
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    TORCH_CHECK(a[pivot][col] != 0.0, "tvx.perspective: the corners do not define a perspective map (degenerate)");
    std::swap(a[col], a[pivot]);
    for (int r = 0; r < 8; ++r) {
      if (r == col) continue;
      const double f = a[r][col] / a[col][col];
      for (int k = col; k < 9; ++k) a[r][k] -= f * a[col][k];
    }
  }
  std::vector<double> out(8);
  for (int i = 0; i < 8; ++i) out[i] = double(float(a[i][8] / a[i][i]));
  return out;
}

at::Tensor perspective(const at::Tensor& image, c10::ArrayRef<double> coefficients, Interpolation interpolation,
                       std::optional<c10::ArrayRef<double>> fill) {
  constexpr const char* op = "tvx.perspective";
  const core::NoAutocast no_autocast;  // grid_sampler is on autocast's float32 list
  check_image(op, image);
  TORCH_CHECK(coefficients.size() == 8, op, ": coefficients must have 8 values, got ", coefficients.size());
  check_warp_interpolation(op, interpolation);
  check_fill(op, image, fill);
  const std::int64_t oh = detail::dim(image, -2), ow = detail::dim(image, -1);
  return warp(image, perspective_grid(coefficients, image.options().dtype(grid_dtype(image)), ow, oh), interpolation,
              fill);
}

at::Tensor elastic(const at::Tensor& image, const at::Tensor& displacement, Interpolation interpolation,
                   std::optional<c10::ArrayRef<double>> fill) {
  constexpr const char* op = "tvx.elastic";
  const core::NoAutocast no_autocast;  // grid_sampler is on autocast's float32 list
  check_image(op, image);
  check_warp_interpolation(op, interpolation);
  check_fill(op, image, fill);
  const std::int64_t h = detail::dim(image, -2), w = detail::dim(image, -1);
  TORCH_CHECK(detail::shape(displacement) == std::vector<std::int64_t>({1, h, w, 2}), op, ": displacement must have shape [1, ", h,
              ", ", w, ", 2], got ", displacement.sym_sizes());
  auto dtype = grid_dtype(image);
  // As torchvision: float16 on the CPU samples in float32.
  const bool cpu_half = image.device().is_cpu() && dtype == at::kHalf;
  const at::Tensor x = cpu_half ? image.to(at::kFloat) : image;
  if (cpu_half) dtype = at::kFloat;
  const auto opts = image.options().dtype(dtype);
  // The identity grid (pixel centres, normalised) plus the displacement.
  at::Tensor grid = at::empty({1, h, w, 2}, opts);
  grid.select(-1, 0).copy_(at::linspace(double(1 - w) / double(w), double(w - 1) / double(w), w, opts));
  grid.select(-1, 1).copy_(at::linspace(double(1 - h) / double(h), double(h - 1) / double(h), h, opts).unsqueeze(-1));
  grid.add_(displacement.to(opts));
  at::Tensor out = apply_grid(x, grid, interpolation, fill);
  return cpu_half ? out.to(at::kHalf) : out;
}

// Masks.

at::Tensor resize_mask(const at::Tensor& mask, c10::IntArrayRef size, std::optional<std::int64_t> max_size) {
  // Labels of any dtype: resize takes integer and bool images through float32, exact for nearest.
  return on_mask(mask, [&](const at::Tensor& m) { return resize(m, size, Interpolation::nearest, max_size, false); });
}

at::Tensor crop_mask(const at::Tensor& mask, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  return on_mask(mask, [&](const at::Tensor& m) { return crop(m, top, left, height, width); });
}

at::Tensor center_crop_mask(const at::Tensor& mask, c10::IntArrayRef output_size) {
  return on_mask(mask, [&](const at::Tensor& m) { return center_crop(m, output_size); });
}

at::Tensor resized_crop_mask(const at::Tensor& mask, std::int64_t top, std::int64_t left, std::int64_t height,
                             std::int64_t width, c10::IntArrayRef size) {
  return resize_mask(crop_mask(mask, top, left, height, width), size);
}

at::Tensor pad_mask(const at::Tensor& mask, c10::IntArrayRef padding, double fill, PaddingMode padding_mode) {
  const double one[1] = {fill};
  return on_mask(mask, [&](const at::Tensor& m) { return pad(m, padding, one, padding_mode); });
}

at::Tensor affine_mask(const at::Tensor& mask, double angle, c10::ArrayRef<double> translate, double scale,
                       c10::ArrayRef<double> shear, std::optional<c10::ArrayRef<double>> fill,
                       std::optional<c10::ArrayRef<double>> center) {
  return on_mask(mask, [&](const at::Tensor& m) {
    return affine(m, angle, translate, scale, shear, Interpolation::nearest, fill, center);
  });
}

at::Tensor rotate_mask(const at::Tensor& mask, double angle, bool expand, std::optional<c10::ArrayRef<double>> center,
                       std::optional<c10::ArrayRef<double>> fill) {
  return on_mask(mask, [&](const at::Tensor& m) { return rotate(m, angle, Interpolation::nearest, expand, center, fill); });
}

at::Tensor perspective_mask(const at::Tensor& mask, c10::ArrayRef<double> coefficients,
                            std::optional<c10::ArrayRef<double>> fill) {
  return on_mask(mask, [&](const at::Tensor& m) { return perspective(m, coefficients, Interpolation::nearest, fill); });
}

at::Tensor elastic_mask(const at::Tensor& mask, const at::Tensor& displacement, std::optional<c10::ArrayRef<double>> fill) {
  return on_mask(mask, [&](const at::Tensor& m) { return elastic(m, displacement, Interpolation::nearest, fill); });
}

namespace {

PaddingMode parse_padding_mode(c10::string_view s) {
  if (s == "constant") return PaddingMode::constant;
  if (s == "edge") return PaddingMode::edge;
  if (s == "reflect") return PaddingMode::reflect;
  if (s == "symmetric") return PaddingMode::symmetric;
  TORCH_CHECK(false, "tvx.pad: padding_mode must be constant, edge, reflect or symmetric, got '", s, "'");
}

Interpolation mode_of(const char* op, c10::string_view s) { return detail::parse_interpolation(op, s); }

}  // namespace

TVX_LIBRARY(m) {
  m.def("horizontal_flip(Tensor image) -> Tensor");
  m.def("vertical_flip(Tensor image) -> Tensor");
  m.def("rotate90(Tensor image, int k=1) -> Tensor");
  m.def("crop(Tensor image, int top, int left, int height, int width) -> Tensor");
  m.def("center_crop(Tensor image, int[] output_size) -> Tensor");
  m.def("resized_crop(Tensor image, int top, int left, int height, int width, int[] size, "
        "str interpolation=\"bilinear\", bool antialias=True) -> Tensor");
  m.def("pad(Tensor image, int[] padding, float[]? fill=None, str padding_mode=\"constant\") -> Tensor");
  m.def("affine(Tensor image, float angle, float[] translate, float scale, float[] shear, "
        "str interpolation=\"nearest\", float[]? fill=None, float[]? center=None) -> Tensor");
  m.def("rotate(Tensor image, float angle, str interpolation=\"nearest\", bool expand=False, float[]? center=None, "
        "float[]? fill=None) -> Tensor");
  m.def("perspective(Tensor image, float[] coefficients, str interpolation=\"bilinear\", float[]? fill=None) -> Tensor");
  m.def("elastic(Tensor image, Tensor displacement, str interpolation=\"bilinear\", float[]? fill=None) -> Tensor");
  m.def("resize_mask(Tensor mask, int[] size, int? max_size=None) -> Tensor");
  m.def("crop_mask(Tensor mask, int top, int left, int height, int width) -> Tensor");
  m.def("center_crop_mask(Tensor mask, int[] output_size) -> Tensor");
  m.def("resized_crop_mask(Tensor mask, int top, int left, int height, int width, int[] size) -> Tensor");
  m.def("pad_mask(Tensor mask, int[] padding, float fill=0, str padding_mode=\"constant\") -> Tensor");
  m.def("affine_mask(Tensor mask, float angle, float[] translate, float scale, float[] shear, float[]? fill=None, "
        "float[]? center=None) -> Tensor");
  m.def("rotate_mask(Tensor mask, float angle, bool expand=False, float[]? center=None, float[]? fill=None) -> Tensor");
  m.def("perspective_mask(Tensor mask, float[] coefficients, float[]? fill=None) -> Tensor");
  m.def("elastic_mask(Tensor mask, Tensor displacement, float[]? fill=None) -> Tensor");
  m.def("perspective_coefficients(float[] startpoints, float[] endpoints) -> float[]");
}

TVX_LIBRARY_IMPL(CompositeImplicitAutograd, m) {
  using Fill = std::optional<c10::ArrayRef<double>>;
  m.impl("horizontal_flip", &horizontal_flip);
  m.impl("vertical_flip", &vertical_flip);
  m.impl("rotate90", &rotate90);
  m.impl("crop", &crop);
  m.impl("center_crop", &center_crop);
  m.impl("resized_crop", [](const at::Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height,
                            std::int64_t width, c10::IntArrayRef size, c10::string_view interpolation, bool antialias) {
    return resized_crop(image, top, left, height, width, size, mode_of("tvx.resized_crop", interpolation), antialias);
  });
  m.impl("pad", [](const at::Tensor& image, c10::IntArrayRef padding, Fill fill, c10::string_view padding_mode) {
    return pad(image, padding, fill, parse_padding_mode(padding_mode));
  });
  m.impl("affine", [](const at::Tensor& image, double angle, c10::ArrayRef<double> translate, double scale,
                      c10::ArrayRef<double> shear, c10::string_view interpolation, Fill fill, Fill center) {
    return affine(image, angle, translate, scale, shear, mode_of("tvx.affine", interpolation), fill, center);
  });
  m.impl("rotate", [](const at::Tensor& image, double angle, c10::string_view interpolation, bool expand, Fill center,
                      Fill fill) { return rotate(image, angle, mode_of("tvx.rotate", interpolation), expand, center, fill); });
  m.impl("perspective", [](const at::Tensor& image, c10::ArrayRef<double> coefficients, c10::string_view interpolation,
                           Fill fill) {
    return perspective(image, coefficients, mode_of("tvx.perspective", interpolation), fill);
  });
  m.impl("elastic", [](const at::Tensor& image, const at::Tensor& displacement, c10::string_view interpolation, Fill fill) {
    return elastic(image, displacement, mode_of("tvx.elastic", interpolation), fill);
  });
  m.impl("resize_mask", &resize_mask);
  m.impl("crop_mask", &crop_mask);
  m.impl("center_crop_mask", &center_crop_mask);
  m.impl("resized_crop_mask", &resized_crop_mask);
  m.impl("pad_mask", [](const at::Tensor& mask, c10::IntArrayRef padding, double fill, c10::string_view padding_mode) {
    return pad_mask(mask, padding, fill, parse_padding_mode(padding_mode));
  });
  m.impl("affine_mask", &affine_mask);
  m.impl("rotate_mask", &rotate_mask);
  m.impl("perspective_mask", &perspective_mask);
  m.impl("elastic_mask", &elastic_mask);
  m.impl("perspective_coefficients", &perspective_coefficients);
}

}  // namespace tvx::transforms
