// The batch forms: a list of encoded images in, a list of images out, decoded on ATen's thread
// pool (one image per task; each decoder is single-threaded), or on a GPU with nvJPEG
// (io/nvjpeg/). An error names the image.
#include "io/io.h"

#include <tvx/io.h>

#include <vector>

#include "core/registration.h"

namespace tvx::io {


std::vector<at::Tensor> decode_jpegs(const std::vector<at::Tensor>& data, std::int64_t mode,
                                     bool apply_exif_orientation, at::OptionalIntArrayRef min_size,
                                     std::optional<at::Device> device) {
  if (device && !device->is_cpu()) return detail::decode_jpegs_cuda(data, mode, *device, apply_exif_orientation, min_size);
  if (min_size) {
    detail::check_min_size("tvx.decode_jpegs", *min_size);
    const std::vector<std::int64_t> size = min_size->vec();
    return detail::decode_all("tvx.decode_jpegs", data, [&](const at::Tensor& d) {
      return decode_jpeg_scaled(d, mode, size, apply_exif_orientation);
    });
  }
  return detail::decode_all("tvx.decode_jpegs", data,
                    [&](const at::Tensor& d) { return decode_jpeg(d, mode, apply_exif_orientation); });
}

std::vector<at::Tensor> encode_jpegs(const std::vector<at::Tensor>& images, std::int64_t quality) {
  if (!images.empty() && images[0].is_cuda()) return detail::encode_jpegs_cuda(images, quality);
  return detail::decode_all("tvx.encode_jpegs", images, [&](const at::Tensor& image) { return encode_jpeg(image, quality); });
}

std::vector<at::Tensor> decode_images(const std::vector<at::Tensor>& data, std::int64_t mode,
                                      bool apply_exif_orientation) {
  return detail::decode_all("tvx.decode_images", data,
                    [&](const at::Tensor& d) { return decode_image(d, mode, apply_exif_orientation); });
}

}  // namespace tvx::io

namespace {
std::vector<at::Tensor> decode_jpegs_cuda_op(const std::vector<at::Tensor>& data, std::int64_t mode, at::Device device) {
  return tvx::io::decode_jpegs(data, mode, false, std::nullopt, device);
}
std::string nvjpeg_backend_op(at::Device device) { return tvx::io::detail::nvjpeg_backend(device); }
}  // namespace

TVX_LIBRARY(m) {
  m.def("decode_jpegs(Tensor[] data, int mode, bool apply_exif_orientation=False, int[]? min_size=None, "
        "Device? device=None) -> Tensor[]",
        &tvx::io::decode_jpegs);
  m.def("encode_jpegs(Tensor[] images, int quality) -> Tensor[]", &tvx::io::encode_jpegs);
  // torchvision 0.26's GPU schemas.
  m.def("decode_jpegs_cuda(Tensor[] _0, int _1, Device _2) -> Tensor[] _0", &decode_jpegs_cuda_op);
  m.def("encode_jpegs_cuda(Tensor[] _0, int _1) -> Tensor[] _0", &tvx::io::detail::encode_jpegs_cuda);
  m.def("_nvjpeg_backend(Device device) -> str", &nvjpeg_backend_op);
  m.def("decode_images(Tensor[] data, int mode, bool apply_exif_orientation=False) -> Tensor[]", &tvx::io::decode_images);
}
