// C++ API of deform_conv2d: the shared contract against a plain definition in float64, C++
// autograd (a LibTorch program trains through it with no Python), double backward, errors.
// Parity with torchvision is in tests/python/test_deform_conv.py.
#include <tvx/ops.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "contract.h"

namespace {

// Shapes of the contract: input [n, 4, 7, 6], weight [6, 2, 3, 2] (groups 2), offset groups
// 2, stride (1, 2), padding (1, 0), dilation (2, 1): out 5 x 3.
constexpr std::int64_t kC = 4, kH = 7, kW = 6, kCout = 6, kKh = 3, kKw = 2, kGroups = 2, kOffsetGroups = 2;
constexpr std::int64_t kStride[2] = {1, 2}, kPad[2] = {1, 0}, kDil[2] = {2, 1};
constexpr std::int64_t kOutH = (kH + 2 * kPad[0] - (kDil[0] * (kKh - 1) + 1)) / kStride[0] + 1;
constexpr std::int64_t kOutW = (kW + 2 * kPad[1] - (kDil[1] * (kKw - 1) + 1)) / kStride[1] + 1;

// {input, weight, offset, mask, bias}; offsets of up to ~2 pixels (some taps leave the image).
tvx::test::Inputs dc_inputs(std::int64_t n, std::uint64_t seed) {
  at::manual_seed(seed);
  n = std::min<std::int64_t>(n, 2);
  return {at::randn({n, kC, kH, kW}), at::randn({kCout, kC / kGroups, kKh, kKw}),
          at::randn({n, kOffsetGroups * kKh * kKw * 2, kOutH, kOutW}) * 0.8,
          at::rand({n, kOffsetGroups * kKh * kKw, kOutH, kOutW}), at::randn({kCout})};
}

at::Tensor dc_call(const tvx::test::Inputs& in) {
  return tvx::ops::deform_conv2d(in[0], in[1], in[2], in[3], in[4], kStride[0], kStride[1], kPad[0], kPad[1], kDil[0],
                                 kDil[1], kGroups, kOffsetGroups, /*use_mask=*/true);
}

// Bilinear interpolation from its definition: the four pixels around (y, x), those outside
// the image counting 0, and 0 altogether unless -1 < y < H and -1 < x < W.
double sample(const at::TensorAccessor<double, 4>& in, std::int64_t b, std::int64_t c, double y, double x) {
  const std::int64_t h = in.size(2), w = in.size(3);
  if (!(y > -1 && y < h && x > -1 && x < w)) return 0.0;
  const double y0 = std::floor(y), x0 = std::floor(x);
  double sum = 0;
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const std::int64_t py = std::int64_t(y0) + dy, px = std::int64_t(x0) + dx;
      if (py < 0 || py >= h || px < 0 || px >= w) continue;
      sum += (1 - std::abs(y - py)) * (1 - std::abs(x - px)) * in[b][c][py][px];
    }
  return sum;
}

// The deformable convolution written out: every output value a sum over its group's input
// channels and kernel taps of weight * mask * the moved sample.
at::Tensor dc_reference(const tvx::test::Inputs& in_) {
  std::vector<at::Tensor> d;
  for (const auto& t : in_) d.push_back(t.to(at::kDouble).contiguous());
  const auto in = d[0].accessor<double, 4>(), w = d[1].accessor<double, 4>(), off = d[2].accessor<double, 4>(),
             mask = d[3].accessor<double, 4>();
  const auto bias = d[4].accessor<double, 1>();
  const std::int64_t n = d[0].size(0), cpg_w = kC / kGroups, cout_g = kCout / kGroups, cpg_o = kC / kOffsetGroups;
  at::Tensor out = at::zeros({n, kCout, kOutH, kOutW}, at::kDouble);
  auto o = out.accessor<double, 4>();
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t co = 0; co < kCout; ++co)
      for (std::int64_t oy = 0; oy < kOutH; ++oy)
        for (std::int64_t ox = 0; ox < kOutW; ++ox) {
          double sum = bias[co];
          for (std::int64_t ci = 0; ci < cpg_w; ++ci) {
            const std::int64_t c = (co / cout_g) * cpg_w + ci, og = c / cpg_o;
            for (std::int64_t i = 0; i < kKh; ++i)
              for (std::int64_t j = 0; j < kKw; ++j) {
                const std::int64_t k = i * kKw + j;
                const double y = oy * kStride[0] - kPad[0] + i * kDil[0] + off[b][(og * kKh * kKw + k) * 2][oy][ox];
                const double x = ox * kStride[1] - kPad[1] + j * kDil[1] + off[b][(og * kKh * kKw + k) * 2 + 1][oy][ox];
                sum += w[co][ci][i][j] * mask[b][og * kKh * kKw + k][oy][ox] * sample(in, b, c, y, x);
              }
          }
          o[b][co][oy][ox] = sum;
        }
  return out.to(in_[0].scalar_type());
}

tvx::test::OpContract deform_conv_contract() {
  tvx::test::OpContract c;
  c.name = "deform_conv2d";
  c.make = dc_inputs;
  c.call = dc_call;
  c.reference = dc_reference;
  c.rtol = 1e-5;
  c.atol = 1e-5;
  c.sizes = {1, 2};
  c.grad_inputs = {0, 1, 2, 3, 4};
  auto with = [](std::size_t i, at::Tensor t) {
    return [i, t] {
      tvx::test::Inputs in = dc_inputs(2, 0);
      in[i] = t;
      return in;
    };
  };
  c.bad = {
      {"input rank 3", with(0, at::randn({kC, kH, kW})), "tvx.deform_conv2d: input must have shape [N, C, H, W]"},
      {"int input", with(0, at::zeros({2, kC, kH, kW}, at::kInt)), "tvx.deform_conv2d: input must be float32"},
      {"offset channels", with(2, at::zeros({2, 5, kOutH, kOutW})),
       "tvx.deform_conv2d: offset must have shape [2, 24, 5, 3]"},
      {"mask size", with(3, at::zeros({2, 12, kOutH, kOutW + 1})), "tvx.deform_conv2d: mask must have shape [2, 12, 5, 3]"},
      {"bias", with(4, at::zeros({3})), "tvx.deform_conv2d: bias must have shape [6]"},
      {"float64 weight", with(1, at::zeros({kCout, kC / kGroups, kKh, kKw}, at::kDouble)),
       "tvx.deform_conv2d: input and weight must have the same dtype, got float32 and float64"},
  };
  return c;
}

using tvx::test::Contract;
INSTANTIATE_TEST_SUITE_P(DeformConv2d, Contract, ::testing::ValuesIn(tvx::test::checks(deform_conv_contract())),
                         tvx::test::check_name);

// --- the op's own cases -----------------------------------------------------------------------

std::vector<c10::Device> devices() {
  std::vector<c10::Device> out{c10::kCPU};
  if (torch::cuda::is_available()) out.emplace_back(c10::kCUDA);
  return out;
}

// With zero offsets and unit masks, deform_conv2d is a convolution.
TEST(DeformConv2d, IsAConvolutionWithoutOffsets) {
  for (const auto& device : devices()) {
    const auto opt = torch::dtype(torch::kDouble).device(device);
    const at::Tensor x = torch::randn({2, 6, 9, 8}, opt), w = torch::randn({4, 3, 3, 3}, opt), b = torch::randn({4}, opt);
    tvx::ops::DeformConv2dOptions o;
    o.bias = b;
    o.stride = {2, 1};
    o.padding = {1, 2};
    o.dilation = {1, 2};
    const at::Tensor conv = at::conv2d(x, w, b, {2, 1}, {1, 2}, {1, 2}, 2);
    const at::Tensor offset = torch::zeros({2, 2 * 9, conv.size(2), conv.size(3)}, opt);
    EXPECT_TRUE(at::allclose(tvx::ops::deform_conv2d(x, offset, w, o), conv, 1e-10, 1e-10)) << device;
    o.mask = torch::ones({2, 9, conv.size(2), conv.size(3)}, opt);
    EXPECT_TRUE(at::allclose(tvx::ops::deform_conv2d(x, offset, w, o), conv, 1e-10, 1e-10)) << device;
  }
}

// A LibTorch training loop through deform_conv2d: a conv predicts the offsets and masks of a
// deformable layer that must learn a convolution of the images; the loss must halve.
TEST(DeformConv2d, TrainsInCpp) {
  for (const auto& device : devices()) {
    torch::manual_seed(0);
    torch::nn::Conv2d offsets(torch::nn::Conv2dOptions(3, 27, 3).padding(1));
    const at::Tensor weight = (torch::randn({4, 3, 3, 3}) * 0.2).to(device).requires_grad_();
    const at::Tensor bias = torch::zeros({4}, device).requires_grad_();
    {
      torch::NoGradGuard no_grad;  // as deformable layers start: no offsets, masks of 0.5
      offsets->weight.zero_();
      offsets->bias.zero_();
    }
    offsets->to(device);
    const at::Tensor images = torch::randn({2, 3, 16, 16}, device);
    // Reachable: a plain convolution of the images (zero offsets, masks of 1).
    const at::Tensor target = at::conv2d(images, torch::randn({4, 3, 3, 3}, device) * 0.3, {}, 1, 1);
    std::vector<at::Tensor> params = offsets->parameters();
    params.push_back(weight);
    params.push_back(bias);
    torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.3));
    double first = 0, last = 0;
    for (int step = 0; step < 40; ++step) {
      sgd.zero_grad();
      const at::Tensor om = offsets->forward(images);
      tvx::ops::DeformConv2dOptions o;
      o.bias = bias;
      o.padding = {1, 1};
      o.mask = om.narrow(1, 18, 9).sigmoid();
      const at::Tensor out = tvx::ops::deform_conv2d(images, om.narrow(1, 0, 18), weight, o);
      const at::Tensor loss = torch::mse_loss(out, target);
      loss.backward();
      sgd.step();
      (step == 0 ? first : last) = loss.item<double>();
    }
    EXPECT_LT(last, 0.5 * first) << device << ": loss " << first << " -> " << last;
    EXPECT_GT(offsets->weight.grad().abs().sum().item<double>(), 0) << device;
  }
}

TEST(DeformConv2d, DoubleBackwardIsAClearError) {
  tvx::test::Inputs in = dc_inputs(1, 3);
  for (auto& t : in) t = t.to(at::kDouble).requires_grad_();
  const at::Tensor loss = dc_call(in).square().sum();
  std::string message;
  try {
    torch::autograd::grad({loss}, {in[0]}, {}, /*retain_graph=*/true, /*create_graph=*/true);
  } catch (const c10::Error& e) {
    message = e.what_without_backtrace();
  }
  EXPECT_NE(message.find("tvx._deform_conv2d_backward: double backward is not supported"), std::string::npos)
      << message;
}

}  // namespace
