// Private to src/io: what every codec shares. ImageReadMode's values are torchvision's
// (UNCHANGED=0, GRAY=1, GRAY_ALPHA=2, RGB=3, RGB_ALPHA=4); the encoded-data checks; EXIF
// orientation (read from the APP1 payload, applied to a decoded [C, H, W] image).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace tvx::io::detail {

enum ImageReadMode : std::int64_t { kUnchanged = 0, kGray = 1, kGrayAlpha = 2, kRgb = 3, kRgbAlpha = 4 };

/// The mode's name for messages ("RGB_ALPHA"), or throws for a value outside 0..4.
const char* mode_name(const char* op, std::int64_t mode);

/// Encoded bytes: a non-empty 1-D uint8 tensor on the CPU. Returns it contiguous.
at::Tensor check_encoded(const char* op, const at::Tensor& data);

/// The orientation (1..8) of an EXIF block (a TIFF header, after "Exif\0\0" in JPEG's APP1), 1 where it has
/// none or cannot be read. Every offset is bounds-checked: a corrupt block yields 1.
int exif_orientation(const std::uint8_t* exif, std::size_t size);

/// image [C, H, W] turned upright for EXIF orientation 1..8 (a view: flips and transposes).
at::Tensor apply_orientation(const at::Tensor& image, int orientation);

/// Each codec file's library as loaded ("libwebp 1.2.4"), or "" when built without it.
std::string jpeg_library();
std::string png_library();
std::string webp_library();
std::string gif_library();

}  // namespace tvx::io::detail
