// JPEG on the CPU with libjpeg-turbo. encode_jpeg as torchvision's (libjpeg's defaults:
// 4:2:0, the standard tables at `quality`). decode_jpeg as torchvision's: the image's own
// channels (UNCHANGED: 1 gray, 3 RGB, 4 CMYK), GRAY or RGB; CMYK (and YCCK, which libjpeg
// turns into CMYK) to RGB as torchvision converts it (r = round(c * k / 255)), to GRAY through
// libjpeg's own RGB weights. Unlike torchvision, libjpeg's warnings (corrupt data it would
// skip over) are errors: a corrupt file never decodes to a half-grey image.
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/ops/empty.h>

#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <string>

#include "core/registration.h"

#if TVX_HAS_JPEG
#include <jpeglib.h>
#endif

namespace tvx::io {

#if TVX_HAS_JPEG
namespace {

// libjpeg reports errors (and, here, warnings) by jumping back to decode_jpeg's setjmp.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) error_exit(cinfo);  // a warning: corrupt data
}

// cinfo reports errors and warnings through err (then longjmp to err.jump).
void install(ErrorManager& err, jpeg_error_mgr*& slot) {
  slot = jpeg_std_error(&err.pub);
  err.pub.error_exit = &error_exit;
  err.pub.emit_message = &emit_message;
}

// torchvision's CMYK conversion: each channel times K, over 255, rounded.
inline std::uint8_t times_k(std::uint8_t v, std::uint8_t k) { return std::uint8_t((int(v) * int(k) + 127) / 255); }

void cmyk_row_to(std::uint8_t* out, const std::uint8_t* cmyk, JDIMENSION width, bool gray) {
  for (JDIMENSION x = 0; x < width; ++x, cmyk += 4) {
    const std::uint8_t r = times_k(cmyk[0], cmyk[3]), g = times_k(cmyk[1], cmyk[3]), b = times_k(cmyk[2], cmyk[3]);
    if (gray) {
      *out++ = std::uint8_t((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);  // libjpeg's rgb_gray
    } else {
      *out++ = r;
      *out++ = g;
      *out++ = b;
    }
  }
}

// The decoder behind decode_jpeg (min_size empty: full size) and decode_jpeg_scaled (the DCT
// scale detail::jpeg_dct_scale picks). EXIF orientation is read by the same marker walker as
// the GPU decoder's (detail::jpeg_exif_orientation).
at::Tensor decode(const char* op, const at::Tensor& data_arg, std::int64_t mode, bool apply_exif_orientation,
                  at::IntArrayRef min_size) {
  const at::Tensor data = detail::check_encoded(op, data_arg);
  detail::check_jpeg_mode(op, mode);
  const auto* bytes = data.const_data_ptr<std::uint8_t>();
  const std::size_t size = std::size_t(data.numel());
  const int orientation = apply_exif_orientation ? detail::jpeg_exif_orientation(bytes, size) : 1;

  // Declared before setjmp: a jump back to it must not skip a destructor.
  at::Tensor image, cmyk_row;
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  install(err, cinfo.err);
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    TORCH_CHECK(false, op, ": invalid JPEG data: ", err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);

  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  int channels = cinfo.num_components;
  bool convert_cmyk = false;
  if (mode == detail::kGray && cinfo.jpeg_color_space != JCS_GRAYSCALE) {
    channels = 1;
    convert_cmyk = cmyk;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
  } else if (mode == detail::kRgb && cinfo.jpeg_color_space != JCS_RGB) {
    channels = 3;
    convert_cmyk = cmyk;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  }
  if (!min_size.empty()) {
    cinfo.scale_num = unsigned(detail::jpeg_dct_scale(cinfo.image_height, cinfo.image_width, orientation, min_size));
    cinfo.scale_denom = 8;
  }
  jpeg_start_decompress(&cinfo);
  const JDIMENSION height = cinfo.output_height, width = cinfo.output_width;
  image = at::empty({std::int64_t(height), std::int64_t(width), channels}, at::kByte);
  if (convert_cmyk) cmyk_row = at::empty({std::int64_t(width) * 4}, at::kByte);
  std::uint8_t* out = image.mutable_data_ptr<std::uint8_t>();
  const std::size_t stride = std::size_t(width) * std::size_t(channels);
  while (cinfo.output_scanline < height) {
    std::uint8_t* row = out + std::size_t(cinfo.output_scanline) * stride;
    JSAMPROW target = convert_cmyk ? cmyk_row.mutable_data_ptr<std::uint8_t>() : row;
    jpeg_read_scanlines(&cinfo, &target, 1);
    if (convert_cmyk) cmyk_row_to(row, target, width, channels == 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return detail::apply_orientation(image.permute({2, 0, 1}), orientation);
}

}  // namespace

at::Tensor decode_jpeg(const at::Tensor& data, std::int64_t mode, bool apply_exif_orientation) {
  return decode("tvx.decode_jpeg", data, mode, apply_exif_orientation, {});
}

at::Tensor decode_jpeg_scaled(const at::Tensor& data, std::int64_t mode, at::IntArrayRef min_size,
                              bool apply_exif_orientation) {
  constexpr const char* op = "tvx.decode_jpeg_scaled";
  detail::check_min_size(op, min_size);
  return decode(op, data, mode, apply_exif_orientation, min_size);
}

at::Tensor encode_jpeg(const at::Tensor& image_arg, std::int64_t quality) {
  constexpr const char* op = "tvx.encode_jpeg";
  TORCH_CHECK(image_arg.scalar_type() == at::kByte, op, ": image must be uint8, got ", image_arg.scalar_type());
  TORCH_CHECK(image_arg.dim() == 3 && (image_arg.size(0) == 1 || image_arg.size(0) == 3), op,
              ": image must have shape [C, H, W] with C = 1 or 3, got ", image_arg.sizes());
  TORCH_CHECK(image_arg.device().is_cpu(), op, ": image must be on the CPU, got ", image_arg.device());
  TORCH_CHECK(quality >= 1 && quality <= 100, op, ": quality must be in [1, 100], got ", quality);
  const std::int64_t channels = image_arg.size(0), height = image_arg.size(1), width = image_arg.size(2);
  TORCH_CHECK(height > 0 && width > 0 && height <= JPEG_MAX_DIMENSION && width <= JPEG_MAX_DIMENSION, op,
              ": JPEG images are 1 to ", JPEG_MAX_DIMENSION, " pixels a side, got ", height, " x ", width);
  const at::Tensor hwc = image_arg.permute({1, 2, 0}).contiguous();

  // Declared before setjmp: a jump back to it must not skip a destructor.
  at::Tensor encoded;
  unsigned char* buffer = nullptr;  // libjpeg's output, malloc'ed; its address is taken
  unsigned long size = 0;
  jpeg_compress_struct cinfo{};
  ErrorManager err{};
  install(err, cinfo.err);
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    TORCH_CHECK(false, op, ": libjpeg failed: ", err.message);
  }
  jpeg_create_compress(&cinfo);
  cinfo.image_width = JDIMENSION(width);
  cinfo.image_height = JDIMENSION(height);
  cinfo.input_components = int(channels);
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, int(quality), TRUE);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  jpeg_start_compress(&cinfo, TRUE);
  const std::uint8_t* in = hwc.const_data_ptr<std::uint8_t>();
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(in + std::size_t(cinfo.next_scanline) * std::size_t(width * channels));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  encoded = at::empty({std::int64_t(size)}, at::kByte);
  std::memcpy(encoded.mutable_data_ptr<std::uint8_t>(), buffer, size);
  std::free(buffer);
  return encoded;
}

std::int64_t jpeg_version() { return JPEG_LIB_VERSION; }

namespace detail {
std::string jpeg_library() {
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
  constexpr int v = LIBJPEG_TURBO_VERSION_NUMBER;  // 2001005: 2.1.5
  return c10::str("libjpeg-turbo ", v / 1000000, ".", v / 1000 % 1000, ".", v % 1000, " (API ", JPEG_LIB_VERSION, ")");
#else
  return c10::str("libjpeg (API ", JPEG_LIB_VERSION, ")");
#endif
}
}  // namespace detail

bool is_compiled_against_turbo() {
#ifdef LIBJPEG_TURBO_VERSION
  return true;
#else
  return false;
#endif
}

#else  // no libjpeg

at::Tensor decode_jpeg(const at::Tensor&, std::int64_t, bool) {
  TORCH_CHECK(false, "tvx.decode_jpeg: this tvx was built without libjpeg-turbo (see `tvx info`)");
}
at::Tensor decode_jpeg_scaled(const at::Tensor&, std::int64_t, at::IntArrayRef, bool) {
  TORCH_CHECK(false, "tvx.decode_jpeg_scaled: this tvx was built without libjpeg-turbo (see `tvx info`)");
}
at::Tensor encode_jpeg(const at::Tensor&, std::int64_t) {
  TORCH_CHECK(false, "tvx.encode_jpeg: this tvx was built without libjpeg-turbo (see `tvx info`)");
}
std::int64_t jpeg_version() { return 0; }
namespace detail {
std::string jpeg_library() { return ""; }
}  // namespace detail
bool is_compiled_against_turbo() { return false; }

#endif

}  // namespace tvx::io

TVX_LIBRARY(m) {
  m.def("decode_jpeg(Tensor data, int mode, bool apply_exif_orientation=False) -> Tensor",
        static_cast<at::Tensor (*)(const at::Tensor&, std::int64_t, bool)>(&tvx::io::decode_jpeg));
  m.def("decode_jpeg_scaled(Tensor data, int mode, int[2] min_size, bool apply_exif_orientation=False) -> Tensor",
        static_cast<at::Tensor (*)(const at::Tensor&, std::int64_t, at::IntArrayRef, bool)>(&tvx::io::decode_jpeg_scaled));
  m.def("encode_jpeg(Tensor _0, int _1) -> Tensor _0", &tvx::io::encode_jpeg);
  m.def("_jpeg_version() -> int _0", &tvx::io::jpeg_version);
  m.def("_is_compiled_against_turbo() -> bool _0", &tvx::io::is_compiled_against_turbo);
}
