// nms and batched_nms: schemas (identical to torchvision's nms; batched_nms is tvx's own
// operator for torchvision's Python-level function), argument checks, C++ entry points.
// The fake (meta) implementations live in python/tvx/_meta.py: their output length is
// data-dependent, which only Python's FakeTensor can express (an unbacked SymInt).
#include "ops/nms/nms.h"

#include <tvx/ops.h>

#include <ATen/ops/_unique2.h>
#include <ATen/ops/sort.h>

#include <limits>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops {
namespace detail {

void check_nms_args(const char* op, const at::Tensor& boxes, const at::Tensor& scores,
                    const std::optional<at::Tensor>& idxs) {
  core::check_shape(op, {"boxes", boxes}, {-1, 4}, "[N, 4]");
  core::check_shape(op, {"scores", scores}, {-1}, "[N]");
  TORCH_CHECK(boxes.size(0) == scores.size(0), op, ": boxes and scores must have the same length, got ",
              boxes.size(0), " boxes and ", scores.size(0), " scores");
  core::check_floating(op, {"boxes", boxes});
  core::check_same_dtype(op, {{"boxes", boxes}, {"scores", scores}});
  core::check_same_device(op, {{"boxes", boxes}, {"scores", scores}});
  TORCH_CHECK(boxes.size(0) < std::numeric_limits<std::int32_t>::max(), op, ": at most 2^31 - 2 boxes, got ",
              boxes.size(0));
  if (idxs) {
    TORCH_CHECK(idxs->dim() == 1 && idxs->size(0) == boxes.size(0), op, ": idxs must have shape [",
                boxes.size(0), "], got ", idxs->sizes());
    TORCH_CHECK(!at::isComplexType(idxs->scalar_type()), op, ": idxs must be real numbers, got ",
                core::dtype_name(idxs->scalar_type()));
  }
}

at::Tensor category_labels(const at::Tensor& idxs, const at::Device& device) {
  // As torchvision: idxs may be any real dtype on any device; categories are equal values.
  const at::Tensor on_device = idxs.to(device);
  if (!at::isFloatingType(on_device.scalar_type())) return on_device.to(at::kLong);
  return std::get<1>(at::_unique2(on_device, /*sorted=*/true, /*return_inverse=*/true, /*return_counts=*/false));
}

at::ScalarType nms_compute_dtype(at::ScalarType t) {
  return (t == at::kHalf || t == at::kBFloat16) ? at::kFloat : t;
}

at::Tensor nms_order(const at::Tensor& scores) {
  return std::get<1>(at::sort(scores, /*stable=*/true, /*dim=*/0, /*descending=*/true));
}

}  // namespace detail

TVX_LIBRARY(m) {
  m.set_python_module("tvx._meta");
  m.def("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor");
  m.def("batched_nms(Tensor boxes, Tensor scores, Tensor idxs, float iou_threshold) -> Tensor");
}

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  return core::call_op<"tvx::nms", decltype(nms)>(boxes, scores, iou_threshold);
}

at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                       double iou_threshold) {
  return core::call_op<"tvx::batched_nms", decltype(batched_nms)>(boxes, scores, idxs, iou_threshold);
}

}  // namespace tvx::ops
