// Box utilities, as torchvision.ops defines them in Python: areas, pairwise IoU and its
// generalized / distance / complete variants, their losses, format conversion, clipping,
// small-box removal, masks to boxes and the sigmoid focal loss. Each is a composition of
// ATen operators, written once here for C++ (tvx::ops) and registered as a
// CompositeImplicitAutograd operator for Python (torch.ops.tvx, tvx.ops): every device,
// autograd, Meta and torch.compile come from ATen. The arithmetic follows torchvision's
// operation by operation (dtype promotion included), so results are equal.
#include <tvx/ops.h>

#include <ATen/ops/any.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/atan.h>
#include <ATen/ops/atan2.h>
#include <ATen/ops/binary_cross_entropy_with_logits.h>
#include <ATen/ops/cos.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/sigmoid.h>
#include <ATen/ops/sin.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/where.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <array>
#include <cmath>
#include <string>

#include "core/registration.h"

namespace tvx::ops {
namespace {

constexpr double kPi = 3.14159265358979323846;

// torchvision's _upcast: float16/bfloat16 to float32, 8/16-bit integers to int32.
at::Tensor upcast(const at::Tensor& t) {
  if (at::isFloatingType(t.scalar_type()))
    return (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble) ? t : t.to(at::kFloat);
  return (t.scalar_type() == at::kInt || t.scalar_type() == at::kLong) ? t : t.to(at::kInt);
}

// torchvision's _upcast_non_float: anything but float32/float64 to float32.
at::Tensor upcast_non_float(const at::Tensor& t) {
  return (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble) ? t : t.to(at::kFloat);
}

void check_boxes(const char* op, const char* name, const at::Tensor& b, std::int64_t width = 4) {
  TORCH_CHECK(b.dim() >= 1 && b.size(-1) == width, op, ": ", name, " must have shape [..., ", width, "], got ",
              b.sizes());
}

bool is_fmt(c10::string_view fmt) { return fmt == "xyxy" || fmt == "xywh" || fmt == "cxcywh"; }

void check_fmt(const char* op, c10::string_view fmt) {
  TORCH_CHECK_VALUE(is_fmt(fmt), op, ": fmt must be 'xyxy', 'xywh' or 'cxcywh', got '", std::string(fmt), "'");
}

at::Tensor last(const at::Tensor& t, std::int64_t i) { return t.select(-1, i); }
at::Tensor cols(const at::Tensor& t, std::int64_t from, std::int64_t to) { return t.slice(-1, from, to); }

// Pairwise intersection and union, [..., N, M].
std::array<at::Tensor, 2> inter_union(const at::Tensor& b1, const at::Tensor& b2, c10::string_view fmt) {
  const at::Tensor area1 = box_area(b1, fmt), area2 = box_area(b2, fmt);
  const at::Tensor p = b1.unsqueeze(-2), q = b2.unsqueeze(-3);  // [..., N, 1, 4], [..., 1, M, 4]
  at::Tensor lt, rb;
  if (fmt == "xyxy") {
    lt = at::maximum(cols(p, 0, 2), cols(q, 0, 2));
    rb = at::minimum(cols(p, 2, 4), cols(q, 2, 4));
  } else if (fmt == "xywh") {
    lt = at::maximum(cols(p, 0, 2), cols(q, 0, 2));
    rb = at::minimum(cols(p, 0, 2) + cols(p, 2, 4), cols(q, 0, 2) + cols(q, 2, 4));
  } else {
    lt = at::maximum(cols(p, 0, 2) - cols(p, 2, 4) / 2, cols(q, 0, 2) - cols(q, 2, 4) / 2);
    rb = at::minimum(cols(p, 0, 2) + cols(p, 2, 4) / 2, cols(q, 0, 2) + cols(q, 2, 4) / 2);
  }
  const at::Tensor wh = upcast(rb - lt).clamp_min(0);
  const at::Tensor inter = last(wh, 0) * last(wh, 1);
  return {inter, area1.unsqueeze(-1) + area2.unsqueeze(-2) - inter};
}

// The smallest enclosing box's width and height, pairwise.
at::Tensor enclosing_wh(const at::Tensor& b1, const at::Tensor& b2) {
  const at::Tensor p = b1.unsqueeze(-2), q = b2.unsqueeze(-3);
  const at::Tensor lti = at::minimum(cols(p, 0, 2), cols(q, 0, 2));
  const at::Tensor rbi = at::maximum(cols(p, 2, 4), cols(q, 2, 4));
  return upcast(rbi - lti).clamp_min(0);
}

std::array<at::Tensor, 2> diou_iou(const at::Tensor& b1, const at::Tensor& b2, double eps) {
  const at::Tensor iou = box_iou(b1, b2, "xyxy");
  const at::Tensor whi = enclosing_wh(b1, b2);
  const at::Tensor diagonal = at::pow(last(whi, 0), 2) + at::pow(last(whi, 1), 2) + eps;
  const at::Tensor xp = (last(b1, 0) + last(b1, 2)) / 2, yp = (last(b1, 1) + last(b1, 3)) / 2;
  const at::Tensor xg = (last(b2, 0) + last(b2, 2)) / 2, yg = (last(b2, 1) + last(b2, 3)) / 2;
  const at::Tensor centres = at::pow(upcast(xp.unsqueeze(-1) - xg.unsqueeze(-2)), 2) +
                             at::pow(upcast(yp.unsqueeze(-1) - yg.unsqueeze(-2)), 2);
  return {iou - centres / diagonal, iou};
}

at::Tensor reduce(const char* op, const at::Tensor& loss, c10::string_view reduction, bool empty_mean_is_zero) {
  if (reduction == "none") return loss;
  if (reduction == "mean") return (empty_mean_is_zero && loss.numel() == 0) ? loss.sum() * 0.0 : loss.mean();
  if (reduction == "sum") return loss.sum();
  TORCH_CHECK_VALUE(false, op, ": reduction must be 'none', 'mean' or 'sum', got '", std::string(reduction), "'");
}

// Paired boxes [..., 4] for the losses: intersection and union.
std::array<at::Tensor, 2> loss_inter_union(const at::Tensor& b1, const at::Tensor& b2) {
  const at::Tensor xk1 = at::maximum(last(b1, 0), last(b2, 0)), yk1 = at::maximum(last(b1, 1), last(b2, 1));
  const at::Tensor xk2 = at::minimum(last(b1, 2), last(b2, 2)), yk2 = at::minimum(last(b1, 3), last(b2, 3));
  const at::Tensor overlap = (yk2 > yk1).logical_and(xk2 > xk1);
  const at::Tensor inter = at::where(overlap, (xk2 - xk1) * (yk2 - yk1), at::zeros_like(xk1));
  const at::Tensor uni = (last(b1, 2) - last(b1, 0)) * (last(b1, 3) - last(b1, 1)) +
                         (last(b2, 2) - last(b2, 0)) * (last(b2, 3) - last(b2, 1)) - inter;
  return {inter, uni};
}

std::array<at::Tensor, 2> diou_iou_loss(const at::Tensor& b1, const at::Tensor& b2, double eps) {
  const auto [inter, uni] = loss_inter_union(b1, b2);
  const at::Tensor iou = inter / (uni + eps);
  const at::Tensor xc1 = at::minimum(last(b1, 0), last(b2, 0)), yc1 = at::minimum(last(b1, 1), last(b2, 1));
  const at::Tensor xc2 = at::maximum(last(b1, 2), last(b2, 2)), yc2 = at::maximum(last(b1, 3), last(b2, 3));
  const at::Tensor diagonal = at::pow(xc2 - xc1, 2) + at::pow(yc2 - yc1, 2) + eps;
  const at::Tensor xp = (last(b1, 2) + last(b1, 0)) / 2, yp = (last(b1, 3) + last(b1, 1)) / 2;
  const at::Tensor xg = (last(b2, 0) + last(b2, 2)) / 2, yg = (last(b2, 1) + last(b2, 3)) / 2;
  const at::Tensor centres = at::pow(xp - xg, 2) + at::pow(yp - yg, 2);
  return {1 - iou + centres / diagonal, iou};
}

// The aspect-ratio term of CIoU and its weight (no gradient through the weight).
at::Tensor aspect_penalty(const at::Tensor& w_pred, const at::Tensor& h_pred, const at::Tensor& w_gt,
                          const at::Tensor& h_gt, const at::Tensor& iou, double eps, bool gt_first) {
  const at::Tensor diff = gt_first ? at::atan(w_gt / h_gt) - at::atan(w_pred / h_pred)
                                   : at::atan(w_pred / h_pred) - at::atan(w_gt / h_gt);
  const at::Tensor v = at::pow(diff, 2) * (4 / (kPi * kPi));
  const at::Tensor alpha = (v / (1 - iou + v + eps)).detach();
  return alpha * v;
}

// Rotated formats (angles in degrees, counter-clockwise); integer boxes are rounded back.
at::Tensor rounded_like(at::Tensor boxes, at::ScalarType dtype, bool integral) {
  return integral ? boxes.round().to(dtype) : boxes;
}

at::Tensor cxcywhr_to_xywhr(const at::Tensor& b) {
  const auto c = b.unbind(-1);
  const at::Tensor r = c[4] * kPi / 180.0, cos = at::cos(r), sin = at::sin(r);
  const at::Tensor x1 = c[0] - c[2] / 2 * cos - c[3] / 2 * sin;
  const at::Tensor y1 = c[1] - c[3] / 2 * cos + c[2] / 2 * sin;
  return rounded_like(at::stack({x1, y1, c[2], c[3], c[4]}, -1), b.scalar_type(), !b.is_floating_point());
}

at::Tensor xywhr_to_cxcywhr(const at::Tensor& b) {
  const auto c = b.unbind(-1);
  const at::Tensor r = c[4] * kPi / 180.0, cos = at::cos(r), sin = at::sin(r);
  const at::Tensor cx = c[0] + c[2] / 2 * cos + c[3] / 2 * sin;
  const at::Tensor cy = c[1] - c[2] / 2 * sin + c[3] / 2 * cos;
  return rounded_like(at::stack({cx, cy, c[2], c[3], c[4]}, -1), b.scalar_type(), !b.is_floating_point());
}

at::Tensor xywhr_to_corners(const at::Tensor& b) {
  const auto c = b.unbind(-1);
  const at::Tensor r = c[4] * kPi / 180.0, cos = at::cos(r), sin = at::sin(r);
  const at::Tensor x2 = c[0] + c[2] * cos, y2 = c[1] - c[2] * sin;
  const at::Tensor x3 = x2 + c[3] * sin, y3 = y2 + c[3] * cos;
  const at::Tensor x4 = c[0] + c[3] * sin, y4 = c[1] + c[3] * cos;
  return rounded_like(at::stack({c[0], c[1], x2, y2, x3, y3, x4, y4}, -1), b.scalar_type(), !b.is_floating_point());
}

at::Tensor corners_to_xywhr(const at::Tensor& b) {
  const auto c = b.unbind(-1);
  const at::Tensor r = at::atan2(c[1] - c[3], c[2] - c[0]) * 180 / kPi;
  const at::Tensor w = (at::pow(c[2] - c[0], 2) + at::pow(c[1] - c[3], 2)).sqrt();
  const at::Tensor h = (at::pow(c[4] - c[2], 2) + at::pow(c[5] - c[3], 2)).sqrt();
  return rounded_like(at::stack({c[0], c[1], w, h, r}, -1), b.scalar_type(), !b.is_floating_point());
}

std::int64_t fmt_width(c10::string_view fmt) {
  return fmt == "xyxyxyxy" ? 8 : (fmt == "xywhr" || fmt == "cxcywhr") ? 5 : 4;
}

}  // namespace

at::Tensor box_area(const at::Tensor& boxes, c10::string_view fmt) {
  check_fmt("tvx.box_area", fmt);
  check_boxes("tvx.box_area", "boxes", boxes);
  const at::Tensor b = upcast(boxes);
  if (fmt == "xyxy") return (last(b, 2) - last(b, 0)) * (last(b, 3) - last(b, 1));
  return last(b, 2) * last(b, 3);
}

at::Tensor box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2, c10::string_view fmt) {
  check_fmt("tvx.box_iou", fmt);
  check_boxes("tvx.box_iou", "boxes1", boxes1);
  check_boxes("tvx.box_iou", "boxes2", boxes2);
  const auto [inter, uni] = inter_union(boxes1, boxes2, fmt);
  return inter / uni;
}

at::Tensor generalized_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  check_boxes("tvx.generalized_box_iou", "boxes1", boxes1);
  check_boxes("tvx.generalized_box_iou", "boxes2", boxes2);
  const auto [inter, uni] = inter_union(boxes1, boxes2, "xyxy");
  const at::Tensor iou = inter / uni;
  const at::Tensor whi = enclosing_wh(boxes1, boxes2);
  const at::Tensor area = last(whi, 0) * last(whi, 1);
  return iou - (area - uni) / area;
}

at::Tensor distance_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2, double eps) {
  check_boxes("tvx.distance_box_iou", "boxes1", boxes1);
  check_boxes("tvx.distance_box_iou", "boxes2", boxes2);
  return diou_iou(upcast(boxes1), upcast(boxes2), eps)[0];
}

at::Tensor complete_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2, double eps) {
  check_boxes("tvx.complete_box_iou", "boxes1", boxes1);
  check_boxes("tvx.complete_box_iou", "boxes2", boxes2);
  const at::Tensor b1 = upcast(boxes1), b2 = upcast(boxes2);
  const auto [diou, iou] = diou_iou(b1, b2, eps);
  const at::Tensor p = b1.unsqueeze(-2), q = b2.unsqueeze(-3);
  return diou - aspect_penalty(last(p, 2) - last(p, 0), last(p, 3) - last(p, 1), last(q, 2) - last(q, 0),
                               last(q, 3) - last(q, 1), iou, eps, /*gt_first=*/false);
}

at::Tensor generalized_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2, c10::string_view reduction,
                                    double eps) {
  check_boxes("tvx.generalized_box_iou_loss", "boxes1", boxes1);
  check_boxes("tvx.generalized_box_iou_loss", "boxes2", boxes2);
  const at::Tensor b1 = upcast_non_float(boxes1), b2 = upcast_non_float(boxes2);
  const auto [inter, uni] = loss_inter_union(b1, b2);
  const at::Tensor iou = inter / (uni + eps);
  const at::Tensor xc1 = at::minimum(last(b1, 0), last(b2, 0)), yc1 = at::minimum(last(b1, 1), last(b2, 1));
  const at::Tensor xc2 = at::maximum(last(b1, 2), last(b2, 2)), yc2 = at::maximum(last(b1, 3), last(b2, 3));
  const at::Tensor area_c = (xc2 - xc1) * (yc2 - yc1);
  const at::Tensor loss = 1 - (iou - (area_c - uni) / (area_c + eps));
  return reduce("tvx.generalized_box_iou_loss", loss, reduction, true);
}

at::Tensor distance_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2, c10::string_view reduction,
                                 double eps) {
  check_boxes("tvx.distance_box_iou_loss", "boxes1", boxes1);
  check_boxes("tvx.distance_box_iou_loss", "boxes2", boxes2);
  const at::Tensor loss = diou_iou_loss(upcast_non_float(boxes1), upcast_non_float(boxes2), eps)[0];
  return reduce("tvx.distance_box_iou_loss", loss, reduction, true);
}

at::Tensor complete_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2, c10::string_view reduction,
                                 double eps) {
  check_boxes("tvx.complete_box_iou_loss", "boxes1", boxes1);
  check_boxes("tvx.complete_box_iou_loss", "boxes2", boxes2);
  const at::Tensor b1 = upcast_non_float(boxes1), b2 = upcast_non_float(boxes2);
  // As torchvision: the DIoU part uses the default eps (1e-7) whatever eps is; eps weights the
  // aspect-ratio term only.
  const auto [diou_loss, iou] = diou_iou_loss(b1, b2, 1e-7);
  const at::Tensor loss =
      diou_loss + aspect_penalty(last(b1, 2) - last(b1, 0), last(b1, 3) - last(b1, 1), last(b2, 2) - last(b2, 0),
                                 last(b2, 3) - last(b2, 1), iou, eps, /*gt_first=*/true);
  return reduce("tvx.complete_box_iou_loss", loss, reduction, true);
}

at::Tensor box_convert(const at::Tensor& boxes, c10::string_view in_fmt, c10::string_view out_fmt) {
  auto known = [](c10::string_view f) { return is_fmt(f) || f == "xywhr" || f == "cxcywhr" || f == "xyxyxyxy"; };
  TORCH_CHECK_VALUE(known(in_fmt) && known(out_fmt),
                    "tvx.box_convert: in_fmt and out_fmt must be 'xyxy', 'xywh', 'cxcywh', 'xywhr', 'cxcywhr' or "
                    "'xyxyxyxy', got '",
                    std::string(in_fmt), "' and '", std::string(out_fmt), "'");
  TORCH_CHECK_NOT_IMPLEMENTED(is_fmt(in_fmt) == is_fmt(out_fmt), "tvx.box_convert: no conversion between "
                              "axis-aligned and rotated formats, got '", std::string(in_fmt), "' to '",
                              std::string(out_fmt), "'");
  check_boxes("tvx.box_convert", "boxes", boxes, fmt_width(in_fmt));
  if (in_fmt == out_fmt) return boxes.clone();
  if (is_fmt(in_fmt)) {
    at::Tensor xyxy = boxes;
    if (in_fmt == "xywh") {
      const auto c = boxes.unbind(-1);
      xyxy = at::stack({c[0], c[1], c[0] + c[2], c[1] + c[3]}, -1);
    } else if (in_fmt == "cxcywh") {
      const auto c = boxes.unbind(-1);
      xyxy = at::stack({c[0] - c[2] * 0.5, c[1] - c[3] * 0.5, c[0] + c[2] * 0.5, c[1] + c[3] * 0.5}, -1);
    }
    const auto c = xyxy.unbind(-1);
    if (out_fmt == "xyxy") return xyxy;
    if (out_fmt == "xywh") return at::stack({c[0], c[1], c[2] - c[0], c[3] - c[1]}, -1);
    return at::stack({(c[0] + c[2]) / 2, (c[1] + c[3]) / 2, c[2] - c[0], c[3] - c[1]}, -1);
  }
  if (in_fmt == "cxcywhr" && out_fmt == "xywhr") return cxcywhr_to_xywhr(boxes);
  if (in_fmt == "xywhr" && out_fmt == "cxcywhr") return xywhr_to_cxcywhr(boxes);
  if (in_fmt == "xywhr") return xywhr_to_corners(boxes);
  if (in_fmt == "xyxyxyxy" && out_fmt == "xywhr") return corners_to_xywhr(boxes);
  if (in_fmt == "cxcywhr") return xywhr_to_corners(cxcywhr_to_xywhr(boxes).to(boxes.scalar_type()));
  return xywhr_to_cxcywhr(corners_to_xywhr(boxes).to(boxes.scalar_type()));  // xyxyxyxy -> cxcywhr
}

at::Tensor clip_boxes_to_image(const at::Tensor& boxes, at::IntArrayRef size) {
  TORCH_CHECK(size.size() == 2, "tvx.clip_boxes_to_image: size must be (height, width), got ", size);
  TORCH_CHECK(boxes.dim() >= 1 && boxes.size(-1) % 2 == 0, "tvx.clip_boxes_to_image: boxes must have shape "
              "[..., 2K] (x, y pairs), got ", boxes.sizes());
  const at::Tensor x = boxes.slice(-1, 0, c10::nullopt, 2).clamp(0, size[1]);
  const at::Tensor y = boxes.slice(-1, 1, c10::nullopt, 2).clamp(0, size[0]);
  return at::stack({x, y}, boxes.dim()).reshape(boxes.sizes());
}

at::Tensor remove_small_boxes(const at::Tensor& boxes, double min_size) {
  check_boxes("tvx.remove_small_boxes", "boxes", boxes);
  const at::Tensor ws = last(boxes, 2) - last(boxes, 0), hs = last(boxes, 3) - last(boxes, 1);
  return ws.ge(min_size).logical_and(hs.ge(min_size)).nonzero().select(-1, 0);
}

at::Tensor masks_to_boxes(const at::Tensor& masks) {
  if (masks.numel() == 0) return at::zeros({0, 4}, masks.options().dtype(at::kFloat));
  TORCH_CHECK(masks.dim() == 3, "tvx.masks_to_boxes: masks must have shape [N, H, W], got ", masks.sizes());
  const std::int64_t h = masks.size(1), w = masks.size(2);
  const at::Tensor m = masks.to(at::kBool);
  const at::Tensor rows = at::any(m, 2), cols_ = at::any(m, 1);
  const at::Tensor empty = at::any(rows, 1).logical_not();
  const at::Tensor rows_f = rows.to(at::kFloat), cols_f = cols_.to(at::kFloat);
  const at::Tensor y1 = at::argmax(rows_f, 1), x1 = at::argmax(cols_f, 1);
  const at::Tensor y2 = (h - 1) - at::argmax(rows_f.flip({1}), 1);
  const at::Tensor x2 = (w - 1) - at::argmax(cols_f.flip({1}), 1);
  return at::stack({x1, y1, x2, y2}, 1).to(at::kFloat).masked_fill(empty.unsqueeze(1), 0);
}

at::Tensor sigmoid_focal_loss(const at::Tensor& inputs, const at::Tensor& targets, double alpha, double gamma,
                              c10::string_view reduction) {
  TORCH_CHECK_VALUE((alpha >= 0 && alpha <= 1) || alpha == -1, "tvx.sigmoid_focal_loss: alpha must be in [0, 1] "
                    "or -1 (no weighting), got ", alpha);
  const at::Tensor p = at::sigmoid(inputs);
  const at::Tensor ce = at::binary_cross_entropy_with_logits(inputs, targets, {}, {}, at::Reduction::None);
  const at::Tensor p_t = p * targets + (1 - p) * (1 - targets);
  at::Tensor loss = ce * at::pow(1 - p_t, gamma);
  if (alpha >= 0) loss = (targets * alpha + (1 - targets) * (1 - alpha)) * loss;
  return reduce("tvx.sigmoid_focal_loss", loss, reduction, false);
}

TVX_LIBRARY(m) {
  m.def("box_area(Tensor boxes, str fmt=\"xyxy\") -> Tensor");
  m.def("box_iou(Tensor boxes1, Tensor boxes2, str fmt=\"xyxy\") -> Tensor");
  m.def("generalized_box_iou(Tensor boxes1, Tensor boxes2) -> Tensor");
  m.def("distance_box_iou(Tensor boxes1, Tensor boxes2, float eps=1e-07) -> Tensor");
  m.def("complete_box_iou(Tensor boxes1, Tensor boxes2, float eps=1e-07) -> Tensor");
  m.def("generalized_box_iou_loss(Tensor boxes1, Tensor boxes2, str reduction=\"none\", float eps=1e-07) -> Tensor");
  m.def("distance_box_iou_loss(Tensor boxes1, Tensor boxes2, str reduction=\"none\", float eps=1e-07) -> Tensor");
  m.def("complete_box_iou_loss(Tensor boxes1, Tensor boxes2, str reduction=\"none\", float eps=1e-07) -> Tensor");
  m.def("box_convert(Tensor boxes, str in_fmt, str out_fmt) -> Tensor");
  m.def("clip_boxes_to_image(Tensor boxes, int[2] size) -> Tensor");
  m.def("remove_small_boxes(Tensor boxes, float min_size) -> Tensor");
  m.def("masks_to_boxes(Tensor masks) -> Tensor");
  m.def("sigmoid_focal_loss(Tensor inputs, Tensor targets, float alpha=0.25, float gamma=2, str reduction=\"none\") "
        "-> Tensor");
}

TVX_LIBRARY_IMPL(CompositeImplicitAutograd, m) {
  m.impl("box_area", &box_area);
  m.impl("box_iou", &box_iou);
  m.impl("generalized_box_iou", &generalized_box_iou);
  m.impl("distance_box_iou", &distance_box_iou);
  m.impl("complete_box_iou", &complete_box_iou);
  m.impl("generalized_box_iou_loss", &generalized_box_iou_loss);
  m.impl("distance_box_iou_loss", &distance_box_iou_loss);
  m.impl("complete_box_iou_loss", &complete_box_iou_loss);
  m.impl("box_convert", &box_convert);
  m.impl("clip_boxes_to_image", &clip_boxes_to_image);
  m.impl("remove_small_boxes", &remove_small_boxes);
  m.impl("masks_to_boxes", &masks_to_boxes);
  m.impl("sigmoid_focal_loss", &sigmoid_focal_loss);
}

}  // namespace tvx::ops
