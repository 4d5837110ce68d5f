// C++ API of image I/O: files round-trip through tvx::io, and the JPEG decoder's errors are
// C++ exceptions that name the operator and the problem (its parity with torchvision runs
// on the real files in tests/python/test_io.py).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <tvx/io.h>

#include "contract.h"

#include <filesystem>
#include <string>

namespace {

using tvx::test::error_of;

TEST(Io, FilesRoundTrip) {
  const auto path = (std::filesystem::temp_directory_path() / "tvx_io_round_trip.bin").string();
  const at::Tensor bytes = at::randint(0, 256, {1000}, at::kByte);
  tvx::io::write_file(path, bytes);
  EXPECT_TRUE(at::equal(tvx::io::read_file(path), bytes));
  std::filesystem::remove(path);
  EXPECT_NE(error_of([&] { tvx::io::read_file(path); }).find("tvx.read_file: cannot open"), std::string::npos);
}

TEST(Io, DecodeJpegErrorsNameTheProblem) {
  const at::Tensor png_magic = at::tensor({0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a}, at::kByte);
  EXPECT_NE(error_of([&] { tvx::io::decode_jpeg(png_magic); })
                .find("tvx.decode_jpeg: invalid JPEG data: Not a JPEG file: starts with 0x89 0x50"),
            std::string::npos);
  const at::Tensor soi_only = at::tensor({0xff, 0xd8}, at::kByte);
  EXPECT_NE(error_of([&] { tvx::io::decode_jpeg(soi_only, tvx::io::ImageReadMode::RGB); })
                .find("tvx.decode_jpeg: invalid JPEG data:"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tvx::io::decode_jpeg(soi_only, tvx::io::ImageReadMode::RGB_ALPHA); })
                .find("mode RGB_ALPHA is not supported for JPEG files"),
            std::string::npos);
  EXPECT_TRUE(tvx::io::is_compiled_against_turbo());
  EXPECT_GE(tvx::io::jpeg_version(), 62);
}

}  // namespace
