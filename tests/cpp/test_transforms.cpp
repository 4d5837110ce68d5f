#include <tvx/transforms.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace {

TEST(ToTensor, HwcAndChwGiveTheSameChannelsFirstResult) {
  const at::Tensor hwc = at::randint(0, 256, {5, 7, 3}, at::kByte);
  const at::Tensor want = hwc.permute({2, 0, 1}).to(at::kFloat) / 255;
  const at::Tensor a = tvx::transforms::to_tensor(hwc);
  const at::Tensor b = tvx::transforms::to_tensor(hwc.permute({2, 0, 1}).contiguous(), tvx::transforms::Layout::CHW);
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_TRUE(at::equal(a, want));
  EXPECT_TRUE(at::equal(b, want));
  EXPECT_FLOAT_EQ(tvx::transforms::to_tensor(at::full({1, 1, 1}, 255, at::kByte)).item<float>(), 1.0f);
}

TEST(ToTensor, GrayAndBatch) {
  const at::Tensor gray = at::randint(0, 256, {4, 6}, at::kByte);
  EXPECT_EQ(tvx::transforms::to_tensor(gray).sizes(), (at::IntArrayRef{1, 4, 6}));
  const at::Tensor batch = at::randint(0, 256, {2, 4, 6, 3}, at::kByte);
  const at::Tensor out = tvx::transforms::to_tensor(batch);
  EXPECT_EQ(out.sizes(), (at::IntArrayRef{2, 3, 4, 6}));
  EXPECT_TRUE(at::equal(out[1], tvx::transforms::to_tensor(batch[1])));
}

TEST(ToTensor, RejectsNonUint8) {
  EXPECT_THROW(tvx::transforms::to_tensor(at::rand({4, 4, 3})), c10::Error);
  EXPECT_THROW(tvx::transforms::to_tensor(at::zeros({4}, at::kByte)), c10::Error);
}

TEST(Normalize, PerChannelValues) {
  const at::Tensor x = at::rand({2, 3, 4, 5});
  const std::vector<double> mean{0.485, 0.456, 0.406}, std{0.229, 0.224, 0.225};
  const at::Tensor out = tvx::transforms::normalize(x, mean, std);
  for (int c = 0; c < 3; ++c)
    EXPECT_TRUE(at::allclose(out.select(1, c), (x.select(1, c) - mean[c]) / std[c], 1e-6, 1e-6));
  EXPECT_FALSE(at::equal(out, x));  // not in place by default
  at::Tensor y = x.clone();
  tvx::transforms::normalize(y, mean, std, /*inplace=*/true);
  EXPECT_TRUE(at::equal(y, out));
}

TEST(Normalize, Errors) {
  const std::vector<double> mean{0.5, 0.5, 0.5};
  EXPECT_THROW(tvx::transforms::normalize(at::rand({3, 4, 4}), mean, std::vector<double>{1, 0, 1}), c10::Error);
  EXPECT_THROW(tvx::transforms::normalize(at::zeros({3, 4, 4}, at::kByte), mean, mean), c10::Error);
  EXPECT_THROW(tvx::transforms::normalize(at::rand({4, 4}), mean, mean), c10::Error);
  EXPECT_THROW(tvx::transforms::normalize(at::rand({2, 4, 4}), mean, mean), c10::Error);
}

}  // namespace
