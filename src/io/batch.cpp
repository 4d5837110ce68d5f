// The batch forms: a list of encoded images in, a list of images out, decoded on ATen's thread
// pool (one image per task; each decoder is single-threaded). An error names the image.
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/Parallel.h>

#include <exception>
#include <vector>

#include "core/registration.h"

namespace tvx::io {
namespace {

template <typename Decode>
std::vector<at::Tensor> decode_all(const char* op, const std::vector<at::Tensor>& data, const Decode& decode) {
  std::vector<at::Tensor> images(data.size());
  std::vector<std::exception_ptr> errors(data.size());
  at::parallel_for(0, std::int64_t(data.size()), 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      try {
        images[i] = decode(data[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  });
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, op, ": image ", i, " of ", data.size(), ": ", e.what_without_backtrace());
    }
  }
  return images;
}

}  // namespace

std::vector<at::Tensor> decode_jpegs(const std::vector<at::Tensor>& data, std::int64_t mode,
                                     bool apply_exif_orientation, at::OptionalIntArrayRef min_size) {
  if (min_size) {
    const std::vector<std::int64_t> size = min_size->vec();
    return decode_all("tvx.decode_jpegs", data, [&](const at::Tensor& d) {
      return decode_jpeg_scaled(d, mode, size, apply_exif_orientation);
    });
  }
  return decode_all("tvx.decode_jpegs", data,
                    [&](const at::Tensor& d) { return decode_jpeg(d, mode, apply_exif_orientation); });
}

std::vector<at::Tensor> decode_images(const std::vector<at::Tensor>& data, std::int64_t mode,
                                      bool apply_exif_orientation) {
  return decode_all("tvx.decode_images", data,
                    [&](const at::Tensor& d) { return decode_image(d, mode, apply_exif_orientation); });
}

}  // namespace tvx::io

TVX_LIBRARY(m) {
  m.def("decode_jpegs(Tensor[] data, int mode, bool apply_exif_orientation=False, int[]? min_size=None) -> Tensor[]",
        &tvx::io::decode_jpegs);
  m.def("decode_images(Tensor[] data, int mode, bool apply_exif_orientation=False) -> Tensor[]", &tvx::io::decode_images);
}
