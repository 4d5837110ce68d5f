// tvx operators: torchvision's operators with the same schemas, names and results.
// Each is registered in the "tvx" operator namespace (torch.ops.tvx.<name>) and callable
// here directly; calls go through the dispatcher, so CPU, CUDA and tracing all work.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/string_view.h>

#include <cstdint>
#include <tuple>

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

// ---------------------------------------------------------------------------------------
// RoI operators, as torchvision.ops. input [N, C, H, W]; rois [K, 5] rows of (batch index,
// x1, y1, x2, y2) in input coordinates / spatial_scale, of input's dtype (float32 or
// float64 rois are also accepted with float16/bfloat16 input). Every op is differentiable
// in input (C++ autograd), runs on CPU (all cores) and CUDA (float32, float64, float16,
// bfloat16; reduced precision accumulates in float32), and its backward is deterministic.

/// RoIAlign (Mask R-CNN): output [K, C, PH, PW], each bin the mean of a sampling_ratio^2
/// grid (<= 0: ceil(bin size) per axis) of bilinear samples. aligned shifts by -0.5 pixel.
at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale, std::int64_t pooled_height,
                     std::int64_t pooled_width, std::int64_t sampling_ratio = -1, bool aligned = false);

/// RoIPool (Fast R-CNN): (output [K, C, PH, PW], argmax int32 [K, C, PH, PW]) with the max
/// of each bin and its flat index h * W + w in the input plane (-1 for an empty bin).
std::tuple<at::Tensor, at::Tensor> roi_pool(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                                            std::int64_t pooled_height, std::int64_t pooled_width);

/// Position-sensitive RoIAlign (R-FCN): C = C' * PH * PW; output [K, C', PH, PW] with bin
/// (ph, pw) of output channel c read from input channel (c * PH + ph) * PW + pw, and that
/// channel index (int32) as the second result.
std::tuple<at::Tensor, at::Tensor> ps_roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                                                std::int64_t pooled_height, std::int64_t pooled_width,
                                                std::int64_t sampling_ratio = -1);

/// Position-sensitive RoIPool: the mean of each bin, channels as ps_roi_align.
std::tuple<at::Tensor, at::Tensor> ps_roi_pool(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                                               std::int64_t pooled_height, std::int64_t pooled_width);

/// The gradients with respect to input ([batch_size, channels, height, width]), as
/// torchvision's _*_backward operators. Deterministic on every device.
at::Tensor roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                              std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                              std::int64_t channels, std::int64_t height, std::int64_t width,
                              std::int64_t sampling_ratio, bool aligned);
at::Tensor roi_pool_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& argmax,
                             double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                             std::int64_t batch_size, std::int64_t channels, std::int64_t height, std::int64_t width);
at::Tensor ps_roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& channel_mapping,
                                 double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                                 std::int64_t sampling_ratio, std::int64_t batch_size, std::int64_t channels,
                                 std::int64_t height, std::int64_t width);
at::Tensor ps_roi_pool_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& channel_mapping,
                                double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                                std::int64_t batch_size, std::int64_t channels, std::int64_t height,
                                std::int64_t width);

// ---------------------------------------------------------------------------------------
// Box utilities, equal to torchvision.ops' (same dtype promotion, same formulas). Boxes are
// [..., 4] (x1, y1, x2, y2) unless a format says otherwise; pairwise functions return
// [..., N, M]; the losses take paired boxes and reduce with "none", "mean" or "sum". Every
// device; differentiable where torchvision's are.

at::Tensor box_area(const at::Tensor& boxes, c10::string_view fmt = "xyxy");
at::Tensor box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2, c10::string_view fmt = "xyxy");
at::Tensor generalized_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2);
at::Tensor distance_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2, double eps = 1e-7);
at::Tensor complete_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2, double eps = 1e-7);
at::Tensor generalized_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2,
                                    c10::string_view reduction = "none", double eps = 1e-7);
at::Tensor distance_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2,
                                 c10::string_view reduction = "none", double eps = 1e-7);
/// As torchvision: eps weights the aspect-ratio term; the DIoU part always uses 1e-7.
at::Tensor complete_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2,
                                 c10::string_view reduction = "none", double eps = 1e-7);
/// "xyxy", "xywh", "cxcywh" among themselves; "xywhr", "cxcywhr", "xyxyxyxy" (rotated,
/// degrees) among themselves. Integer rotated boxes are rounded back to their dtype.
at::Tensor box_convert(const at::Tensor& boxes, c10::string_view in_fmt, c10::string_view out_fmt);
/// Clamps x to [0, width] and y to [0, height]; size = {height, width}.
at::Tensor clip_boxes_to_image(const at::Tensor& boxes, at::IntArrayRef size);
/// Indices (int64) of the boxes whose width and height are both >= min_size.
at::Tensor remove_small_boxes(const at::Tensor& boxes, double min_size);
/// [N, H, W] masks to float32 [N, 4] boxes around their non-zero pixels (zeros for an
/// empty mask).
at::Tensor masks_to_boxes(const at::Tensor& masks);
/// RetinaNet's focal loss on logits; alpha in [0, 1], or -1 for no class weighting.
at::Tensor sigmoid_focal_loss(const at::Tensor& inputs, const at::Tensor& targets, double alpha = 0.25,
                              double gamma = 2, c10::string_view reduction = "none");

}  // namespace tvx::ops
