// to_tensor, normalize and resize: the shared contract on CPU and CUDA, the layout rules,
// in-place normalize, resize's size rule and its list form, preprocess against the chain of
// calls, and every SIMD tier this CPU runs giving the same bits.
#include <tvx/core.h>
#include <tvx/transforms.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include "contract.h"
#include "core/simd.h"

namespace {

using tvx::test::Contract;
using tvx::test::Inputs;
using tvx::transforms::Layout;

const std::vector<double> kMean{0.485, 0.456, 0.406}, kStd{0.229, 0.224, 0.225};

// torchvision's definitions, in ATen: img.permute(2, 0, 1).float().div(255) and
// (x - mean) / std with mean and std in the tensor's dtype.
at::Tensor reference_to_tensor(const at::Tensor& hwc) { return hwc.permute({2, 0, 1}).to(at::kFloat).div(255); }
at::Tensor reference_normalize(const at::Tensor& x) {
  const auto o = x.options();
  return (x - at::tensor(kMean, o.dtype(at::kDouble)).to(o).view({-1, 1, 1})) /
         at::tensor(kStd, o.dtype(at::kDouble)).to(o).view({-1, 1, 1});
}

tvx::test::OpContract to_tensor_contract() {
  tvx::test::OpContract c;
  c.name = "to_tensor";
  // An HWC image of n x (n + 3) pixels, 3 channels.
  c.make = [](std::int64_t n, std::uint64_t seed) {
    at::manual_seed(seed);
    return Inputs{at::randint(0, 256, {n, n + 3, 3}, at::kByte)};
  };
  c.call = [](const Inputs& in) { return tvx::transforms::to_tensor(in[0]); };
  c.reference = [](const Inputs& in) { return reference_to_tensor(in[0]); };
  c.bad = {
      {"float32 image", [] { return Inputs{at::rand({4, 4, 3})}; }, "tvx.to_tensor: image must be uint8, got float32"},
      {"1-D image", [] { return Inputs{at::zeros({4}, at::kByte)}; }, "tvx.to_tensor: image must have shape [H, W], [H, W, C]"},
      {"[3, 224, 224] read as HWC", [] { return Inputs{at::zeros({3, 224, 224}, at::kByte)}; },
       "the layout is ambiguous; pass layout=\"CHW\""},
  };
  return c;
}

tvx::test::OpContract normalize_contract() {
  tvx::test::OpContract c;
  c.name = "normalize";
  c.make = [](std::int64_t n, std::uint64_t seed) {
    at::manual_seed(seed);
    return Inputs{at::rand({2, 3, n, n + 1})};
  };
  c.call = [](const Inputs& in) { return tvx::transforms::normalize(in[0], kMean, kStd); };
  c.reference = [](const Inputs& in) { return reference_normalize(in[0]); };
  c.grad_inputs = {0};
  c.bad = {
      {"uint8 tensor", [] { return Inputs{at::zeros({3, 4, 4}, at::kByte)}; },
       "tvx.normalize: tensor must be float32, float64, float16 or bfloat16, got uint8"},
      {"[4, 4] tensor", [] { return Inputs{at::rand({4, 4})}; }, "tvx.normalize: tensor must have shape [..., C, H, W]"},
      {"2 channels for 3 means", [] { return Inputs{at::rand({2, 4, 4})}; }, "tvx.normalize: mean must have 1 or 2 values"},
  };
  return c;
}

// ATen's antialiased bilinear interpolate: torchvision's resize of a float image.
tvx::test::OpContract resize_contract() {
  tvx::test::OpContract c;
  c.name = "resize";
  c.make = [](std::int64_t n, std::uint64_t seed) {
    at::manual_seed(seed);
    return Inputs{at::rand({std::min<std::int64_t>(n, 2), 3, n / 3 + 4, n / 2 + 5})};
  };
  c.call = [](const Inputs& in) { return tvx::transforms::resize(in[0], {in[0].size(-2) / 2 + 1, in[0].size(-1) + 3}); };
  c.reference = [](const Inputs& in) {
    return at::_upsample_bilinear2d_aa(in[0], {in[0].size(2) / 2 + 1, in[0].size(3) + 3}, false);
  };
  c.atol = 1e-5;
  c.grad_inputs = {0};
  c.bad = {
      {"[H, W] image", [] { return Inputs{at::rand({4, 4})}; }, "tvx.resize: image must have shape [..., C, H, W]"},
      // (other integer images resample through float32, as torchvision's)
      {"complex image", [] { return Inputs{at::zeros({3, 4, 4}, at::kComplexFloat)}; },
       "tvx.resize: image must be uint8, float32, float64, float16 or bfloat16, got"},
  };
  return c;
}

INSTANTIATE_TEST_SUITE_P(Resize, Contract, ::testing::ValuesIn(tvx::test::checks(resize_contract())),
                         tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(ToTensor, Contract, ::testing::ValuesIn(tvx::test::checks(to_tensor_contract())),
                         tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(Normalize, Contract, ::testing::ValuesIn(tvx::test::checks(normalize_contract())),
                         tvx::test::check_name);

TEST(ToTensor, ChwTensorKeepsItsShape) {
  // The defect this guards: a CHW [3, 224, 224] tensor came back as [224, 3, 224].
  const at::Tensor chw = at::randint(0, 256, {3, 224, 224}, at::kByte);
  const at::Tensor out = tvx::transforms::to_tensor(chw, Layout::CHW);
  EXPECT_EQ(out.sizes(), (at::IntArrayRef{3, 224, 224}));
  EXPECT_TRUE(at::equal(out, chw.to(at::kFloat).div(255)));
  EXPECT_THROW(tvx::transforms::to_tensor(chw), c10::Error);  // ambiguous as HWC
  EXPECT_THROW(tvx::transforms::to_tensor(at::zeros({224, 224, 3}, at::kByte), Layout::CHW), c10::Error);
}

TEST(ToTensor, EveryChannelCountAndLayoutAndStride) {
  at::manual_seed(7);
  for (std::int64_t c : {1, 2, 3, 4, 5}) {
    const at::Tensor hwc = at::randint(0, 256, {9, 70, c}, at::kByte);
    const at::Tensor want = reference_to_tensor(hwc);
    EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(hwc), want)) << c << " channels, HWC";
    EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(hwc.permute({2, 0, 1}).contiguous(), Layout::CHW), want)) << c;
    // A transposed view read through its strides: no copy, same values.
    EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(hwc.permute({2, 0, 1}), Layout::CHW), want)) << c;
    EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(hwc.flip(1)), reference_to_tensor(hwc.flip(1)))) << c;
  }
  const at::Tensor gray = at::randint(0, 256, {4, 6}, at::kByte);
  EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(gray), gray.unsqueeze(0).to(at::kFloat).div(255)));
  const at::Tensor batch = at::randint(0, 256, {2, 4, 6, 3}, at::kByte);
  const at::Tensor out = tvx::transforms::to_tensor(batch);
  EXPECT_EQ(out.sizes(), (at::IntArrayRef{2, 3, 4, 6}));
  EXPECT_TRUE(out.is_contiguous());
  EXPECT_TRUE(at::equal(out[1], reference_to_tensor(batch[1])));
}

TEST(Normalize, InPlaceEqualsOutOfPlace) {
  // In place, input and output are one buffer: the kernel must not assume they differ.
  at::manual_seed(8);
  const at::Tensor x = at::rand({2, 3, 33, 65});
  const at::Tensor out = tvx::transforms::normalize(x, kMean, kStd);
  EXPECT_TRUE(at::equal(out, reference_normalize(x)));
  at::Tensor y = x.clone();
  const at::Tensor r = tvx::transforms::normalize(y, kMean, kStd, /*inplace=*/true);
  EXPECT_TRUE(r.is_same(y));
  EXPECT_TRUE(at::equal(y, out));
  EXPECT_THROW(tvx::transforms::normalize(x, kMean, std::vector<double>{1, 0, 1}), c10::Error);
  // float16 rounds mean and std first, as torchvision: 1e-8 becomes 0.
  EXPECT_THROW(tvx::transforms::normalize(x.to(at::kHalf), kMean, std::vector<double>{1e-8}), c10::Error);
}

// Each compiled SIMD tier this CPU runs, forced in turn through Highway: the tier reported
// is the one forced, and results are bit-identical to the definition.
TEST(Simd, EveryTierThisCpuRunsGivesTheSameBits) {
  namespace simd = tvx::core::simd;
  const auto& tiers = simd::compiled_tiers();
  ASSERT_FALSE(tiers.empty());
  const auto info = tvx::simd_tiers();
  EXPECT_EQ(info.baseline, tiers.front().name);
  at::manual_seed(9);
  const at::Tensor img = at::randint(0, 256, {37, 101, 3}, at::kByte), rgba = at::randint(0, 256, {37, 101, 4}, at::kByte);
  const at::Tensor x = at::randn({1, 3, 37, 101}) * 3;
  const std::int64_t cpu = hwy::SupportedTargets();
  int ran = 0;
  for (const auto& t : tiers) {
    if (!(cpu & t.highway_target)) continue;  // a tier above this CPU: dispatch never picks it
    hwy::SetSupportedTargetsForTest(t.highway_target);
    EXPECT_EQ(simd::active_tier().highway_target, t.highway_target) << t.name;
    EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(img), reference_to_tensor(img))) << t.name;
    EXPECT_TRUE(at::equal(tvx::transforms::to_tensor(rgba), reference_to_tensor(rgba))) << t.name;
    EXPECT_TRUE(at::equal(tvx::transforms::normalize(x, kMean, kStd), reference_normalize(x))) << t.name;
    // float32 resize: its Highway passes fuse multiply-adds where the tier has them, so the bits
    // may move between tiers, but every tier stays within 1e-5 of ATen's.
    EXPECT_TRUE(at::allclose(tvx::transforms::resize(x, {17, 40}), at::_upsample_bilinear2d_aa(x, {17, 40}, false), 0,
                             1e-5))
        << t.name;
    EXPECT_TRUE(at::allclose(tvx::transforms::resize(x, {50, 33}, tvx::transforms::Interpolation::bicubic),
                             at::_upsample_bicubic2d_aa(x, {50, 33}, false), 0, 1e-5))
        << t.name;
    ++ran;
  }
  hwy::SetSupportedTargetsForTest(0);
  EXPECT_GE(ran, 1);
}

}  // namespace

TEST(Resize, OutputSizeRule) {
  using tvx::transforms::resized_size;
  EXPECT_EQ(resized_size(40, 60, {20}), (std::vector<std::int64_t>{20, 30}));
  EXPECT_EQ(resized_size(60, 40, {20}), (std::vector<std::int64_t>{30, 20}));
  EXPECT_EQ(resized_size(40, 60, {20}, 25), (std::vector<std::int64_t>{16, 25}));
  EXPECT_EQ(resized_size(40, 60, {}, 33), (std::vector<std::int64_t>{22, 33}));
  EXPECT_EQ(resized_size(40, 60, {21, 31}), (std::vector<std::int64_t>{21, 31}));
  EXPECT_NE(tvx::test::error_of([] { resized_size(40, 60, {20}, 20); }).find("must be strictly greater"),
            std::string::npos);
  EXPECT_NE(tvx::test::error_of([] { resized_size(40, 60, {20, 30}, 50); }).find("max_size is only for"),
            std::string::npos);
}

TEST(Resize, Uint8EqualsAtenOnTheCpu) {
  // ATen's uint8 path (AVX2 hosts) is what torchvision calls: tvx computes it bit for bit.
  at::manual_seed(3);
  const at::Tensor img = at::randint(0, 256, {1, 3, 97, 131}, at::kByte);
  for (const auto& size : {std::vector<std::int64_t>{31, 40}, std::vector<std::int64_t>{200, 150}}) {
    const at::Tensor want = at::_upsample_bilinear2d_aa(img, size, false);
    EXPECT_TRUE(at::equal(tvx::transforms::resize(img, size), want));
    const at::Tensor cl = img.contiguous(at::MemoryFormat::ChannelsLast);
    EXPECT_TRUE(at::equal(tvx::transforms::resize(cl, size), want));
  }
}

TEST(Resize, ListEqualsEachImage) {
  at::manual_seed(4);
  std::vector<at::Tensor> images{at::randint(0, 256, {3, 50, 70}, at::kByte), at::randint(0, 256, {3, 33, 20}, at::kByte),
                                 at::randint(0, 256, {1, 64, 64}, at::kByte)};
  const auto out = tvx::transforms::resize(images, {24}, tvx::transforms::Interpolation::bicubic);
  ASSERT_EQ(out.size(), images.size());
  for (std::size_t i = 0; i < images.size(); ++i)
    EXPECT_TRUE(at::equal(out[i], tvx::transforms::resize(images[i], {24}, tvx::transforms::Interpolation::bicubic)));
  EXPECT_TRUE(tvx::transforms::resize(std::vector<at::Tensor>{}, {24}).empty());
}

TEST(Preprocess, EqualsResizeCropToDtypeNormalize) {
  at::manual_seed(5);
  std::vector<at::Tensor> images{at::randint(0, 256, {3, 120, 90}, at::kByte),
                                 at::randint(0, 256, {70, 200, 3}, at::kByte).permute({2, 0, 1})};
  tvx::transforms::PreprocessOptions o;
  o.resize = {64};
  o.crop = {56, 48};
  o.mean = kMean;
  o.std = kStd;
  for (auto format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
    o.memory_format = format;
    const at::Tensor batch = tvx::transforms::preprocess(images, o);
    ASSERT_EQ(batch.sizes(), (at::IntArrayRef{2, 3, 56, 48}));
    EXPECT_TRUE(batch.is_contiguous(format));
    for (std::size_t i = 0; i < images.size(); ++i) {
      const at::Tensor r = tvx::transforms::resize(images[i], {64});
      const auto anchor = [](std::int64_t size, std::int64_t crop) {
        return std::int64_t(std::nearbyint((size - crop) / 2.0));
      };
      const std::int64_t top = anchor(r.size(1), 56), left = anchor(r.size(2), 48);
      const at::Tensor crop = r.slice(1, top, top + 56).slice(2, left, left + 48);
      const at::Tensor want = reference_normalize(crop.to(at::kFloat).mul(1.0 / 255));
      EXPECT_TRUE(at::equal(batch[std::int64_t(i)], want)) << "image " << i;
    }
  }
}

TEST(Color, CppApiFollowsTheDefinitions) {
  at::manual_seed(6);
  const at::Tensor x = at::rand({2, 3, 9, 11});
  EXPECT_TRUE(at::equal(tvx::transforms::adjust_brightness(x, 1.3), x.mul(1.3).clamp(0, 1)));
  EXPECT_TRUE(at::equal(tvx::transforms::invert(x), 1.0 - x));
  const at::Tensor u8 = x.mul(255).to(at::kByte);
  EXPECT_TRUE(at::equal(tvx::transforms::posterize(u8, 3), u8.bitwise_and(0xE0)));
  EXPECT_TRUE(at::equal(tvx::transforms::to_dtype(u8, at::kFloat, true), u8.to(at::kFloat).mul(1.0 / 255)));
  const at::Tensor gray = tvx::transforms::rgb_to_grayscale(x, 3);
  EXPECT_EQ(gray.sizes(), x.sizes());
  EXPECT_TRUE(at::allclose(gray.select(-3, 0), x.select(-3, 0) * 0.2989 + x.select(-3, 1) * 0.587 + x.select(-3, 2) * 0.114));
  // A constant image blurs to itself (reflected borders, a normalised kernel).
  const at::Tensor flat = at::full({3, 12, 12}, 0.25);
  EXPECT_TRUE(at::allclose(tvx::transforms::gaussian_blur(flat, {5, 3}), flat));
  EXPECT_NE(tvx::test::error_of([&] { tvx::transforms::adjust_hue(x, 0.9); }).find("is not in [-0.5, 0.5]"),
            std::string::npos);
}

TEST(Geometry, CppApiMovesImageMaskAndBoxesTogether) {
  namespace T = tvx::transforms;
  // A 1 in the region x in [30, 50), y in [10, 20) of a 60 x 80 image, its mask and its box.
  at::Tensor image = at::zeros({1, 60, 80});
  image.slice(1, 10, 20).slice(2, 30, 50).fill_(1);
  const at::Tensor mask = image[0].to(at::kByte);
  const at::Tensor box = at::tensor({30.0f, 10.0f, 50.0f, 20.0f}).view({1, 4});
  const T::CanvasSize canvas{60, 80};
  const auto bounds = [](const at::Tensor& plane) {  // x1, y1, x2, y2 of the nonzero pixels
    const at::Tensor nz = at::nonzero(plane);
    return std::vector<double>{nz.select(1, 1).min().item<double>(), nz.select(1, 0).min().item<double>(),
                               nz.select(1, 1).max().item<double>() + 1, nz.select(1, 0).max().item<double>() + 1};
  };
  const auto as_vector = [](const at::Tensor& b) {
    const at::Tensor c = b.to(at::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + 4);
  };
  for (std::int64_t k = 0; k < 4; ++k) {
    const auto moved = T::rotate90_bounding_boxes(box, T::BoxFormat::XYXY, canvas, k);
    EXPECT_EQ(bounds(T::rotate90(image, k)[0]), as_vector(moved.boxes)) << k;
    EXPECT_TRUE(at::equal(T::rotate90(mask, k), T::rotate90(image, k)[0].to(at::kByte)));
  }
  EXPECT_EQ(bounds(T::horizontal_flip(image)[0]),
            as_vector(T::horizontal_flip_bounding_boxes(box, T::BoxFormat::XYXY, canvas)));
  const auto cropped = T::crop_bounding_boxes(box, T::BoxFormat::XYXY, 5, 25, 20, 40);
  EXPECT_EQ(bounds(T::crop(image, 5, 25, 20, 40)[0]), as_vector(cropped.boxes));
  EXPECT_EQ(cropped.canvas_size, (T::CanvasSize{20, 40}));
  const auto padded = T::pad_bounding_boxes(box, T::BoxFormat::XYXY, canvas, {3, 4, 5, 6});
  EXPECT_EQ(bounds(T::pad(image, {3, 4, 5, 6})[0]), as_vector(padded.boxes));
  EXPECT_TRUE(at::equal(T::pad_mask(mask, {3, 4, 5, 6}), T::pad(image, {3, 4, 5, 6})[0].to(at::kByte)));
  // A region beyond the image is zeros of the region's size.
  EXPECT_TRUE(at::equal(T::crop(image, -100, -100, 4, 8), at::zeros({1, 4, 8})));
  // Format round trip.
  const at::Tensor xywh = T::convert_bounding_box_format(box, T::BoxFormat::XYXY, T::BoxFormat::XYWH);
  EXPECT_EQ(as_vector(xywh), (std::vector<double>{30, 10, 20, 10}));
  EXPECT_TRUE(at::equal(T::convert_bounding_box_format(
                            T::convert_bounding_box_format(xywh, T::BoxFormat::XYWH, T::BoxFormat::CXCYWH),
                            T::BoxFormat::CXCYWH, T::BoxFormat::XYXY),
                        box));
  EXPECT_THROW(T::rotate(image, 10, T::Interpolation::bicubic), c10::Error);
}
