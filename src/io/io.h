// Private to src/io: what every codec shares. ImageReadMode's values are torchvision's
// (UNCHANGED=0, GRAY=1, GRAY_ALPHA=2, RGB=3, RGB_ALPHA=4); the encoded-data checks; EXIF
// orientation (read from the APP1 payload, applied to a decoded [C, H, W] image).
#pragma once

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace tvx::io::detail {

enum ImageReadMode : std::int64_t { kUnchanged = 0, kGray = 1, kGrayAlpha = 2, kRgb = 3, kRgbAlpha = 4 };

/// The mode's name for messages ("RGB_ALPHA"), or throws for a value outside 0..4.
const char* mode_name(const char* op, std::int64_t mode);

/// Encoded bytes: a non-empty 1-D uint8 tensor on the CPU. Returns it contiguous.
at::Tensor check_encoded(const char* op, const at::Tensor& data);

/// The orientation (1..8) of an EXIF block (a TIFF header, after "Exif\0\0" in JPEG's APP1), 1 where it has
/// none or cannot be read. Every offset is bounds-checked: a corrupt block yields 1.
int exif_orientation(const std::uint8_t* exif, std::size_t size);

/// The EXIF orientation of JPEG bytes, read as the libjpeg decoder reads it: the first APP1
/// segment (before the scan) whose block gives an orientation other than 1; 1 if none does.
int jpeg_exif_orientation(const std::uint8_t* data, std::size_t size);

/// decode_jpeg's modes: UNCHANGED, GRAY or RGB; anything else raises, naming `op`.
void check_jpeg_mode(const char* op, std::int64_t mode);
/// A DCT-scaled decode's minimum size: (height, width), each 0 or more; raises otherwise.
void check_min_size(const char* op, at::IntArrayRef min_size);
/// decode_jpeg_scaled's scale s (of s/8): the least of 1, 2, 4 whose output, ceil(size * s / 8)
/// as libjpeg computes it, covers min_size (height, width) read in the upright orientation
/// (EXIF 5..8 transpose); 8 where none does. libjpeg's other scales (3/8, 5/8..7/8) decode
/// slower than the next power of two (5/8 6.4 ms and 6/8 7.7 ms against 5.2 ms at full size
/// on a 1080p photo), so they are not used.
int jpeg_dct_scale(std::int64_t height, std::int64_t width, int orientation, at::IntArrayRef min_size);

/// Whether libjpeg reads a 3-component JPEG's colour as YCbCr, as its header says (JFIF; Adobe's
/// transform 1; otherwise component IDs other than 'R', 'G', 'B'). False for RGB-coded files,
/// for other component counts, and where libjpeg would warn (an unknown Adobe transform).
bool jpeg_is_ycc(const std::uint8_t* data, std::size_t size);

/// image [C, H, W] turned upright for EXIF orientation 1..8 (a view: flips and transposes).
at::Tensor apply_orientation(const at::Tensor& image, int orientation);

/// Each codec file's library as loaded ("libwebp 1.2.4"), or "" when built without it.
std::string jpeg_library();
std::string png_library();
std::string webp_library();
std::string gif_library();
std::string avif_library();
std::string nvjpeg_library();

/// decode(j) for j in [0, count) on ATen's thread pool, one image per task. An error is raised
/// again naming its image as the caller numbers them: "op: image number(j) of total: ...".
template <typename Decode, typename Number>
void for_each_image(const char* op, std::size_t count, std::size_t total, const Decode& decode, const Number& number) {
  std::vector<std::exception_ptr> errors(count);
  at::parallel_for(0, std::int64_t(count), 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = begin; j < end; ++j) {
      try {
        decode(std::size_t(j));
      } catch (...) {
        errors[j] = std::current_exception();
      }
    }
  });
  for (std::size_t j = 0; j < count; ++j) {
    if (!errors[j]) continue;
    try {
      std::rethrow_exception(errors[j]);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, op, ": image ", number(j), " of ", total, ": ", e.what_without_backtrace());
    }
  }
}

/// decode(data[i]) for each i, on the thread pool (for_each_image).
template <typename Decode>
std::vector<at::Tensor> decode_all(const char* op, const std::vector<at::Tensor>& data, const Decode& decode) {
  std::vector<at::Tensor> images(data.size());
  for_each_image(
      op, data.size(), data.size(), [&](std::size_t i) { images[i] = decode(data[i]); }, [](std::size_t i) { return i; });
  return images;
}

/// The GPU forms (io/nvjpeg/): nvJPEG on `device`, on its current stream; where nvJPEG cannot
/// take a file (CMYK, progressive on the hardware engine, a DCT-scaled size) it is decoded
/// on CPU threads and uploaded. Without nvJPEG in the build, they raise a clear error.
std::vector<at::Tensor> decode_jpegs_cuda(const std::vector<at::Tensor>& data, std::int64_t mode, at::Device device,
                                          bool apply_exif_orientation, at::OptionalIntArrayRef min_size);
std::vector<at::Tensor> encode_jpegs_cuda(const std::vector<at::Tensor>& images, std::int64_t quality);
/// The backend that decodes on `device`: "hardware (N engines x M cores)" or "gpu".
std::string nvjpeg_backend(at::Device device);

}  // namespace tvx::io::detail
