// WebP decoding on the CPU with Debian's libwebp, as torchvision's decode_webp: RGB, or RGBA
// where the file has alpha (UNCHANGED), or as asked (RGB, RGB_ALPHA). WebP holds no gray
// images: GRAY and GRAY_ALPHA give the file's colours, as torchvision does (it warns).
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/ops/empty.h>

#include "core/registration.h"

#if TVX_HAS_WEBP
#include <webp/decode.h>
#endif

namespace tvx::io {

#if TVX_HAS_WEBP

at::Tensor decode_webp(const at::Tensor& data_arg, std::int64_t mode) {
  constexpr const char* op = "tvx.decode_webp";
  const at::Tensor data = detail::check_encoded(op, data_arg);
  detail::mode_name(op, mode);
  const std::uint8_t* bytes = data.const_data_ptr<std::uint8_t>();
  const std::size_t size = std::size_t(data.numel());
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(bytes, size, &features);
  TORCH_CHECK(status == VP8_STATUS_OK, op, ": invalid WebP data: ",
              status == VP8_STATUS_NOT_ENOUGH_DATA ? "truncated header" : "not a WebP file or a corrupt header",
              " (libwebp status ", int(status), ")");
  TORCH_CHECK(!features.has_animation, op, ": animated WebP files are not supported (as in torchvision)");
  const bool alpha = mode == detail::kRgbAlpha || (mode != detail::kRgb && features.has_alpha);
  const int channels = alpha ? 4 : 3;
  at::Tensor image = at::empty({features.height, features.width, channels}, at::kByte);
  const std::size_t stride = std::size_t(features.width) * std::size_t(channels);
  std::uint8_t* out = image.mutable_data_ptr<std::uint8_t>();
  const std::size_t out_size = stride * std::size_t(features.height);
  const std::uint8_t* done = alpha ? WebPDecodeRGBAInto(bytes, size, out, out_size, int(stride))
                                   : WebPDecodeRGBInto(bytes, size, out, out_size, int(stride));
  TORCH_CHECK(done, op, ": invalid WebP data: the image data is truncated or corrupt");
  return image.permute({2, 0, 1});
}

namespace detail {
std::string webp_library() {
  const int v = WebPGetDecoderVersion();  // 0x010204: 1.2.4
  return c10::str("libwebp ", v >> 16, ".", (v >> 8) & 0xff, ".", v & 0xff);
}
}  // namespace detail

#else  // no libwebp

namespace detail {
std::string webp_library() { return ""; }
}  // namespace detail

at::Tensor decode_webp(const at::Tensor&, std::int64_t) {
  TORCH_CHECK(false, "tvx.decode_webp: this tvx was built without libwebp (see `tvx info`)");
}

#endif

}  // namespace tvx::io

TVX_LIBRARY(m) {
  m.def("decode_webp(Tensor encoded_data, int mode) -> Tensor",
        static_cast<at::Tensor (*)(const at::Tensor&, std::int64_t)>(&tvx::io::decode_webp));
}
