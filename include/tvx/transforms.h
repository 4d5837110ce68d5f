// tvx transforms: torchvision.transforms.functional's tensor transforms.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

namespace tvx::transforms {

/// Where the channel axis of a uint8 image stands.
enum class Layout { HWC, CHW };

/// uint8 image -> float32 in [0, 1], channels first (torchvision's to_tensor).
/// Accepts [H, W] (one channel), [H, W, C] / [C, H, W] per `layout`, or a batch
/// [N, H, W, C] / [N, C, H, W]. Returns a contiguous [C, H, W] (or [N, C, H, W]) tensor.
at::Tensor to_tensor(const at::Tensor& image, Layout layout = Layout::HWC);

/// (x - mean[c]) / std[c] for each channel c of a float [..., C, H, W] tensor, as
/// torchvision's normalize: mean and std are cast to the tensor's dtype first, and a zero
/// in std is an error. With inplace, writes into `tensor` and returns it.
at::Tensor normalize(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                     bool inplace = false);

}  // namespace tvx::transforms
