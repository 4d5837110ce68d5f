// Private to the to_tensor folder: the checks and the geometry every backend shares.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/string_view.h>

#include <cstdint>
#include <vector>

namespace tvx::transforms::detail {

/// The image seen as [N, C, H, W] (N = 1 for one image) through strides: no copy.
struct ImageView {
  std::int64_t n, c, h, w;
  std::int64_t sn, sc, sh, sw;  ///< strides in elements
  std::vector<std::int64_t> out_sizes;  ///< [C, H, W] or [N, C, H, W]
  bool hwc;                             ///< channels last in memory (the layout argument)
};

/// Checks dtype, rank and layout name (what the Meta kernel can check on symbolic shapes).
void check_to_tensor_args(const at::Tensor& image, c10::string_view layout);

/// Checks dtype, rank and layout ("HWC" or "CHW"), refuses a shape whose layout is
/// ambiguous, and returns the geometry.
ImageView to_tensor_view(const at::Tensor& image, c10::string_view layout);

}  // namespace tvx::transforms::detail
