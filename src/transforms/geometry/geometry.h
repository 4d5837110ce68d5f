// Private to the geometry folder: the affine map and its output size as torchvision computes
// them, shared by the image and the bounding-box forms.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace tvx::transforms::detail {

/// A tensor's size on axis d, a symbolic size specialised to its value (as torchvision's
/// Python specialises it when it reads the size as an int under torch.compile).
inline std::int64_t dim(const at::Tensor& t, std::int64_t d) { return t.sym_size(d).guard_int(__FILE__, __LINE__); }
inline std::vector<std::int64_t> shape(const at::Tensor& t) {
  std::vector<std::int64_t> out;
  for (const auto& s : t.sym_sizes()) out.push_back(s.guard_int(__FILE__, __LINE__));
  return out;
}
inline bool empty(const at::Tensor& t) { return t.sym_numel() == 0; }

/// center_crop's anchor on one axis, as torchvision places it: round((size - crop) / 2), halves
/// to even as Python's round; a crop larger than the image is padded first, (crop - size) // 2
/// before it.
inline std::int64_t crop_anchor(std::int64_t size, std::int64_t crop) {
  if (crop > size) return -((crop - size) / 2);
  return std::int64_t(std::nearbyint(double(size - crop) / 2.0));
}

/// affine's arguments, checked and completed as torchvision's: shear [x] means [x, x].
struct AffineArgs {
  double angle, tx, ty, scale, shear_x, shear_y;
  std::optional<std::array<double, 2>> center;
};
AffineArgs parse_affine(const char* op, double angle, c10::ArrayRef<double> translate, double scale,
                        c10::ArrayRef<double> shear, std::optional<c10::ArrayRef<double>> center);

/// The 2x3 matrix [a, b, c, d, e, f] of the map about center (torchvision's
/// _get_inverse_affine_matrix): with inverted, output pixel -> input pixel.
std::array<double, 6> affine_matrix(std::array<double, 2> center, const AffineArgs& a, bool inverted);

/// {width, height} of rotate's expanded output for an inverted matrix (about the image centre),
/// computed in float32 as torchvision's.
std::array<std::int64_t, 2> affine_output_size(const std::array<double, 6>& m, std::int64_t w, std::int64_t h);

/// A small tensor of the given values (each rounded to options' dtype), written element by
/// element so that it traces (no host buffer): for matrices of a few entries.
at::Tensor constant(c10::ArrayRef<double> values, const at::TensorOptions& options);

/// The affine (or, with theta2, perspective) grid [1, oh, ow, 2] of the points (xs[j], ys[i],
/// 1) times theta [3, 2], each computed on its own as ((x * t0 + y * t1) + t2), unfused: what
/// the CPU's fused sampler computes instead of reading a grid (warp_cpu.cpp). It equals
/// torchvision's bmm only where the BLAS sums that way; geometry.cpp checks that once.
at::Tensor affine_grid_pointwise(const at::Tensor& xs, const at::Tensor& ys, const at::Tensor& theta,
                                 const std::optional<at::Tensor>& theta2);

}  // namespace tvx::transforms::detail
