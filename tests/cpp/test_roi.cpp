// C++ API of the roi family: known answers, C++ autograd (a LibTorch program trains through
// roi_align with no Python), double backward, errors. Parity with torchvision is in
// tests/python/test_roi.py.
#include <tvx/ops.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

std::vector<c10::Device> devices() {
  std::vector<c10::Device> out{c10::kCPU};
  if (torch::cuda::is_available()) out.emplace_back(c10::kCUDA);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "";
}

// On f(y, x) = x bilinear interpolation is exact, so an aligned RoI inside the image gives
// each bin the mean x of its samples: the x of the bin's centre.
TEST(RoiAlign, KnownAnswerOnARamp) {
  for (const auto& device : devices()) {
    const at::Tensor ramp = at::arange(16, at::kDouble).repeat({1, 2, 12, 1}).to(device);  // [1, 2, 12, 16]
    const at::Tensor rois = at::tensor({0., 2., 1., 10., 9.}, at::kDouble).view({1, 5}).to(device);
    const at::Tensor out = tvx::ops::roi_align(ramp, rois, 1.0, 2, 4, 2, /*aligned=*/true).cpu();
    for (int pw = 0; pw < 4; ++pw) {
      const double centre = 2.0 + (pw + 0.5) * 2.0 - 0.5;
      for (int c = 0; c < 2; ++c)
        for (int ph = 0; ph < 2; ++ph) EXPECT_NEAR(out[0][c][ph][pw].item<double>(), centre, 1e-12) << device;
    }
  }
}

TEST(RoiPool, KnownAnswer) {
  for (const auto& device : devices()) {
    const at::Tensor input = at::arange(24, at::kFloat).view({1, 1, 4, 6}).to(device);
    const at::Tensor rois = at::tensor({0.f, 0.f, 0.f, 5.f, 3.f}).view({1, 5}).to(device);
    const auto [out, argmax] = tvx::ops::roi_pool(input, rois, 1.0, 2, 2);
    // Bins of 2 x 3 pixels; the maximum is each bin's bottom-right pixel.
    EXPECT_TRUE(at::equal(out.cpu(), at::tensor({8.f, 11.f, 20.f, 23.f}).view({1, 1, 2, 2}))) << device;
    EXPECT_TRUE(at::equal(argmax.cpu(), at::tensor({8, 11, 20, 23}, at::kInt).view({1, 1, 2, 2}))) << device;
  }
}

// A LibTorch training loop through roi_align: a conv, roi_align and a linear head learn a
// fixed target; the loss must fall.
TEST(RoiAlign, TrainsInCpp) {
  for (const auto& device : devices()) {
    torch::manual_seed(0);
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 8, 3).padding(1));
    torch::nn::Linear head(8 * 4 * 4, 5);
    conv->to(device);
    head->to(device);
    const at::Tensor images = torch::randn({2, 3, 32, 32}, device);
    const at::Tensor rois =
        torch::tensor({0.f, 2.f, 2.f, 20.f, 24.f, 1.f, 8.f, 4.f, 30.f, 30.f, 0.f, 10.f, 12.f, 28.f, 20.f}, device)
            .view({3, 5});
    const at::Tensor target = torch::randn({3, 5}, device);
    std::vector<at::Tensor> params = conv->parameters();
    for (const auto& p : head->parameters()) params.push_back(p);
    torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.05));
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      sgd.zero_grad();
      const at::Tensor pooled = tvx::ops::roi_align(conv->forward(images), rois, 1.0, 4, 4, 2, true);
      const at::Tensor loss = torch::mse_loss(head->forward(pooled.flatten(1)), target);
      loss.backward();
      sgd.step();
      (step == 0 ? first : last) = loss.item<double>();
    }
    EXPECT_LT(last, 0.5 * first) << device << ": loss " << first << " -> " << last;
    EXPECT_TRUE(conv->weight.grad().defined());
  }
}

TEST(RoiOps, GradientsReachTheInputInCpp) {
  for (const auto& device : devices()) {
    const at::Tensor x = torch::randn({1, 12, 10, 10}, torch::dtype(torch::kDouble).device(device)).requires_grad_();
    const at::Tensor rois = torch::tensor({0., 1., 1., 8., 8.}, torch::dtype(torch::kDouble).device(device)).view({1, 5});
    auto sum = [&](const at::Tensor& t) { return t.sum(); };
    at::Tensor loss = sum(std::get<0>(tvx::ops::roi_pool(x, rois, 1.0, 2, 2))) +
                      sum(std::get<0>(tvx::ops::ps_roi_align(x, rois, 1.0, 2, 2, 2))) +
                      sum(std::get<0>(tvx::ops::ps_roi_pool(x, rois, 1.0, 2, 2)));
    loss.backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_GT(x.grad().abs().sum().item<double>(), 0) << device;
  }
}

TEST(RoiAlign, DoubleBackwardIsAClearError) {
  const at::Tensor x = torch::randn({1, 2, 8, 8}, torch::kDouble).requires_grad_();
  const at::Tensor w = torch::randn({2, 2, 2}, torch::kDouble).requires_grad_();
  const at::Tensor rois = torch::tensor({0., 1., 1., 6., 6.}, torch::kDouble).view({1, 5});
  const at::Tensor loss = (tvx::ops::roi_align(x, rois, 1.0, 2, 2, 2, true) * w).sum();
  const std::string message =
      error_of([&] { torch::autograd::grad({loss}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true); });
  EXPECT_NE(message.find("tvx._roi_align_backward: double backward is not supported"), std::string::npos) << message;
}

TEST(RoiOps, BadInputsNameTheOp) {
  const at::Tensor x = at::rand({1, 4, 8, 8});
  const at::Tensor rois = at::tensor({0.f, 1.f, 1.f, 6.f, 6.f}).view({1, 5});
  auto has = [](const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; };
  EXPECT_TRUE(has(error_of([&] { tvx::ops::roi_align(x[0], rois, 1.0, 2, 2); }),
                  "tvx.roi_align: input must have shape [N, C, H, W], got [4, 8, 8]"));
  EXPECT_TRUE(has(error_of([&] { tvx::ops::roi_pool(x, rois.narrow(1, 0, 4), 1.0, 2, 2); }),
                  "tvx.roi_pool: rois must have shape [K, 5], got [1, 4]"));
  EXPECT_TRUE(has(error_of([&] { tvx::ops::ps_roi_align(x.to(at::kInt), rois, 1.0, 1, 1); }),
                  "tvx.ps_roi_align: input must be float32"));
  EXPECT_TRUE(has(error_of([&] { tvx::ops::ps_roi_pool(x, rois, 1.0, 0, 2); }),
                  "tvx.ps_roi_pool: pooled_height and pooled_width must be positive, got 0 and 2"));
  EXPECT_TRUE(has(error_of([&] { tvx::ops::ps_roi_pool(x, rois, 1.0, 3, 3); }),
                  "tvx.ps_roi_pool: input channels must be a multiple of pooled_height * pooled_width = 9, got 4"));
  EXPECT_TRUE(has(error_of([&] { tvx::ops::roi_align(x, rois + at::tensor({3.f, 0.f, 0.f, 0.f, 0.f}), 1.0, 2, 2); }),
                  "tvx.roi_align: rois[:, 0] must be batch indices in [0, 1), got values in [3, 3]"));
  EXPECT_TRUE(has(error_of([&] { tvx::ops::roi_align(x, rois.to(at::kDouble), 1.0, 2, 2); }),
                  "tvx.roi_align: rois must be float32 like input, got float64"));
}

}  // namespace
