// preprocess's Meta kernel: the batch [N, C, h, w] in the requested dtype and memory format.
// Its size is the crop, or resize's [h, w]; otherwise the images' (concrete) sizes give it.
#include "core/registration.h"
#include "transforms/preprocess/preprocess.h"

namespace tvx::transforms {
namespace {

at::Tensor preprocess_meta(at::TensorList images, c10::IntArrayRef resize, std::optional<std::int64_t> max_size,
                           c10::IntArrayRef crop, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                           at::ScalarType dtype, bool channels_last, c10::string_view interpolation, bool antialias) {
  return detail::prepare(images, resize, max_size, crop, mean, std, dtype, channels_last, interpolation, antialias).out;
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) { m.impl("preprocess", &preprocess_meta); }

}  // namespace tvx::transforms
