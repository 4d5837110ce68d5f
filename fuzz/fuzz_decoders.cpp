// libFuzzer harness for tvx's image decoders (scripts/fuzz.sh builds it with clang, ASan and
// UBSan, seeds it from shared/images and runs each target for a bounded time). The decoder is
// chosen by TVX_FUZZ_TARGET: jpeg, png, webp, gif, avif or image (decode_image, which sniffs). Each
// input is decoded in every mode the format takes, with and without EXIF orientation; a clear
// error (c10::Error) is a normal outcome, anything else (a crash, a sanitizer report, another
// exception, a leak) fails the run.
#include <tvx/io.h>

#include <ATen/ATen.h>

#include "io/io.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <zlib.h>

namespace {

enum class Target { jpeg, png, webp, gif, avif, image };
Target target = Target::image;

// Runs one decode; its clear error (c10::Error) is a normal outcome, so the next one still runs.
template <typename Call>
void attempt(const Call& call) {
  try {
    call();
  } catch (const c10::Error&) {
  }
}

void decode(const at::Tensor& data) {
  switch (target) {
    case Target::jpeg: {
      const auto* bytes = data.const_data_ptr<std::uint8_t>();
      const std::size_t size = std::size_t(data.numel());
      // The marker walkers the GPU decoder trusts, on their own.
      (void)tvx::io::detail::jpeg_exif_orientation(bytes, size);
      (void)tvx::io::detail::jpeg_is_ycc(bytes, size);
      for (std::int64_t mode : {0, 1, 3}) attempt([&] { tvx::io::decode_jpeg(data, mode, mode == 3); });
      attempt([&] { tvx::io::decode_jpeg_scaled(data, 0, {16, 16}, true); });
      return;
    }
    case Target::png: {
      for (std::int64_t mode = 0; mode <= 4; ++mode) attempt([&] { tvx::io::decode_png(data, mode, mode == 0); });
      // Again with every chunk's CRC made right: mutations then reach the image data (libpng
      // and tvx's libdeflate path check the CRCs first).
      at::Tensor fixed = data.clone();
      auto* b = fixed.mutable_data_ptr<std::uint8_t>();
      const std::size_t size = std::size_t(fixed.numel());
      for (std::size_t at = 8; size >= 12 && at <= size - 12;) {
        const std::size_t length = std::size_t(b[at]) << 24 | std::size_t(b[at + 1]) << 16 | std::size_t(b[at + 2]) << 8 | b[at + 3];
        if (length > size - at - 12) break;
        const uLong crc = crc32(0, b + at + 4, uInt(length + 4));
        for (int k = 0; k < 4; ++k) b[at + 8 + length + k] = std::uint8_t(crc >> (24 - 8 * k));
        at += 12 + length;
      }
      attempt([&] { tvx::io::decode_png(fixed, 0, true); });
      attempt([&] { tvx::io::decode_png(fixed, 3, false); });
      return;
    }
    case Target::webp:
      for (std::int64_t mode : {0, 3, 4}) attempt([&] { tvx::io::decode_webp(data, mode); });
      return;
    case Target::gif:
      attempt([&] { tvx::io::decode_gif(data); });
      return;
    case Target::avif:
      for (std::int64_t mode : {0, 3, 4}) attempt([&] { tvx::io::decode_avif(data, mode); });
      return;
    case Target::image:
      for (std::int64_t mode : {0, 3}) attempt([&] { tvx::io::decode_image(data, mode, true); });
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("TVX_FUZZ_TARGET");
  const std::string t = name ? name : "image";
  if (t == "jpeg") target = Target::jpeg;
  else if (t == "png") target = Target::png;
  else if (t == "webp") target = Target::webp;
  else if (t == "gif") target = Target::gif;
  else if (t == "avif") target = Target::avif;
  else if (t == "image") target = Target::image;
  else {
    std::fprintf(stderr, "TVX_FUZZ_TARGET must be jpeg, png, webp, gif, avif or image, got %s\n", t.c_str());
    std::exit(2);
  }
  // ATen's lazily built state (allocators, dispatcher tables) before the first input, so that
  // the leak check sees only what one decode allocates.
  decode(at::zeros({4}, at::kByte));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;  // read_file refuses empty files; the decoders' check is tested elsewhere
  at::Tensor data = at::empty({std::int64_t(size)}, at::kByte);
  std::memcpy(data.mutable_data_ptr<std::uint8_t>(), bytes, size);
  decode(data);
  return 0;
}
