// Bounding boxes [..., 4] (XYXY, XYWH or CXCYWH on a canvas {height, width}) through the
// geometric transforms, as torchvision.transforms.v2.functional moves them: format conversion,
// clamping, flips, rotate90, resize, crop, center_crop, resized_crop, pad, affine, rotate,
// perspective, elastic. Operators (torch.ops.tvx.<name>_bounding_boxes) written with ATen's
// operations in torchvision's order and dtypes (integer boxes in float32 where it does), one
// pass or a few over N x 4 values.
#include <tvx/transforms.h>

#include <ATen/ATen.h>
#include <c10/util/safe_numerics.h>

#include <cmath>

#include "core/check.h"
#include "core/registration.h"
#include "transforms/geometry/geometry.h"

namespace tvx::transforms {
namespace {

void check_boxes(const char* op, const at::Tensor& boxes) {
  TORCH_CHECK(boxes.dim() >= 1 && detail::dim(boxes, -1) == 4, op, ": boxes must have shape [..., 4], got ", boxes.sym_sizes());
}

void check_canvas(const char* op, CanvasSize canvas) {
  TORCH_CHECK(canvas[0] >= 0 && canvas[1] >= 0, op, ": canvas_size must not be negative, got [", canvas[0], ", ",
              canvas[1], "]");
}

// Columns k..k+1 (x, y of a corner, or w, h) of [..., 4] boxes.
at::Tensor pair(const at::Tensor& b, std::int64_t k) { return b.slice(-1, k, k + 2); }

// The format conversions of torchvision (_meta.py), in place on `b` where it works in place.
at::Tensor to_xyxy(at::Tensor b, BoxFormat from) {
  switch (from) {
    case BoxFormat::XYXY: return b;
    case BoxFormat::XYWH: pair(b, 2).add_(pair(b, 0)); return b;
    case BoxFormat::CXCYWH: {  // in float32 for integers, truncated back
      const auto dtype = b.scalar_type();
      const bool cast = !b.is_floating_point();
      at::Tensor f = cast ? b.to(at::kFloat) : b;
      const at::Tensor half = pair(f, 2).div(2);
      pair(f, 0).sub_(half);
      pair(f, 2).add_(pair(f, 0));
      if (cast) b.copy_(f.to(dtype));
      return b;
    }
  }
  return b;
}

at::Tensor from_xyxy(at::Tensor b, BoxFormat to) {
  switch (to) {
    case BoxFormat::XYXY: return b;
    case BoxFormat::XYWH: pair(b, 2).sub_(pair(b, 0)); return b;
    case BoxFormat::CXCYWH:
      pair(b, 2).sub_(pair(b, 0));
      if (b.is_floating_point())
        pair(b, 0).mul_(2).add_(pair(b, 2)).div_(2);
      else
        pair(b, 0).mul_(2).add_(pair(b, 2)).div_(2, "floor");
      return b;
  }
  return b;
}

at::Tensor clamp_xyxy(at::Tensor b, CanvasSize canvas) {
  b.slice(-1, 0, 4, 2).clamp_(0, canvas[1]);
  b.slice(-1, 1, 4, 2).clamp_(0, canvas[0]);
  return b;
}

// Adds (x, y) to the corner columns of the format: both corners of XYXY, the first of the others.
at::Tensor shift(const at::Tensor& boxes, BoxFormat format, std::int64_t x, std::int64_t y) {
  at::Tensor b = boxes.clone();
  b.select(-1, 0).add_(x);
  b.select(-1, 1).add_(y);
  if (format == BoxFormat::XYXY) {
    b.select(-1, 2).add_(x);
    b.select(-1, 3).add_(y);
  }
  return b;
}

// The bounds of each box's 4 moved corners ([M * 4, 2], from corners()): [M, 4] XYXY.
at::Tensor bound_corners(const at::Tensor& moved) {
  const at::Tensor t = moved.reshape({-1, 4, 2});
  const auto [lo, hi] = at::aminmax(t, 1);
  return at::cat({lo, hi}, 1);
}

at::Tensor corners(const at::Tensor& xyxy) {  // [M, 4] -> [M * 4, 2]: (x1,y1), (x2,y1), (x2,y2), (x1,y2)
  const auto c = xyxy.unbind(-1);
  return at::stack({c[0], c[1], c[2], c[1], c[2], c[3], c[0], c[3]}, -1).reshape({-1, 2});
}

at::Tensor with_ones(const at::Tensor& points, const at::TensorOptions& ones_options) {
  return at::cat({points, at::ones({detail::dim(points, 0), 1}, ones_options)}, -1);
}

}  // namespace

at::Tensor convert_bounding_box_format(const at::Tensor& boxes, BoxFormat old_format, BoxFormat new_format) {
  check_boxes("tvx.convert_bounding_box_format", boxes);
  if (old_format == new_format) return boxes;
  return from_xyxy(to_xyxy(boxes.clone(), old_format), new_format);
}

at::Tensor clamp_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                ClampingMode clamping_mode) {
  check_boxes("tvx.clamp_bounding_boxes", boxes);
  check_canvas("tvx.clamp_bounding_boxes", canvas_size);
  if (clamping_mode == ClampingMode::none) return boxes.clone();
  // soft and hard are equal for boxes without rotation; integers in float32.
  at::Tensor b = boxes.is_floating_point() ? boxes.clone() : boxes.to(at::kFloat);
  b = from_xyxy(clamp_xyxy(to_xyxy(b, format), canvas_size), format);
  return b.to(boxes.scalar_type());
}

namespace {

// A flip along x (axis 0) or y (axis 1) of a canvas `extent` wide: corner c to extent - c.
at::Tensor flip_boxes(const char* op, const at::Tensor& boxes, BoxFormat format, std::int64_t axis,
                      std::int64_t extent) {
  check_boxes(op, boxes);
  at::Tensor b = boxes.clone();
  const auto c = boxes.unbind(-1);
  const std::int64_t lo = axis, hi = axis + 2;
  switch (format) {
    case BoxFormat::XYXY:  // the corners swap
      b.select(-1, lo).copy_(c[hi].sub(extent).neg_());
      b.select(-1, hi).copy_(c[lo].sub(extent).neg_());
      break;
    case BoxFormat::XYWH: b.select(-1, lo).copy_(c[lo].add(c[hi]).sub_(extent).neg_()); break;
    case BoxFormat::CXCYWH: b.select(-1, lo).copy_(c[lo].sub(extent).neg_()); break;
  }
  return b;
}

}  // namespace

at::Tensor horizontal_flip_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size) {
  return flip_boxes("tvx.horizontal_flip_bounding_boxes", boxes, format, 0, canvas_size[1]);
}

at::Tensor vertical_flip_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size) {
  return flip_boxes("tvx.vertical_flip_bounding_boxes", boxes, format, 1, canvas_size[0]);
}

Boxes rotate90_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, std::int64_t k,
                              ClampingMode clamping_mode) {
  check_boxes("tvx.rotate90_bounding_boxes", boxes);
  const std::int64_t turns = ((k % 4) + 4) % 4;
  if (turns == 0) return {clamp_bounding_boxes(boxes, format, canvas_size, clamping_mode), canvas_size};
  // A quarter turn counter-clockwise maps (x, y) to (y, W - x) on a W x H canvas, and swaps a
  // box's width and height: computed in the boxes' own format, exact in any dtype.
  at::Tensor b = boxes;
  CanvasSize canvas = canvas_size;
  for (std::int64_t t = 0; t < turns; ++t) {
    const auto c = b.unbind(-1);
    const std::int64_t w = canvas[1];
    switch (format) {
      case BoxFormat::XYXY: b = at::stack({c[1], c[2].sub(w).neg_(), c[3], c[0].sub(w).neg_()}, -1); break;
      case BoxFormat::XYWH: b = at::stack({c[1], c[0].add(c[2]).sub_(w).neg_(), c[3], c[2]}, -1); break;
      case BoxFormat::CXCYWH: b = at::stack({c[1], c[0].sub(w).neg_(), c[3], c[2]}, -1); break;
    }
    canvas = {canvas[1], canvas[0]};
  }
  return {clamp_bounding_boxes(b, format, canvas, clamping_mode), canvas};
}

Boxes resize_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, c10::IntArrayRef size,
                            std::optional<std::int64_t> max_size) {
  (void)format;  // a scale per axis keeps every format's meaning
  check_boxes("tvx.resize_bounding_boxes", boxes);
  check_canvas("tvx.resize_bounding_boxes", canvas_size);
  TORCH_CHECK(canvas_size[0] > 0 && canvas_size[1] > 0, "tvx.resize_bounding_boxes: canvas_size must be positive, got [",
              canvas_size[0], ", ", canvas_size[1], "]");
  const auto hw = resized_size(canvas_size[0], canvas_size[1], size, max_size);
  if (hw[0] == canvas_size[0] && hw[1] == canvas_size[1]) return {boxes, canvas_size};
  // The ratios as torchvision's float32 tensor, the product in the promoted dtype.
  const double rw = double(float(double(hw[1]) / double(canvas_size[1])));
  const double rh = double(float(double(hw[0]) / double(canvas_size[0])));
  at::Tensor b = boxes.to(at::promote_types(boxes.scalar_type(), at::kFloat), /*non_blocking=*/false, /*copy=*/true);
  b.slice(-1, 0, 4, 2).mul_(rw);
  b.slice(-1, 1, 4, 2).mul_(rh);
  return {b.to(boxes.scalar_type()), {hw[0], hw[1]}};
}

Boxes crop_bounding_boxes(const at::Tensor& boxes, BoxFormat format, std::int64_t top, std::int64_t left,
                          std::int64_t height, std::int64_t width, ClampingMode clamping_mode) {
  check_boxes("tvx.crop_bounding_boxes", boxes);
  TORCH_CHECK(height >= 0 && width >= 0, "tvx.crop_bounding_boxes: height and width must not be negative, got ", height,
              ", ", width);
  const CanvasSize canvas{height, width};
  return {clamp_bounding_boxes(shift(boxes, format, -left, -top), format, canvas, clamping_mode), canvas};
}

Boxes center_crop_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                 c10::IntArrayRef output_size, ClampingMode clamping_mode) {
  TORCH_CHECK(output_size.size() == 1 || output_size.size() == 2,
              "tvx.center_crop_bounding_boxes: output_size must have 1 or 2 values, got ", output_size.size());
  const std::int64_t ch = output_size[0], cw = output_size.size() == 2 ? output_size[1] : output_size[0];
  const auto top = static_cast<std::int64_t>(std::nearbyint(double(canvas_size[0] - ch) / 2.0));
  const auto left = static_cast<std::int64_t>(std::nearbyint(double(canvas_size[1] - cw) / 2.0));
  return crop_bounding_boxes(boxes, format, top, left, ch, cw, clamping_mode);
}

Boxes resized_crop_bounding_boxes(const at::Tensor& boxes, BoxFormat format, std::int64_t top, std::int64_t left,
                                  std::int64_t height, std::int64_t width, c10::IntArrayRef size,
                                  ClampingMode clamping_mode) {
  const Boxes cropped = crop_bounding_boxes(boxes, format, top, left, height, width, clamping_mode);
  return resize_bounding_boxes(cropped.boxes, format, cropped.canvas_size, size);
}

Boxes pad_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, c10::IntArrayRef padding,
                         ClampingMode clamping_mode) {
  check_boxes("tvx.pad_bounding_boxes", boxes);
  std::int64_t left, right, top, bottom;
  switch (padding.size()) {
    case 1: left = right = top = bottom = padding[0]; break;
    case 2: left = right = padding[0]; top = bottom = padding[1]; break;
    case 4: left = padding[0]; top = padding[1]; right = padding[2]; bottom = padding[3]; break;
    default: TORCH_CHECK(false, "tvx.pad_bounding_boxes: padding must have 1, 2 or 4 values, got ", padding.size());
  }
  CanvasSize canvas;
  std::int64_t th, tw;
  TORCH_CHECK(!c10::add_overflows(top, bottom, &th) && !c10::add_overflows(canvas_size[0], th, &canvas[0]) &&
                  !c10::add_overflows(left, right, &tw) && !c10::add_overflows(canvas_size[1], tw, &canvas[1]),
              "tvx.pad_bounding_boxes: the padded canvas must fit in 64 bits");
  return {clamp_bounding_boxes(shift(boxes, format, left, top), format, canvas, clamping_mode), canvas};
}

namespace {

// affine's and rotate's boxes: the 4 corners of each box through the forward map, bounded,
// moved into the expanded canvas where asked, clamped (torchvision's
// _affine_bounding_boxes_with_expand).
Boxes affine_boxes(const char* op, const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                   const detail::AffineArgs& args, bool expand, ClampingMode clamping_mode) {
  check_boxes(op, boxes);
  check_canvas(op, canvas_size);
  if (detail::empty(boxes)) return {boxes, canvas_size};
  const auto dtype = boxes.scalar_type();
  at::Tensor b = boxes.is_floating_point() ? boxes.clone() : boxes.to(at::kFloat);
  b = to_xyxy(b, format).reshape({-1, 4});
  const auto [height, width] = canvas_size;
  const std::array<double, 2> center = args.center ? *args.center : std::array<double, 2>{width * 0.5, height * 0.5};
  const auto m = detail::affine_matrix(center, args, /*inverted=*/false);
  const auto opts = b.options();
  const at::Tensor mt = detail::constant({m[0], m[3], m[1], m[4], m[2], m[5]}, opts).view({3, 2});
  at::Tensor out = bound_corners(at::matmul(with_ones(corners(b), opts), mt));
  CanvasSize canvas = canvas_size;
  if (expand) {
    const at::Tensor frame = detail::constant({0.0, 0.0, 1.0, 0.0, double(height), 1.0, double(width), double(height), 1.0,
                                               double(width), 0.0, 1.0},
                                              opts)
                                 .view({4, 3});
    const at::Tensor origin = at::matmul(frame, mt).amin(0, /*keepdim=*/true);
    out.sub_(origin.repeat({1, 2}));
    const auto size = detail::affine_output_size(detail::affine_matrix(center, args, /*inverted=*/true), width, height);
    canvas = {size[1], size[0]};
  }
  out = clamp_bounding_boxes(out, BoxFormat::XYXY, canvas, clamping_mode);
  out = from_xyxy(out, format).reshape_symint(boxes.sym_sizes());
  return {out.to(dtype), canvas};
}

}  // namespace

at::Tensor affine_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, double angle,
                                 c10::ArrayRef<double> translate, double scale, c10::ArrayRef<double> shear,
                                 std::optional<c10::ArrayRef<double>> center, ClampingMode clamping_mode) {
  constexpr const char* op = "tvx.affine_bounding_boxes";
  const auto args = detail::parse_affine(op, angle, translate, scale, shear, center);
  return affine_boxes(op, boxes, format, canvas_size, args, false, clamping_mode).boxes;
}

Boxes rotate_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, double angle,
                            bool expand, std::optional<c10::ArrayRef<double>> center, ClampingMode clamping_mode) {
  constexpr const char* op = "tvx.rotate_bounding_boxes";
  const double zero[2] = {0.0, 0.0};
  const auto args = detail::parse_affine(op, -angle, zero, 1.0, zero, center);
  return affine_boxes(op, boxes, format, canvas_size, args, expand, clamping_mode);
}

at::Tensor perspective_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                      c10::ArrayRef<double> coefficients, ClampingMode clamping_mode) {
  constexpr const char* op = "tvx.perspective_bounding_boxes";
  check_boxes(op, boxes);
  TORCH_CHECK(coefficients.size() == 8, op, ": coefficients must have 8 values, got ", coefficients.size());
  if (detail::empty(boxes)) return boxes;
  const auto& k = coefficients;
  const double denom = k[0] * k[4] - k[1] * k[3];
  TORCH_CHECK(denom != 0, op, ": the coefficients cannot be inverted to move boxes (a e - b d = 0)");
  // The coefficients map output to input; the boxes need the inverse.
  const double inv[8] = {(k[4] - k[5] * k[7]) / denom,         (-k[1] + k[2] * k[7]) / denom,
                         (k[1] * k[5] - k[2] * k[4]) / denom,  (-k[3] + k[5] * k[6]) / denom,
                         (k[0] - k[2] * k[6]) / denom,         (-k[0] * k[5] + k[2] * k[3]) / denom,
                         (-k[4] * k[6] + k[3] * k[7]) / denom, (-k[0] * k[7] + k[1] * k[6]) / denom};
  // As torchvision: the format converted in the boxes' dtype, the points in float32 for integers.
  const at::Tensor xyxy = to_xyxy(boxes.clone(), format).reshape({-1, 4});
  const auto dtype = xyxy.is_floating_point() ? xyxy.scalar_type() : at::kFloat;
  const auto opts = xyxy.options().dtype(dtype);
  const at::Tensor theta1 = detail::constant({inv[0], inv[3], inv[1], inv[4], inv[2], inv[5]}, opts).view({3, 2});
  const at::Tensor theta2 = detail::constant({inv[6], inv[6], inv[7], inv[7], 1.0, 1.0}, opts).view({3, 2});
  const at::Tensor points = with_ones(corners(xyxy), xyxy.options().dtype(at::kFloat));
  const at::Tensor moved = at::matmul(points, theta1).div_(at::matmul(points, theta2));
  at::Tensor out = clamp_bounding_boxes(bound_corners(moved), BoxFormat::XYXY, canvas_size, clamping_mode);
  return from_xyxy(out, format).reshape_symint(boxes.sym_sizes()).to(boxes.scalar_type());
}

at::Tensor elastic_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                  const at::Tensor& displacement, ClampingMode clamping_mode) {
  constexpr const char* op = "tvx.elastic_bounding_boxes";
  check_boxes(op, boxes);
  const auto [height, width] = canvas_size;
  TORCH_CHECK(detail::shape(displacement) == std::vector<std::int64_t>({1, height, width, 2}), op, ": displacement must have shape [1, ",
              height, ", ", width, ", 2], got ", displacement.sym_sizes());
  if (detail::empty(boxes)) return boxes;
  const auto dtype = boxes.is_floating_point() ? boxes.scalar_type() : at::kFloat;
  const auto opts = boxes.options().dtype(dtype);
  const at::Tensor xyxy = to_xyxy(boxes.clone(), format).reshape({-1, 4});
  // The inverse of the displacement, approximated (as torchvision) by the identity grid minus
  // it, read at each corner rounded up, back to pixels.
  at::Tensor inv = at::empty({1, height, width, 2}, opts);
  inv.select(-1, 0).copy_(at::linspace(double(1 - width) / double(width), double(width - 1) / double(width), width, opts));
  inv.select(-1, 1).copy_(
      at::linspace(double(1 - height) / double(height), double(height - 1) / double(height), height, opts).unsqueeze(-1));
  inv.sub_(displacement.to(opts));
  at::Tensor points = corners(xyxy);
  if (points.is_floating_point()) points = points.ceil();
  const at::Tensor index = points.to(at::kLong);
  const at::Tensor half_size = detail::constant({double(width), double(height)}, opts).mul_(0.5);
  const at::Tensor moved = inv.select(0, 0).index({index.select(1, 1), index.select(1, 0)}).add_(1).mul_(half_size).sub_(0.5);
  at::Tensor out = bound_corners(moved).to(xyxy.scalar_type());
  out = clamp_bounding_boxes(out, BoxFormat::XYXY, canvas_size, clamping_mode);
  return from_xyxy(out, format).reshape_symint(boxes.sym_sizes());
}

namespace {

BoxFormat parse_format(const char* op, c10::string_view s) {
  if (s == "XYXY") return BoxFormat::XYXY;
  if (s == "XYWH") return BoxFormat::XYWH;
  if (s == "CXCYWH") return BoxFormat::CXCYWH;
  TORCH_CHECK(false, op, ": format must be XYXY, XYWH or CXCYWH, got '", s, "'");
}

ClampingMode parse_clamping(const char* op, std::optional<c10::string_view> s) {
  if (!s) return ClampingMode::none;
  if (*s == "soft") return ClampingMode::soft;
  if (*s == "hard") return ClampingMode::hard;
  TORCH_CHECK(false, op, ": clamping_mode must be soft, hard or None, got '", *s, "'");
}

CanvasSize parse_canvas(const char* op, c10::IntArrayRef s) {
  TORCH_CHECK(s.size() == 2, op, ": canvas_size must be [height, width], got ", s);
  return {s[0], s[1]};
}

using BoxesOut = std::tuple<at::Tensor, std::vector<std::int64_t>>;
BoxesOut out(const Boxes& b) { return {b.boxes, {b.canvas_size[0], b.canvas_size[1]}}; }
using Str = c10::string_view;
using OptStr = std::optional<c10::string_view>;
using Floats = c10::ArrayRef<double>;
using OptFloats = std::optional<c10::ArrayRef<double>>;

}  // namespace

TVX_LIBRARY(m) {
  m.def("convert_bounding_box_format(Tensor boxes, str old_format, str new_format) -> Tensor");
  m.def("clamp_bounding_boxes(Tensor boxes, str format, int[] canvas_size, str? clamping_mode=\"soft\") -> Tensor");
  m.def("horizontal_flip_bounding_boxes(Tensor boxes, str format, int[] canvas_size) -> Tensor");
  m.def("vertical_flip_bounding_boxes(Tensor boxes, str format, int[] canvas_size) -> Tensor");
  m.def("rotate90_bounding_boxes(Tensor boxes, str format, int[] canvas_size, int k=1, str? clamping_mode=\"soft\") "
        "-> (Tensor, int[])");
  m.def("resize_bounding_boxes(Tensor boxes, str format, int[] canvas_size, int[] size, int? max_size=None) "
        "-> (Tensor, int[])");
  m.def("crop_bounding_boxes(Tensor boxes, str format, int top, int left, int height, int width, "
        "str? clamping_mode=\"soft\") -> (Tensor, int[])");
  m.def("center_crop_bounding_boxes(Tensor boxes, str format, int[] canvas_size, int[] output_size, "
        "str? clamping_mode=\"soft\") -> (Tensor, int[])");
  m.def("resized_crop_bounding_boxes(Tensor boxes, str format, int top, int left, int height, int width, int[] size, "
        "str? clamping_mode=\"soft\") -> (Tensor, int[])");
  m.def("pad_bounding_boxes(Tensor boxes, str format, int[] canvas_size, int[] padding, str? clamping_mode=\"soft\") "
        "-> (Tensor, int[])");
  m.def("affine_bounding_boxes(Tensor boxes, str format, int[] canvas_size, float angle, float[] translate, "
        "float scale, float[] shear, float[]? center=None, str? clamping_mode=\"soft\") -> Tensor");
  m.def("rotate_bounding_boxes(Tensor boxes, str format, int[] canvas_size, float angle, bool expand=False, "
        "float[]? center=None, str? clamping_mode=\"soft\") -> (Tensor, int[])");
  m.def("perspective_bounding_boxes(Tensor boxes, str format, int[] canvas_size, float[] coefficients, "
        "str? clamping_mode=\"soft\") -> Tensor");
  m.def("elastic_bounding_boxes(Tensor boxes, str format, int[] canvas_size, Tensor displacement, "
        "str? clamping_mode=\"soft\") -> Tensor");
}

TVX_LIBRARY_IMPL(CompositeImplicitAutograd, m) {
  m.impl("convert_bounding_box_format", [](const at::Tensor& b, Str from, Str to) {
    constexpr const char* op = "tvx.convert_bounding_box_format";
    return convert_bounding_box_format(b, parse_format(op, from), parse_format(op, to));
  });
  m.impl("clamp_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, OptStr mode) {
    constexpr const char* op = "tvx.clamp_bounding_boxes";
    return clamp_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), parse_clamping(op, mode));
  });
  m.impl("horizontal_flip_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas) {
    constexpr const char* op = "tvx.horizontal_flip_bounding_boxes";
    return horizontal_flip_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas));
  });
  m.impl("vertical_flip_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas) {
    constexpr const char* op = "tvx.vertical_flip_bounding_boxes";
    return vertical_flip_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas));
  });
  m.impl("rotate90_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, std::int64_t k,
                                       OptStr mode) {
    constexpr const char* op = "tvx.rotate90_bounding_boxes";
    return out(rotate90_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), k, parse_clamping(op, mode)));
  });
  m.impl("resize_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, c10::IntArrayRef size,
                                     std::optional<std::int64_t> max_size) {
    constexpr const char* op = "tvx.resize_bounding_boxes";
    return out(resize_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), size, max_size));
  });
  m.impl("crop_bounding_boxes", [](const at::Tensor& b, Str f, std::int64_t top, std::int64_t left, std::int64_t height,
                                   std::int64_t width, OptStr mode) {
    constexpr const char* op = "tvx.crop_bounding_boxes";
    return out(crop_bounding_boxes(b, parse_format(op, f), top, left, height, width, parse_clamping(op, mode)));
  });
  m.impl("center_crop_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas,
                                          c10::IntArrayRef output_size, OptStr mode) {
    constexpr const char* op = "tvx.center_crop_bounding_boxes";
    return out(center_crop_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), output_size,
                                          parse_clamping(op, mode)));
  });
  m.impl("resized_crop_bounding_boxes", [](const at::Tensor& b, Str f, std::int64_t top, std::int64_t left,
                                           std::int64_t height, std::int64_t width, c10::IntArrayRef size, OptStr mode) {
    constexpr const char* op = "tvx.resized_crop_bounding_boxes";
    return out(resized_crop_bounding_boxes(b, parse_format(op, f), top, left, height, width, size,
                                           parse_clamping(op, mode)));
  });
  m.impl("pad_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, c10::IntArrayRef padding,
                                  OptStr mode) {
    constexpr const char* op = "tvx.pad_bounding_boxes";
    return out(pad_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), padding, parse_clamping(op, mode)));
  });
  m.impl("affine_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, double angle,
                                     Floats translate, double scale, Floats shear, OptFloats center, OptStr mode) {
    constexpr const char* op = "tvx.affine_bounding_boxes";
    return affine_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), angle, translate, scale, shear,
                                 center, parse_clamping(op, mode));
  });
  m.impl("rotate_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, double angle, bool expand,
                                     OptFloats center, OptStr mode) {
    constexpr const char* op = "tvx.rotate_bounding_boxes";
    return out(rotate_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), angle, expand, center,
                                     parse_clamping(op, mode)));
  });
  m.impl("perspective_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, Floats coefficients,
                                          OptStr mode) {
    constexpr const char* op = "tvx.perspective_bounding_boxes";
    return perspective_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), coefficients,
                                      parse_clamping(op, mode));
  });
  m.impl("elastic_bounding_boxes", [](const at::Tensor& b, Str f, c10::IntArrayRef canvas, const at::Tensor& d,
                                      OptStr mode) {
    constexpr const char* op = "tvx.elastic_bounding_boxes";
    return elastic_bounding_boxes(b, parse_format(op, f), parse_canvas(op, canvas), d, parse_clamping(op, mode));
  });
}

}  // namespace tvx::transforms
