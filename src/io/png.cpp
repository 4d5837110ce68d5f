// PNG on the CPU with libpng. encode_png as torchvision's, and beyond it gray+alpha, RGBA and
// 16-bit (uint16) images. decode_png as torchvision's: the file's channels
// (UNCHANGED: 1 gray or palette index, 2 gray+alpha, 3 RGB, 4 RGBA) or GRAY, GRAY_ALPHA, RGB,
// RGB_ALPHA through libpng's own transforms (its RGB-to-gray weights 0.2989, 0.587, as
// torchvision sets them); 16-bit images as uint16; EXIF orientation from the eXIf chunk.
// libpng's errors (bad CRCs, truncated data) are errors; its warnings are ignored, as common
// files carry benign ones. Images larger than their data can hold are refused before any
// allocation.
//
// With libdeflate (TVX_HAS_LIBDEFLATE), the image data is inflated by libdeflate, twice as
// fast as zlib, which libpng is bound to: every chunk's CRC is checked first, the IDAT chunks'
// zlib stream is inflated whole (its Adler-32 checked) to the exact size the header implies,
// and libpng then decodes a copy of the file whose one IDAT holds that data in stored
// (uncompressed) deflate blocks, which zlib only copies. libpng still does all of the PNG
// decoding (filters, interlacing, palettes, transforms). Any file that departs from the simple
// case (a bad CRC, a stream that ends early or late, no IDAT) goes to libpng as it is, which
// gives the same images and the same errors as without libdeflate.
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/ops/empty.h>

#include <bit>
#include <csetjmp>
#include <cstring>
#include <vector>

#include "core/registration.h"

#if TVX_HAS_PNG
#include <png.h>
#endif
#if TVX_HAS_LIBDEFLATE
#include <libdeflate.h>

#include <memory>
#endif

namespace tvx::io {

#if TVX_HAS_PNG
namespace {

constexpr const char* kDecode = "tvx.decode_png";
// Deflate packs at most 1032 bytes into one: an image larger than its data can hold is a lie of
// its header.
constexpr double kMaxInflateRatio = 1032.0;

struct Source {
  const std::uint8_t* data;
  std::size_t size, at;
  char message[256];
};

void on_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<Source*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof(src->message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<Source*>(png_get_io_ptr(png));
  if (src->size - src->at < n) png_error(png, "the data ends before the image does (truncated file)");
  std::memcpy(out, src->data + src->at, n);
  src->at += n;
}

#if TVX_HAS_LIBDEFLATE
std::uint32_t load_be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = std::uint8_t(v >> 24), p[1] = std::uint8_t(v >> 16), p[2] = std::uint8_t(v >> 8), p[3] = std::uint8_t(v);
}

// The size of the filtered image data the header (IHDR's data) implies: each row of each pass
// (Adam7's seven where interlaced) with its filter byte; 0 where the header is not valid.
std::uint64_t filtered_size(const std::uint8_t* ihdr) {
  const std::uint64_t width = load_be32(ihdr), height = load_be32(ihdr + 4);
  const int depth = ihdr[8], color = ihdr[9], interlace = ihdr[12];
  const int channels = color == 0 ? 1 : color == 2 ? 3 : color == 3 ? 1 : color == 4 ? 2 : color == 6 ? 4 : 0;
  if (!channels || width == 0 || height == 0 || width > 0x7fffffff || height > 0x7fffffff || interlace > 1 ||
      !(depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16))
    return 0;
  const std::uint64_t bits = std::uint64_t(channels) * std::uint64_t(depth);
  auto rows = [&](std::uint64_t w, std::uint64_t h) { return w && h ? h * (1 + (w * bits + 7) / 8) : 0; };
  if (!interlace) return rows(width, height);
  static constexpr int x0[7] = {0, 4, 0, 2, 0, 1, 0}, dx[7] = {8, 8, 4, 4, 2, 2, 1};
  static constexpr int y0[7] = {0, 0, 4, 0, 2, 0, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
  std::uint64_t total = 0;
  for (int p = 0; p < 7; ++p) {
    const std::uint64_t w = width > std::uint64_t(x0[p]) ? (width - x0[p] + dx[p] - 1) / dx[p] : 0;
    const std::uint64_t h = height > std::uint64_t(y0[p]) ? (height - y0[p] + dy[p] - 1) / dy[p] : 0;
    total += rows(w, h);
  }
  return total;
}

// A PNG file in memory (not zeroed first).
struct Buffer {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t size = 0;
};

// A copy of the PNG file whose IDAT chunks are replaced by one holding their data inflated
// (by libdeflate) in stored deflate blocks; empty where the file is not the simple case (see
// the top of this file), and libpng is to read the file itself.
Buffer with_stored_image_data(const std::uint8_t* bytes, std::size_t size) {
  struct Deleter {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Deleter> inflater(libdeflate_alloc_decompressor());
  if (!inflater) return {};
  // The chunks: every CRC right, IHDR first, the IDATs one run.
  std::size_t idat_begin = 0, idat_end = 0, idat_bytes = 0, at = 8;
  std::uint64_t raw = 0;
  bool ended = false;
  while (!ended) {
    if (size - at < 12) return {};
    const std::uint32_t length = load_be32(bytes + at);
    if (length > size - at - 12) return {};
    const std::uint8_t* type = bytes + at + 4;
    if (libdeflate_crc32(0, type, std::size_t(length) + 4) != load_be32(type + 4 + length)) return {};
    const bool idat = std::memcmp(type, "IDAT", 4) == 0;
    if (at == 8) {
      if (std::memcmp(type, "IHDR", 4) != 0 || length != 13) return {};
      raw = filtered_size(type + 4);
      if (raw == 0) return {};
    }
    if (idat) {
      if (idat_end && idat_end != at) return {};  // IDATs apart
      if (!idat_begin) idat_begin = at;
      idat_end = at + 12 + length;
      idat_bytes += length;
    }
    ended = std::memcmp(type, "IEND", 4) == 0;
    at += 12 + std::size_t(length);
  }
  // More than the IDATs can hold is not the simple case (and nothing is allocated for it here).
  if (!idat_begin || idat_bytes == 0 || double(raw) > kMaxInflateRatio * double(idat_bytes) + 1024) return {};
  // The zlib stream: the one IDAT's data in place, else the IDATs' data joined.
  std::vector<std::uint8_t> joined;
  const std::uint8_t* stream = bytes + idat_begin + 8;
  if (idat_end - idat_begin != 12 + idat_bytes) {
    joined.reserve(idat_bytes);
    for (std::size_t c = idat_begin; c < idat_end;) {
      const std::uint32_t length = load_be32(bytes + c);
      joined.insert(joined.end(), bytes + c + 8, bytes + c + 8 + length);
      c += 12 + std::size_t(length);
    }
    stream = joined.data();
  }
  // The zlib stream's window (CINFO): libdeflate reaches back 32 KiB whatever it says, zlib
  // (libpng's, torchvision's) only as far as it says. A smaller window is taken only where the
  // whole image data fits in it, so that no reference can reach past it.
  const int window_log = 8 + (stream[0] >> 4);
  if (window_log > 15 || (window_log < 15 && raw > (std::uint64_t(1) << window_log))) return {};
  // The copy: the chunks before the IDATs, one IDAT (zlib header, stored blocks of up to 65535
  // bytes, Adler-32), the chunks after; the raw data is inflated straight into its place.
  constexpr std::size_t kBlock = 65535;
  const std::size_t blocks = std::size_t((raw + kBlock - 1) / kBlock);
  const std::size_t idat_data = 2 + 5 * blocks + std::size_t(raw) + 4;
  if (idat_data > 0x7fffffff) return {};  // a PNG chunk holds less
  Buffer out{std::unique_ptr<std::uint8_t[]>(new std::uint8_t[idat_begin + 12 + idat_data + (size - idat_end)]),
             idat_begin + 12 + idat_data + (size - idat_end)};
  std::memcpy(out.data.get(), bytes, idat_begin);
  std::uint8_t* chunk = out.data.get() + idat_begin;
  std::uint8_t* data = chunk + 8;
  std::uint8_t* pixels = data + 2 + 5 * blocks;  // inflated here, then spread into blocks
  std::size_t in_used = 0, out_got = 0;
  if (libdeflate_zlib_decompress_ex(inflater.get(), stream, idat_bytes, pixels, std::size_t(raw), &in_used,
                                    &out_got) != LIBDEFLATE_SUCCESS ||
      in_used != idat_bytes || out_got != raw)
    return {};
  const std::uint32_t adler = libdeflate_adler32(1, pixels, std::size_t(raw));
  // Spread the data into blocks, front to back: block b moves 5 * (blocks - 1 - b) bytes down,
  // behind its 5-byte header, onto bytes already moved or its own.
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t begin = b * kBlock, n = std::min<std::size_t>(kBlock, std::size_t(raw) - begin);
    std::uint8_t* block = data + 2 + b * (kBlock + 5);
    std::memmove(block + 5, pixels + begin, n);
    block[0] = b + 1 == blocks ? 1 : 0;  // BFINAL, stored
    block[1] = std::uint8_t(n), block[2] = std::uint8_t(n >> 8);
    block[3] = std::uint8_t(~n), block[4] = std::uint8_t(~n >> 8);
  }
  data[0] = 0x78, data[1] = 0x01;  // deflate, 32K window, no dictionary, (0x7801 % 31 == 0)
  store_be32(data + idat_data - 4, adler);
  store_be32(chunk, std::uint32_t(idat_data));
  std::memcpy(chunk + 4, "IDAT", 4);
  store_be32(data + idat_data, libdeflate_crc32(0, chunk + 4, idat_data + 4));
  std::memcpy(data + idat_data + 4, bytes + idat_end, size - idat_end);
  return out;
}
#endif

}  // namespace

at::Tensor decode_png(const at::Tensor& data_arg, std::int64_t mode, bool apply_exif_orientation) {
  const at::Tensor data = detail::check_encoded(kDecode, data_arg);
  detail::mode_name(kDecode, mode);
  const std::uint8_t* bytes = data.const_data_ptr<std::uint8_t>();
  const std::size_t size = std::size_t(data.numel());
  TORCH_CHECK(size >= 8 && png_sig_cmp(bytes, 0, 8) == 0, kDecode, ": invalid PNG data: not a PNG file (no PNG signature)");

  // Declared before setjmp: a jump back to it must not skip a destructor.
  at::Tensor image;
  std::vector<png_bytep> rows;
#if TVX_HAS_LIBDEFLATE
  // The file with its image data inflated (libdeflate), while libpng reads it: its raw size
  // beside the image's.
  const Buffer stored = with_stored_image_data(bytes, size);
  Source src{stored.data ? stored.data.get() : bytes, stored.data ? stored.size : size, 8, {}};
#else
  Source src{bytes, size, 8, {}};
#endif
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, &on_error, &on_warning);
  TORCH_CHECK(png, kDecode, ": libpng could not allocate its state");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    TORCH_CHECK(false, kDecode, ": libpng could not allocate its state");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    TORCH_CHECK(false, kDecode, ": invalid PNG data: ", src.message);
  }
  png_set_read_fn(png, &src, &read_bytes);
  png_set_sig_bytes(png, 8);
#if TVX_HAS_LIBDEFLATE
  if (stored.data) {
    // Every CRC and the Adler-32 were checked on the file itself.
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
#ifdef PNG_IGNORE_ADLER32
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
  }
#endif
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int depth = 0, color = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &depth, &color, &interlace, nullptr, nullptr);
  int channels = png_get_channels(png, info);
  const double out_bytes = double(width) * double(height) * double(channels) * (depth > 8 ? 2.0 : 1.0);
  if (out_bytes > kMaxInflateRatio * double(size) + double(1 << 20)) {
    png_destroy_read_struct(&png, &info, nullptr);
    TORCH_CHECK(false, kDecode, ": invalid PNG data: the header declares ", width, " x ", height,
                " pixels, more than its ", size, " bytes can hold");
  }

  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color == PNG_COLOR_TYPE_PALETTE && depth < 8) png_set_packing(png);  // one index per byte
  const bool palette = (color & PNG_COLOR_MASK_PALETTE) != 0;
  const bool colour = (color & PNG_COLOR_MASK_COLOR) != 0;
  bool alpha = (color & PNG_COLOR_MASK_ALPHA) != 0;
  // A palette turns into RGB, with alpha where it has transparency (tRNS). torchvision takes
  // every palette to have alpha: without tRNS its *_ALPHA images come out shifted.
  const bool palette_alpha = palette && png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  const png_uint_32 opaque = depth > 8 ? 0xffff : 0xff;
  if (mode != detail::kUnchanged) {
    // libpng orders its transforms itself: these requests add up to the mode asked for.
    const bool want_colour = mode == detail::kRgb || mode == detail::kRgbAlpha;
    const bool want_alpha = mode == detail::kGrayAlpha || mode == detail::kRgbAlpha;
    if (palette) png_set_palette_to_rgb(png), alpha = palette_alpha;
    if (!colour && want_colour) png_set_gray_to_rgb(png);
    if (colour && !want_colour) png_set_rgb_to_gray(png, 1, 0.2989, 0.587);
    if (alpha && !want_alpha) png_set_strip_alpha(png);
    if (!alpha && want_alpha) png_set_add_alpha(png, opaque, PNG_FILLER_AFTER);
    channels = (want_colour ? 3 : 1) + (want_alpha ? 1 : 0);
  }
  if (depth > 8 && std::endian::native == std::endian::little) png_set_swap(png);  // PNG is big-endian
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int orientation = 1;
  if (apply_exif_orientation) {
    png_uint_32 exif_size = 0;
    png_bytep exif = nullptr;
    if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif)
      orientation = detail::exif_orientation(exif, exif_size);
  }
  image = at::empty({std::int64_t(height), std::int64_t(width), channels}, depth > 8 ? at::kUInt16 : at::kByte);
  const std::size_t stride = std::size_t(width) * std::size_t(channels) * (depth > 8 ? 2 : 1);
  auto* base = static_cast<png_bytep>(image.mutable_data_ptr());
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = base + std::size_t(y) * stride;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return detail::apply_orientation(image.permute({2, 0, 1}), orientation);
}

namespace {

void append_bytes(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

void flush_nothing(png_structp) {}

}  // namespace

at::Tensor encode_png(const at::Tensor& image_arg, std::int64_t compression_level) {
  constexpr const char* op = "tvx.encode_png";
  const at::ScalarType dtype = image_arg.scalar_type();
  TORCH_CHECK(dtype == at::kByte || dtype == at::kUInt16, op, ": image must be uint8 or uint16, got ", dtype);
  TORCH_CHECK(image_arg.dim() == 3 && image_arg.size(0) >= 1 && image_arg.size(0) <= 4, op,
              ": image must have shape [C, H, W] with C = 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA), got ",
              image_arg.sizes());
  TORCH_CHECK(image_arg.device().is_cpu(), op, ": image must be on the CPU, got ", image_arg.device());
  TORCH_CHECK(compression_level >= 0 && compression_level <= 9, op, ": compression_level must be in [0, 9], got ",
              compression_level);
  const std::int64_t channels = image_arg.size(0), height = image_arg.size(1), width = image_arg.size(2);
  TORCH_CHECK(height > 0 && width > 0 && height <= PNG_UINT_31_MAX && width <= PNG_UINT_31_MAX, op,
              ": PNG images are 1 to 2^31 - 1 pixels a side, got ", height, " x ", width);
  const at::Tensor hwc = image_arg.permute({1, 2, 0}).contiguous();
  static constexpr int kColour[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                     PNG_COLOR_TYPE_RGB_ALPHA};

  // Declared before setjmp: a jump back to it must not skip a destructor.
  std::vector<std::uint8_t> out;
  at::Tensor encoded;
  Source errors{nullptr, 0, 0, {}};  // only its message
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, &on_error, &on_warning);
  TORCH_CHECK(png, op, ": libpng could not allocate its state");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    TORCH_CHECK(false, op, ": libpng could not allocate its state");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    TORCH_CHECK(false, op, ": libpng failed: ", errors.message);
  }
  png_set_write_fn(png, &out, &append_bytes, &flush_nothing);
  const int depth = dtype == at::kUInt16 ? 16 : 8;
  png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), depth, kColour[channels], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, int(compression_level));
  png_write_info(png, info);
  if (depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);  // PNG is big-endian
  const auto* in = static_cast<const std::uint8_t*>(hwc.const_data_ptr());
  const std::size_t stride = std::size_t(width) * std::size_t(channels) * (depth / 8);
  for (std::int64_t y = 0; y < height; ++y) png_write_row(png, in + std::size_t(y) * stride);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  encoded = at::empty({std::int64_t(out.size())}, at::kByte);
  std::memcpy(encoded.mutable_data_ptr<std::uint8_t>(), out.data(), out.size());
  return encoded;
}

namespace detail {
std::string png_library() {
#if TVX_HAS_LIBDEFLATE
  return c10::str("libpng ", png_get_libpng_ver(nullptr), " (inflate: libdeflate ", LIBDEFLATE_VERSION_STRING, ")");
#else
  return c10::str("libpng ", png_get_libpng_ver(nullptr));
#endif
}
}  // namespace detail

#else  // no libpng

namespace detail {
std::string png_library() { return ""; }
}  // namespace detail

at::Tensor decode_png(const at::Tensor&, std::int64_t, bool) {
  TORCH_CHECK(false, "tvx.decode_png: this tvx was built without libpng (see `tvx info`)");
}
at::Tensor encode_png(const at::Tensor&, std::int64_t) {
  TORCH_CHECK(false, "tvx.encode_png: this tvx was built without libpng (see `tvx info`)");
}

#endif

}  // namespace tvx::io

TVX_LIBRARY(m) {
  m.def("encode_png(Tensor _0, int _1) -> Tensor _0", &tvx::io::encode_png);
  m.def("decode_png(Tensor data, int mode, bool apply_exif_orientation=False) -> Tensor",
        static_cast<at::Tensor (*)(const at::Tensor&, std::int64_t, bool)>(&tvx::io::decode_png));
}
