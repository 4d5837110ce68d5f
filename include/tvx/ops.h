// tvx operators: torchvision's operators with the same schemas, names and results.
// Each is registered in the "tvx" operator namespace (torch.ops.tvx.<name>) and callable
// here directly; calls go through the dispatcher, so CPU, CUDA and tracing all work.
#pragma once

#include <ATen/core/Tensor.h>

namespace tvx::ops {

/// Non-maximum suppression, as torchvision.ops.nms.
/// boxes [N, 4] as (x1, y1, x2, y2), scores [N], both float32/float64 (float16/bfloat16 are
/// computed in float32) on one device. Returns the int64 indices of the kept boxes, sorted
/// by decreasing score (ties in index order). A box is dropped when its IoU with a kept box
/// of higher score is > iou_threshold.
///
/// NaN: scores sort as torch.sort sorts them (NaN above every number, so such boxes are
/// visited first). A box with a NaN coordinate has a NaN area, so its IoU with any box is
/// NaN and compares false: it neither suppresses nor is suppressed. A NaN iou_threshold
/// suppresses nothing.
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);

/// NMS done independently per category, as torchvision.ops.batched_nms: boxes of
/// different idxs (int64 [N]) never suppress each other. Same order and NaN rules as nms.
at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                       double iou_threshold);

}  // namespace tvx::ops
