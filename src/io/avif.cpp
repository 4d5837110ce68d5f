// AVIF decoding on the CPU with Debian's libavif (where the build found it; `tvx info` says), as
// torchvision's decode_avif: [C, H, W], uint8 for 8-bit images and uint16 (scaled to the full
// 16-bit range) above; UNCHANGED gives RGB, or RGBA where the file has alpha; RGB and RGB_ALPHA
// as asked. An image sequence gives its first frame. libavif's own limits on the image size
// apply (16384 x 16384 pixels by default), so a header cannot ask for a huge allocation.
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/ops/empty.h>

#include <memory>

#include "core/registration.h"

#if TVX_HAS_AVIF
#include <avif/avif.h>
#endif

namespace tvx::io {

#if TVX_HAS_AVIF

at::Tensor decode_avif(const at::Tensor& data_arg, std::int64_t mode) {
  constexpr const char* op = "tvx.decode_avif";
  const at::Tensor data = detail::check_encoded(op, data_arg);
  TORCH_CHECK(mode == detail::kUnchanged || mode == detail::kRgb || mode == detail::kRgbAlpha, op, ": mode ",
              detail::mode_name(op, mode), " is not supported for AVIF files (UNCHANGED, RGB or RGB_ALPHA)");
  std::unique_ptr<avifDecoder, void (*)(avifDecoder*)> decoder(avifDecoderCreate(), &avifDecoderDestroy);
  TORCH_CHECK(decoder, op, ": libavif could not create a decoder (out of memory?)");
  decoder->maxThreads = 1;
  decoder->ignoreExif = decoder->ignoreXMP = AVIF_TRUE;
  avifResult result = avifDecoderSetIOMemory(decoder.get(), data.const_data_ptr<std::uint8_t>(), std::size_t(data.numel()));
  if (result == AVIF_RESULT_OK) result = avifDecoderParse(decoder.get());
  TORCH_CHECK(result == AVIF_RESULT_OK, op, ": invalid AVIF data: ", avifResultToString(result));
  result = avifDecoderNextImage(decoder.get());
  TORCH_CHECK(result == AVIF_RESULT_OK, op, ": invalid AVIF data: ", avifResultToString(result));

  const avifImage* image = decoder->image;
  // Files with alpha convert to RGBA even for RGB, whose channels are then the first three:
  // libavif 0.11 converting such a file straight to RGB gives other colour values.
  const bool alpha = mode == detail::kRgbAlpha || decoder->alphaPresent;
  const bool wide = image->depth > 8;
  avifRGBImage rgb;
  avifRGBImageSetDefaults(&rgb, image);
  rgb.format = alpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
  rgb.depth = wide ? 16 : 8;
  const int channels = alpha ? 4 : 3;
  at::Tensor out = at::empty({std::int64_t(image->height), std::int64_t(image->width), channels},
                             wide ? at::kUInt16 : at::kByte);
  rgb.pixels = static_cast<std::uint8_t*>(out.mutable_data_ptr());
  rgb.rowBytes = std::uint32_t(image->width) * std::uint32_t(channels) * (wide ? 2u : 1u);
  result = avifImageYUVToRGB(image, &rgb);
  TORCH_CHECK(result == AVIF_RESULT_OK, op, ": libavif could not convert the image to RGB: ", avifResultToString(result));
  const at::Tensor chw = out.permute({2, 0, 1});
  return mode == detail::kRgb && alpha ? chw.narrow(0, 0, 3) : chw;
}

namespace detail {
std::string avif_library() {
  char codecs[256] = {};
  avifCodecVersions(codecs);
  return c10::str("libavif ", avifVersion(), " (", codecs, ")");
}
}  // namespace detail

#else  // no libavif

at::Tensor decode_avif(const at::Tensor&, std::int64_t) {
  TORCH_CHECK(false, "tvx.decode_avif: this tvx was built without libavif (see `tvx info`)");
}
namespace detail {
std::string avif_library() { return ""; }
}  // namespace detail

#endif

}  // namespace tvx::io

TVX_LIBRARY(m) {
  m.def("decode_avif(Tensor encoded_data, int mode) -> Tensor",
        static_cast<at::Tensor (*)(const at::Tensor&, std::int64_t)>(&tvx::io::decode_avif));
}
