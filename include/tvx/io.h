// tvx::io: image files and codecs, as torchvision.io (torchvision 0.26's image:: operators:
// same names, schemas and ImageReadMode values; also torch.ops.tvx.* from Python).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/OptionalArrayRef.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tvx::io {

/// torchvision's ImageReadMode values.
enum class ImageReadMode : std::int64_t { UNCHANGED = 0, GRAY = 1, GRAY_ALPHA = 2, RGB = 3, RGB_ALPHA = 4 };

/// The bytes of a file, uint8 [size]. An empty or unreadable file is an error.
at::Tensor read_file(const std::string& path);
/// Writes a 1-D uint8 tensor's bytes to `path`.
void write_file(const std::string& path, const at::Tensor& data);

/// JPEG bytes (uint8 [n], CPU) to uint8 [C, H, W]: UNCHANGED (the file's 1, 3 or 4 channels),
/// GRAY or RGB (CMYK converted as torchvision). apply_exif_orientation turns the image upright.
at::Tensor decode_jpeg(const at::Tensor& data, std::int64_t mode = 0, bool apply_exif_orientation = false);
inline at::Tensor decode_jpeg(const at::Tensor& data, ImageReadMode mode, bool apply_exif_orientation = false) {
  return decode_jpeg(data, static_cast<std::int64_t>(mode), apply_exif_orientation);
}

/// decode_jpeg at a reduced size (torchvision has none): the smallest of libjpeg-turbo's DCT
/// scales 1/8, 1/4, 1/2 and 1 whose output is at least min_size = (height, width), in the
/// upright image's orientation. The fast path to a small input. (libjpeg's other scales, 3/8
/// and 5/8..7/8, decode slower than the next power of two, so they are not used.)
at::Tensor decode_jpeg_scaled(const at::Tensor& data, std::int64_t mode, at::IntArrayRef min_size,
                              bool apply_exif_orientation = false);

/// Batch forms: each image as decode_jpeg (decode_jpeg_scaled with min_size) or decode_image,
/// on ATen's thread pool. An error names the image's index.
///
/// With a CUDA `device`, decode_jpegs decodes on that GPU with nvJPEG (its hardware engine
/// where it has one), on the device's current stream, into uint8 CUDA tensors. The files the
/// engine refuses (progressive) go to nvJPEG's decoupled decoder beside it
/// (TVX_NVJPEG_REFUSED=cpu: to libjpeg, exact); files nvJPEG cannot take (CMYK, arithmetic
/// coding, a DCT-scaled min_size) are decoded on CPU threads meanwhile and uploaded: a batch
/// may mix them freely.
std::vector<at::Tensor> decode_jpegs(const std::vector<at::Tensor>& data, std::int64_t mode = 0,
                                     bool apply_exif_orientation = false, at::OptionalIntArrayRef min_size = {},
                                     std::optional<at::Device> device = std::nullopt);
/// encode_jpeg of each image: on the thread pool, or on the GPU with nvJPEG for CUDA images
/// (then the bytes are CUDA tensors, as torchvision's).
std::vector<at::Tensor> encode_jpegs(const std::vector<at::Tensor>& images, std::int64_t quality = 75);
std::vector<at::Tensor> decode_images(const std::vector<at::Tensor>& data, std::int64_t mode = 0,
                                      bool apply_exif_orientation = false);

/// uint8 [C, H, W] (C = 1 or 3, CPU) to JPEG bytes at quality 1..100 (libjpeg's defaults).
at::Tensor encode_jpeg(const at::Tensor& image, std::int64_t quality = 75);

/// [C, H, W] (C = 1 to 4; uint8, or uint16 for 16-bit) to PNG bytes at zlib level 0..9.
at::Tensor encode_png(const at::Tensor& image, std::int64_t compression_level = 6);

/// PNG bytes (uint8 [n], CPU) to [C, H, W], uint8 or (16-bit files) uint16: UNCHANGED (the
/// file's channels; palette images give their indices), GRAY, GRAY_ALPHA, RGB or RGB_ALPHA.
at::Tensor decode_png(const at::Tensor& data, std::int64_t mode = 0, bool apply_exif_orientation = false);
inline at::Tensor decode_png(const at::Tensor& data, ImageReadMode mode, bool apply_exif_orientation = false) {
  return decode_png(data, static_cast<std::int64_t>(mode), apply_exif_orientation);
}

/// WebP bytes to uint8 [C, H, W]: RGB, or RGBA where the file has alpha (UNCHANGED); RGB or
/// RGB_ALPHA as asked; GRAY and GRAY_ALPHA give the file's colours (WebP holds no gray).
at::Tensor decode_webp(const at::Tensor& data, std::int64_t mode = 0);

/// AVIF bytes to [C, H, W] with libavif (where the build has it, see codecs()): uint8, or
/// uint16 scaled to 16 bits for deeper images; UNCHANGED (RGB, or RGBA with alpha), RGB or
/// RGB_ALPHA. A sequence gives its first frame.
at::Tensor decode_avif(const at::Tensor& data, std::int64_t mode = 0);

/// GIF bytes to uint8 RGB: [3, H, W] for one frame, [N, 3, H, W] for an animation, each frame
/// composed on the canvas as torchvision composes it (background, disposal, transparency).
at::Tensor decode_gif(const at::Tensor& data);

/// Any supported format, found from its first bytes (JPEG, PNG, WebP, GIF, AVIF). GIF ignores
/// `mode` (RGB frames), as in torchvision.
at::Tensor decode_image(const at::Tensor& data, std::int64_t mode = 0, bool apply_exif_orientation = false);
inline at::Tensor decode_image(const at::Tensor& data, ImageReadMode mode, bool apply_exif_orientation = false) {
  return decode_image(data, static_cast<std::int64_t>(mode), apply_exif_orientation);
}

/// A codec of this build: its format, and the library that serves it as loaded at run time
/// ("libpng 1.6.39"); empty where the build has none (AVIF without libavif).
struct Codec {
  std::string format, library;
};
std::vector<Codec> codecs();

/// libjpeg's API version (JPEG_LIB_VERSION, 80 for libjpeg-turbo's jpeg8 API; 0 without libjpeg).
std::int64_t jpeg_version();
/// Whether libjpeg is libjpeg-turbo.
bool is_compiled_against_turbo();

}  // namespace tvx::io
