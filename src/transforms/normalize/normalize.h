// Private to the normalize folder: checks and per-channel constants every backend shares.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <vector>

namespace tvx::transforms::detail {

/// Checks a float [..., C, H, W] tensor against mean and std (1 or C values each, std
/// non-zero in the tensor's dtype). `op` is "tvx.normalize" or "tvx.normalize_".
void check_normalize_args(const char* op, const at::Tensor& tensor, c10::ArrayRef<double> mean,
                          c10::ArrayRef<double> std);

/// mean or std as the tensor's dtype rounds them (torchvision converts them to it first),
/// widened to double, one value per channel.
std::vector<double> per_channel(c10::ArrayRef<double> v, at::ScalarType dtype, std::int64_t channels);

/// `values` (1 or C of them) as a [C, 1, 1] tensor of `like`'s dtype and device, rounded
/// as torchvision rounds mean and std.
at::Tensor channel_tensor(const at::Tensor& like, c10::ArrayRef<double> values);

/// (tensor - mean) / std with ATen's elementwise ops, as torchvision computes it: the
/// path for layouts the kernels do not take. Writes into `out` (which may be `tensor`).
void normalize_aten(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                    const at::Tensor& out);

}  // namespace tvx::transforms::detail
