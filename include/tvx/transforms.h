// tvx transforms: torchvision.transforms.functional's tensor transforms. Each is an operator
// (torch.ops.tvx.<name>) with CPU, CUDA and Meta kernels; these call it through the
// dispatcher.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

namespace tvx::transforms {

/// Where the channel axis of a uint8 image stands in memory.
enum class Layout {
  HWC,  ///< [H, W, C]: torchvision's layout for image arrays (to_tensor of a numpy array)
  CHW,  ///< [C, H, W]: torchvision's layout for tensors (decode_image, pil_to_tensor)
};

/// uint8 image -> float32 in [0, 1], channels first, as torchvision's to_tensor.
/// Accepts [H, W] (one channel), [H, W, C] / [C, H, W] as `layout` says (default HWC,
/// torchvision's convention for arrays), or a batch [N, H, W, C] / [N, C, H, W]; any
/// strides. A shape the layout reads as more than 4 channels while the other layout would
/// read as at most 4 (a [3, 224, 224] tensor read as HWC) is ambiguous and refused with a
/// message naming the other layout. Returns a contiguous [C, H, W] (or [N, C, H, W]).
at::Tensor to_tensor(const at::Tensor& image, Layout layout = Layout::HWC);

/// (x - mean[c]) / std[c] for each channel c of a float [..., C, H, W] tensor, as
/// torchvision's normalize: mean and std are rounded to the tensor's dtype first, and a
/// zero in std is an error. With inplace, writes into `tensor` and returns it. Differentiable.
at::Tensor normalize(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                     bool inplace = false);

}  // namespace tvx::transforms
