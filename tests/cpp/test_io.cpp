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

TEST(Io, ScaledAndBatchDecode) {
  const at::Tensor image = at::randint(0, 256, {3, 64, 80}, at::kByte);
  const at::Tensor jpeg = tvx::io::encode_jpeg(image, 90);
  EXPECT_EQ(tvx::io::decode_jpeg(jpeg).sizes(), image.sizes());
  // The smallest of 1/8, 1/4, 1/2, 1 covering (20, 20): 1/2 gives 32 x 40, 1/4 only 16 x 20.
  EXPECT_EQ(tvx::io::decode_jpeg_scaled(jpeg, 0, {20, 20}).sizes(), (std::vector<std::int64_t>{3, 32, 40}));
  EXPECT_EQ(tvx::io::decode_jpeg_scaled(jpeg, 1, {0, 0}).sizes(), (std::vector<std::int64_t>{1, 8, 10}));
  const std::vector<at::Tensor> images = tvx::io::decode_jpegs({jpeg, jpeg}, 0, false, std::vector<std::int64_t>{20, 20});
  ASSERT_EQ(images.size(), 2u);
  EXPECT_TRUE(at::equal(images[1], tvx::io::decode_jpeg_scaled(jpeg, 0, {20, 20})));
  const at::Tensor png = tvx::io::encode_png(image);
  const std::vector<at::Tensor> mixed = tvx::io::decode_images({png, jpeg});
  EXPECT_TRUE(at::equal(mixed[0], image));
  EXPECT_EQ(error_of([&] { tvx::io::decode_images({png, png.slice(0, 0, 20)}); }).find("tvx.decode_images: image 1 of 2: "), 0u);
}

TEST(Io, DecodeGif) {
  // 1 x 1 pixels, a two-colour global map, one frame of index 0 (LZW: clear, 0, end).
  const std::vector<std::uint8_t> bytes = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 10, 20, 30, 40, 50, 60,
                                           0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};
  const at::Tensor gif = at::tensor(std::vector<std::int64_t>(bytes.begin(), bytes.end())).to(at::kByte);
  EXPECT_TRUE(at::equal(tvx::io::decode_gif(gif), at::tensor({10, 20, 30}, at::kByte).view({3, 1, 1})));
  EXPECT_TRUE(at::equal(tvx::io::decode_image(gif, tvx::io::ImageReadMode::GRAY), tvx::io::decode_gif(gif)));
  EXPECT_EQ(error_of([&] { tvx::io::decode_gif(gif.slice(0, 0, 30)); }).find("tvx.decode_gif: invalid GIF data: "), 0u);
}

TEST(Io, DecodeAvifErrorsNameTheProblem) {
  // Not an AVIF file: libavif's message, or (a build without libavif) that it is missing.
  const at::Tensor junk = at::tensor({0, 0, 0, 12, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0}, at::kByte);
  const std::string error = error_of([&] { tvx::io::decode_avif(junk); });
  EXPECT_EQ(error.find("tvx.decode_avif: "), 0u) << error;
  EXPECT_NE(error.find("invalid AVIF data") + error.find("built without libavif"), 2 * std::string::npos) << error;
}

}  // namespace
