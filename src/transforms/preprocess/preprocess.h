// Private to the preprocess folder: the schema's arguments read once, and each image's plan
// (its resized size and the crop of it), shared by the CPU and CUDA kernels.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <optional>
#include <vector>

#include <tvx/transforms.h>

namespace tvx::transforms::detail {

/// The arguments of tvx::preprocess, checked.
struct PreprocessArgs {
  std::vector<std::int64_t> resize, crop;
  std::optional<std::int64_t> max_size;
  std::vector<double> mean, std;  // one per channel (empty: no normalisation)
  Interpolation mode;
  bool antialias;
  at::ScalarType dtype;
  bool channels_last;
  std::int64_t channels;
};

/// One image: resized to rh x rw (its own size without resize), then the oh x ow crop whose
/// top-left corner is (top, left) in the resized grid (negative: center_crop's zero padding).
struct ImagePlan {
  std::int64_t h, w, rh, rw, oh, ow, top, left;
};

/// A call's checked arguments, each image's plan (all crops have one size, the batch's, or the
/// call is refused) and the batch [N, C, oh, ow] in the requested dtype and memory format.
struct Prepared {
  PreprocessArgs args;
  std::vector<ImagePlan> plans;
  at::Tensor out;
};

/// The images of the schema's list: [C, H, W] tensors, or, as the list's one element, an
/// [N, C, H, W] batch (whose images then need no view each on CUDA). image(images, i) is the
/// i-th image either way.
bool is_batch(at::TensorList images);
at::Tensor image(at::TensorList images, std::int64_t i);

/// What every backend does first, with the schema's arguments.
Prepared prepare(at::TensorList images, c10::IntArrayRef resize, std::optional<std::int64_t> max_size,
                 c10::IntArrayRef crop, c10::ArrayRef<double> mean, c10::ArrayRef<double> std, at::ScalarType dtype,
                 bool channels_last, c10::string_view interpolation, bool antialias);

}  // namespace tvx::transforms::detail
