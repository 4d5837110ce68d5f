// decode_image: the format from the first bytes, then that format's decoder, as torchvision's
// decode_image. HEIC files are recognised and refused by name.
#include "io/io.h"

#include <tvx/io.h>

#include <cstring>

#include "core/registration.h"

namespace tvx::io {

at::Tensor decode_image(const at::Tensor& data_arg, std::int64_t mode, bool apply_exif_orientation) {
  constexpr const char* op = "tvx.decode_image";
  const at::Tensor data = detail::check_encoded(op, data_arg);
  detail::mode_name(op, mode);
  const auto* b = data.const_data_ptr<std::uint8_t>();
  const std::size_t n = std::size_t(data.numel());
  auto starts = [&](std::size_t at, const char* magic, std::size_t len) {
    return n >= at + len && std::memcmp(b + at, magic, len) == 0;
  };
  if (starts(0, "\xff\xd8", 2)) return decode_jpeg(data, mode, apply_exif_orientation);
  if (starts(0, "\x89PNG\r\n\x1a\n", 8)) return decode_png(data, mode, apply_exif_orientation);
  if (starts(0, "RIFF", 4) && starts(8, "WEBP", 4)) return decode_webp(data, mode);
  // GIF: RGB whatever the mode, [N, C, H, W] for an animation, as torchvision's decode_image.
  if (starts(0, "GIF87a", 6) || starts(0, "GIF89a", 6)) return decode_gif(data);
  if (starts(4, "ftypavif", 8) || starts(4, "ftypavis", 8)) return decode_avif(data, mode);
  TORCH_CHECK(!starts(4, "ftypheic", 8) && !starts(4, "ftypheix", 8), op, ": HEIC files are not supported");
  TORCH_CHECK(false, op, ": unknown image format (JPEG, PNG, WebP, GIF, AVIF); the data starts with ",
              n >= 4 ? c10::str(int(b[0]), " ", int(b[1]), " ", int(b[2]), " ", int(b[3])) : std::string("fewer than 4 bytes"));
}

}  // namespace tvx::io

TVX_LIBRARY(m) {
  m.def("decode_image(Tensor data, int mode, bool apply_exif_orientation=False) -> Tensor",
        static_cast<at::Tensor (*)(const at::Tensor&, std::int64_t, bool)>(&tvx::io::decode_image));
}
