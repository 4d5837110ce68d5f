// tvx operators: torchvision's operators with the same schemas, names and results.
// Each is registered in the "tvx" operator namespace (torch.ops.tvx.<name>) and callable
// here directly; calls go through the dispatcher, so CPU, CUDA and tracing all work.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/string_view.h>

#include <array>
#include <cstdint>
#include <optional>
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

/// Deformable convolution (v1 without a mask, v2 with one), as torchvision's operator:
/// output [N, C_out, out_h, out_w] from input [N, C, H, W], weight [C_out, C / groups, kh,
/// kw], offset [N, offset_groups * kh * kw * 2, out_h, out_w] ((dy, dx) per tap), mask [N,
/// offset_groups * kh * kw, out_h, out_w] (read only when use_mask) and bias [C_out]. Each tap
/// samples the input bilinearly (0 outside) at its moved position, times its mask.
at::Tensor deform_conv2d(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                         const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w,
                         std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w,
                         std::int64_t groups, std::int64_t offset_groups, bool use_mask);

/// The gradients (input, weight, offset, mask, bias) for deform_conv2d's output gradient
/// `grad`. Without a mask, the mask's gradient is zeros shaped like `mask`. On CUDA the input's
/// gradient is added with atomics, unless torch.use_deterministic_algorithms(True) (then in a
/// fixed order, bitwise reproducible); every other gradient is always deterministic.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> deform_conv2d_backward(
    const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
    const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w, std::int64_t pad_h,
    std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w, std::int64_t groups,
    std::int64_t offset_groups, bool use_mask);

/// torchvision.ops.deform_conv2d's optional arguments.
struct DeformConv2dOptions {
  std::optional<at::Tensor> bias;   ///< [C_out]; none: no bias
  std::optional<at::Tensor> mask;   ///< none: deformable convolution v1
  std::array<std::int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
};

/// As torchvision.ops.deform_conv2d(input, offset, weight, bias, stride, padding, dilation,
/// mask): groups and offset_groups follow from the shapes.
at::Tensor deform_conv2d(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& weight,
                         const DeformConv2dOptions& options = {});

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
