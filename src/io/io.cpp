// Image I/O: the schemas (torchvision 0.26's image:: operators, character for character),
// read_file/write_file, and the helpers every codec shares (io.h).
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/ops/empty.h>
#include <ATen/ops/flip.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/check.h"
#include "core/registration.h"

namespace tvx::io {
namespace detail {

const char* mode_name(const char* op, std::int64_t mode) {
  switch (mode) {
    case kUnchanged: return "UNCHANGED";
    case kGray: return "GRAY";
    case kGrayAlpha: return "GRAY_ALPHA";
    case kRgb: return "RGB";
    case kRgbAlpha: return "RGB_ALPHA";
    default: TORCH_CHECK(false, op, ": mode must be an ImageReadMode (0 to 4), got ", mode);
  }
}

at::Tensor check_encoded(const char* op, const at::Tensor& data) {
  core::check_dtype(op, {"data", data}, {at::kByte});
  TORCH_CHECK(data.dim() == 1 && data.numel() > 0, op, ": data must be a non-empty 1-D tensor of encoded bytes, got shape ",
              data.sizes());
  TORCH_CHECK(data.device().is_cpu(), op, ": data must be on the CPU, got ", data.device());
  return data.contiguous();
}

namespace {

// TIFF integers in the block's byte order, read only inside [0, size).
struct Tiff {
  const std::uint8_t* p;
  std::size_t size;
  bool little;
  bool u16(std::size_t at, std::uint32_t& v) const {
    if (at > size || size - at < 2) return false;
    v = little ? p[at] | (p[at + 1] << 8) : (p[at] << 8) | p[at + 1];
    return true;
  }
  bool u32(std::size_t at, std::uint32_t& v) const {
    if (at > size || size - at < 4) return false;
    v = little ? std::uint32_t(p[at]) | (std::uint32_t(p[at + 1]) << 8) | (std::uint32_t(p[at + 2]) << 16) |
                     (std::uint32_t(p[at + 3]) << 24)
               : (std::uint32_t(p[at]) << 24) | (std::uint32_t(p[at + 1]) << 16) | (std::uint32_t(p[at + 2]) << 8) |
                     std::uint32_t(p[at + 3]);
    return true;
  }
};

}  // namespace

int exif_orientation(const std::uint8_t* exif, std::size_t size) {
  static constexpr std::uint8_t kHeader[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (size >= 6 && std::memcmp(exif, kHeader, 6) == 0) exif += 6, size -= 6;  // JPEG's APP1; PNG's eXIf has none
  if (size < 8) return 1;
  const Tiff t{exif, size, exif[0] == 'I' && exif[1] == 'I'};
  if (!t.little && !(exif[0] == 'M' && exif[1] == 'M')) return 1;
  std::uint32_t magic = 0, ifd = 0, entries = 0;
  if (!t.u16(2, magic) || magic != 42 || !t.u32(4, ifd) || !t.u16(ifd, entries)) return 1;
  for (std::uint32_t e = 0; e < entries; ++e) {
    const std::size_t at = std::size_t(ifd) + 2 + std::size_t(e) * 12;
    std::uint32_t tag = 0, type = 0, value = 0;
    if (!t.u16(at, tag)) return 1;
    if (tag != 0x0112) continue;
    // Orientation: SHORT (type 3), count 1, the value in the entry's first two bytes.
    if (!t.u16(at + 2, type) || type != 3 || !t.u16(at + 8, value)) return 1;
    return value >= 1 && value <= 8 ? int(value) : 1;
  }
  return 1;
}

namespace {

// Calls visit(marker, payload, length) for each JPEG marker segment before the scan, in file
// order, until visit returns false. Stops quietly at anything malformed (the decoder reports it).
template <typename Visit>
void for_each_segment(const std::uint8_t* data, std::size_t size, const Visit& visit) {
  if (size < 4 || data[0] != 0xff || data[1] != 0xd8) return;
  std::size_t at = 2;
  while (at + 4 <= size) {
    if (data[at] != 0xff) return;
    const std::uint8_t marker = data[at + 1];
    if (marker == 0xff) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {  // standalone markers
      at += 2;
      continue;
    }
    if (marker == 0xda || marker == 0xd9) return;  // the scan, or the end
    const std::size_t length = (std::size_t(data[at + 2]) << 8) | data[at + 3];
    if (length < 2 || at + 2 + length > size) return;
    if (!visit(marker, data + at + 4, length - 2)) return;
    at += 2 + length;
  }
}

}  // namespace

int jpeg_exif_orientation(const std::uint8_t* data, std::size_t size) {
  int orientation = 1;
  for_each_segment(data, size, [&](std::uint8_t marker, const std::uint8_t* payload, std::size_t length) {
    if (marker == 0xe1) orientation = exif_orientation(payload, length);
    return orientation == 1;
  });
  return orientation;
}

bool jpeg_is_ycc(const std::uint8_t* data, std::size_t size) {
  bool jfif = false, adobe = false, rgb_ids = false;
  int transform = -1, components = 0;
  for_each_segment(data, size, [&](std::uint8_t marker, const std::uint8_t* payload, std::size_t length) {
    if (marker == 0xe0 && length >= 5 && std::memcmp(payload, "JFIF", 5) == 0) jfif = true;
    if (marker == 0xee && length >= 12 && std::memcmp(payload, "Adobe", 5) == 0) adobe = true, transform = payload[11];
    const bool sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    if (!sof) return true;
    if (length >= 6) {
      components = payload[5];
      // Component IDs: 3 bytes per component from payload[6].
      rgb_ids = components == 3 && length >= 6 + 9 && payload[6] == 'R' && payload[9] == 'G' && payload[12] == 'B';
    }
    return false;  // the frame header comes last among what matters
  });
  if (components != 3) return false;
  if (jfif) return true;
  if (adobe) return transform == 1;  // 0: RGB; others: libjpeg warns
  return !rgb_ids;
}

void check_jpeg_mode(const char* op, std::int64_t mode) {
  const char* name = mode_name(op, mode);
  TORCH_CHECK(mode == kUnchanged || mode == kGray || mode == kRgb, op, ": mode ", name,
              " is not supported for JPEG files (UNCHANGED, GRAY or RGB)");
}

void check_min_size(const char* op, at::IntArrayRef min_size) {
  TORCH_CHECK(min_size.size() == 2 && min_size[0] >= 0 && min_size[1] >= 0, op,
              ": min_size must be (height, width), each 0 or more, got ", min_size);
}

int jpeg_dct_scale(std::int64_t height, std::int64_t width, int orientation, at::IntArrayRef min_size) {
  const bool turned = orientation >= 5;
  const std::int64_t need_h = turned ? min_size[1] : min_size[0], need_w = turned ? min_size[0] : min_size[1];
  for (int s = 1; s < 8; s *= 2)
    if ((height * s + 7) / 8 >= need_h && (width * s + 7) / 8 >= need_w) return s;
  return 8;
}

at::Tensor apply_orientation(const at::Tensor& image, int orientation) {
  // [C, H, W]: W is dim 2, H dim 1. 2: mirror; 3: rotate 180; 4: flip; 5: transpose;
  // 6: rotate 90 clockwise; 7: transverse; 8: rotate 90 counter-clockwise.
  switch (orientation) {
    case 2: return image.flip({2});
    case 3: return image.flip({1, 2});
    case 4: return image.flip({1});
    case 5: return image.transpose(1, 2);
    case 6: return image.transpose(1, 2).flip({2});
    case 7: return image.transpose(1, 2).flip({1, 2});
    case 8: return image.transpose(1, 2).flip({1});
    default: return image;
  }
}

}  // namespace detail

std::vector<Codec> codecs() {
  return {{"JPEG", detail::jpeg_library()}, {"PNG", detail::png_library()}, {"WebP", detail::webp_library()},
          {"GIF", detail::gif_library()}, {"AVIF", detail::avif_library()}, {"JPEG (GPU)", detail::nvjpeg_library()}};
}

at::Tensor read_file(const std::string& path) {
  constexpr const char* op = "tvx.read_file";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  TORCH_CHECK(f, op, ": cannot open ", path, ": ", std::strerror(errno));
  TORCH_CHECK(std::fseek(f.get(), 0, SEEK_END) == 0, op, ": cannot seek in ", path, ": ", std::strerror(errno));
  const long size = std::ftell(f.get());
  TORCH_CHECK(size >= 0, op, ": cannot tell the size of ", path, ": ", std::strerror(errno));
  TORCH_CHECK(size > 0, op, ": ", path, " is empty");
  std::rewind(f.get());
  at::Tensor data = at::empty({size}, at::kByte);
  const std::size_t got = std::fread(data.mutable_data_ptr<std::uint8_t>(), 1, std::size_t(size), f.get());
  TORCH_CHECK(got == std::size_t(size), op, ": read ", got, " of ", size, " bytes of ", path);
  return data;
}

void write_file(const std::string& path, const at::Tensor& data) {
  constexpr const char* op = "tvx.write_file";
  core::check_dtype(op, {"data", data}, {at::kByte});
  TORCH_CHECK(data.dim() == 1, op, ": data must be a 1-D tensor of bytes, got shape ", data.sizes());
  const at::Tensor bytes = data.cpu().contiguous();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  TORCH_CHECK(f, op, ": cannot open ", path, " for writing: ", std::strerror(errno));
  const std::size_t n = std::size_t(bytes.numel());
  TORCH_CHECK(std::fwrite(bytes.const_data_ptr<std::uint8_t>(), 1, n, f.get()) == n, op, ": cannot write ", path, ": ",
              std::strerror(errno));
  TORCH_CHECK(std::fclose(f.release()) == 0, op, ": cannot close ", path, ": ", std::strerror(errno));
}

}  // namespace tvx::io

TVX_LIBRARY(m) {
  // torchvision 0.26's schemas: test_io.py reads them back from torch.ops.image.
  m.def("read_file(str _0) -> Tensor _0", &tvx::io::read_file);
  m.def("write_file(str _0, Tensor _1) -> ()", &tvx::io::write_file);
}
