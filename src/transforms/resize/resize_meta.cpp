// resize's Meta kernel: [..., C, h, w] in the input's dtype, symbolic sizes kept; interleaved
// channels (channels_last) stay interleaved, as the kernels keep them.
#include <ATen/ops/empty.h>

#include "core/registration.h"
#include "transforms/resize/resize.h"

namespace tvx::transforms {
namespace {

at::Tensor resize_meta(const at::Tensor& image, c10::SymIntArrayRef size, c10::string_view interpolation,
                       bool antialias) {
  TORCH_CHECK(image.dim() >= 3, "tvx.resize: image must have shape [..., C, H, W], got ", image.dim(), " dimensions");
  TORCH_CHECK(size.size() == 2, "tvx.resize: size must be [height, width], got ", size.size(), " values");
  detail::parse_interpolation("tvx.resize", interpolation);
  const auto sizes = image.sym_sizes();
  std::vector<c10::SymInt> shape(sizes.begin(), sizes.end() - 2);
  shape.insert(shape.end(), {size[0], size[1]});
  const c10::SymInt c = sizes[sizes.size() - 3];
  const at::Tensor x = image.reshape_symint({-1, c, sizes[sizes.size() - 2], sizes[sizes.size() - 1]});
  const bool interleaved = x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
  return at::empty_symint({x.sym_size(0), c, size[0], size[1]},
                          image.options().memory_format(interleaved ? at::MemoryFormat::ChannelsLast
                                                                    : at::MemoryFormat::Contiguous))
      .view_symint(shape);
}

std::vector<at::Tensor> resize_list_meta(at::TensorList images, c10::SymIntArrayRef sizes,
                                         c10::string_view interpolation, bool antialias) {
  TORCH_CHECK(sizes.size() == 2 * images.size(), "tvx.resize_list: sizes must hold [h, w] for each of the ",
              images.size(), " images, got ", sizes.size(), " values");
  std::vector<at::Tensor> out;
  for (std::size_t i = 0; i < images.size(); ++i)
    out.push_back(resize_meta(images[i], sizes.slice(2 * i, 2), interpolation, antialias));
  return out;
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) {
  m.impl("resize", &resize_meta);
  m.impl("resize_list", &resize_list_meta);
}

}  // namespace tvx::transforms
