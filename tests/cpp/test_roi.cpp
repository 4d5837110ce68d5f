// C++ API of the roi family: known answers, C++ autograd (a LibTorch program trains through
// roi_align with no Python), double backward, errors. Parity with torchvision is in
// tests/python/test_roi.py.
#include <tvx/ops.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "contract.h"

namespace {

// --- the shared contract, against plain definitions ----------------------------------------

// input [2, 3, 12, 16]; n RoIs at spatial_scale 0.5 (image coordinates up to 32 x 24, some
// outside, some with x2 < x1).
tvx::test::Inputs roi_inputs(std::int64_t n, std::uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor input = at::randn({2, 3, 12, 16});
  const at::Tensor xy = at::rand({n, 2}) * 40 - 6, wh = at::rand({n, 2}) * 20 - 2;
  const at::Tensor rois = at::cat({at::randint(0, 2, {n, 1}).to(at::kFloat), xy, xy + wh}, 1);
  return {input, rois};
}

// Bilinear interpolation of plane (n, ch) at (y, x); 0 outside [-1, H] x [-1, W].
double bilinear(const at::TensorAccessor<double, 4>& in, std::int64_t n, std::int64_t ch, double y, double x) {
  const std::int64_t h = in.size(2), w = in.size(3);
  if (y < -1 || y > h || x < -1 || x > w) return 0.0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  std::int64_t y0 = std::int64_t(y), x0 = std::int64_t(x), y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= h - 1) y = double(y0 = y1 = h - 1);
  if (x0 >= w - 1) x = double(x0 = x1 = w - 1);
  const double ly = y - y0, lx = x - x0;
  return (1 - ly) * (1 - lx) * in[n][ch][y0][x0] + (1 - ly) * lx * in[n][ch][y0][x1] + ly * (1 - lx) * in[n][ch][y1][x0] +
         ly * lx * in[n][ch][y1][x1];
}

// A reference's float64 copies of its arguments and its output [K, C, PH, PW].
struct Plain {
  at::Tensor input, rois, out;
  std::int64_t k, c, h, w;
  Plain(const at::Tensor& input_, const at::Tensor& rois_, std::int64_t ph, std::int64_t pw)
      : input(input_.to(at::kDouble).contiguous()), rois(rois_.to(at::kDouble).contiguous()),
        k(rois.size(0)), c(input.size(1)), h(input.size(2)), w(input.size(3)) {
    out = at::zeros({k, c, ph, pw}, at::kDouble);
  }
  auto in() const { return input.accessor<double, 4>(); }
  auto r() const { return rois.accessor<double, 2>(); }
  auto o() { return out.accessor<double, 4>(); }
};

// RoIAlign from its definition, in float64: each bin the mean of its sampling grid of
// bilinear samples, a sample outside [-1, size] counting as 0.
at::Tensor reference_roi_align(const at::Tensor& input_, const at::Tensor& rois_, double scale, std::int64_t ph,
                               std::int64_t pw, std::int64_t sampling_ratio, bool aligned) {
  Plain p(input_, rois_, ph, pw);
  const std::int64_t k = p.k, c = p.c, h = p.h, w = p.w;
  const auto in = p.in();
  const auto r = p.r();
  auto o = p.o();
  auto sample = [&](std::int64_t n, std::int64_t ch, double y, double x) { return bilinear(in, n, ch, y, x); };
  for (std::int64_t i = 0; i < k; ++i) {
    const double off = aligned ? 0.5 : 0.0;
    const double x_start = r[i][1] * scale - off, y_start = r[i][2] * scale - off;
    double rw = r[i][3] * scale - off - x_start, rh = r[i][4] * scale - off - y_start;
    if (!aligned) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
    const double bw = rw / pw, bh = rh / ph;
    const std::int64_t gy = sampling_ratio > 0 ? sampling_ratio : std::int64_t(std::ceil(rh / ph));
    const std::int64_t gx = sampling_ratio > 0 ? sampling_ratio : std::int64_t(std::ceil(rw / pw));
    const double count = std::max<double>(double(gy * gx), 1.0);
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t py = 0; py < ph; ++py)
        for (std::int64_t px = 0; px < pw; ++px) {
          double sum = 0;
          for (std::int64_t iy = 0; iy < gy; ++iy)
            for (std::int64_t ix = 0; ix < gx; ++ix)
              sum += sample(std::int64_t(r[i][0]), ch, y_start + py * bh + (iy + 0.5) * bh / gy,
                            x_start + px * bw + (ix + 0.5) * bw / gx);
          o[i][ch][py][px] = sum / count;
        }
  }
  return p.out.to(input_.scalar_type());
}

// RoIPool from its definition: the maximum of each bin of whole pixels (0 for an empty bin).
at::Tensor reference_roi_pool(const at::Tensor& input_, const at::Tensor& rois_, double scale, std::int64_t ph,
                              std::int64_t pw) {
  Plain p(input_, rois_, ph, pw);
  const std::int64_t k = p.k, c = p.c, h = p.h, w = p.w;
  const auto in = p.in();
  const auto r = p.r();
  auto o = p.o();
  for (std::int64_t i = 0; i < k; ++i) {
    const std::int64_t x0 = std::llround(r[i][1] * scale), y0 = std::llround(r[i][2] * scale);
    const std::int64_t rw = std::max<std::int64_t>(std::llround(r[i][3] * scale) - x0 + 1, 1);
    const std::int64_t rh = std::max<std::int64_t>(std::llround(r[i][4] * scale) - y0 + 1, 1);
    for (std::int64_t py = 0; py < ph; ++py)
      for (std::int64_t px = 0; px < pw; ++px) {
        auto clip = [](std::int64_t v, std::int64_t hi) { return std::min(std::max(v, std::int64_t(0)), hi); };
        const std::int64_t hs = clip(std::int64_t(std::floor(double(py) * rh / ph)) + y0, h);
        const std::int64_t he = clip(std::int64_t(std::ceil(double(py + 1) * rh / ph)) + y0, h);
        const std::int64_t ws = clip(std::int64_t(std::floor(double(px) * rw / pw)) + x0, w);
        const std::int64_t we = clip(std::int64_t(std::ceil(double(px + 1) * rw / pw)) + x0, w);
        for (std::int64_t ch = 0; ch < c; ++ch) {
          double best = (he <= hs || we <= ws) ? 0.0 : -INFINITY;
          for (std::int64_t y = hs; y < he; ++y)
            for (std::int64_t x = ws; x < we; ++x) best = std::max(best, in[std::int64_t(r[i][0])][ch][y][x]);
          o[i][ch][py][px] = best;
        }
      }
  }
  return p.out.to(input_.scalar_type());
}

// The position-sensitive ops from their definition: output channel c's bin (py, px) reads
// input channel (c * PH + py) * PW + px. ps_roi_align: always aligned, no minimum size, the
// mean of its samples (0/0 for an empty RoI, as torchvision). ps_roi_pool: the mean of the
// bin's pixels, bins clipped to [0, H - 1) x [0, W - 1) as torchvision's forward clips them.
at::Tensor reference_ps(const at::Tensor& input_, const at::Tensor& rois_, double scale, std::int64_t ph,
                        std::int64_t pw, std::int64_t sampling_ratio, bool pool) {
  const at::Tensor input = input_.to(at::kDouble).contiguous(), rois = rois_.to(at::kDouble).contiguous();
  const std::int64_t k = rois.size(0), c_out = input.size(1) / (ph * pw), h = input.size(2), w = input.size(3);
  at::Tensor out = at::zeros({k, c_out, ph, pw}, at::kDouble);
  const auto in = input.accessor<double, 4>();
  const auto r = rois.accessor<double, 2>();
  auto o = out.accessor<double, 4>();
  auto sample = [&](std::int64_t n, std::int64_t ch, double y, double x) { return bilinear(in, n, ch, y, x); };
  auto clip = [](std::int64_t v, std::int64_t hi) { return std::min(std::max(v, std::int64_t(0)), hi); };
  for (std::int64_t i = 0; i < k; ++i) {
    const std::int64_t n = std::int64_t(r[i][0]);
    for (std::int64_t c = 0; c < c_out; ++c)
      for (std::int64_t py = 0; py < ph; ++py)
        for (std::int64_t px = 0; px < pw; ++px) {
          const std::int64_t ch = (c * ph + py) * pw + px;
          double value = 0;
          if (pool) {
            const std::int64_t x0 = std::llround(r[i][1] * scale), y0 = std::llround(r[i][2] * scale);
            const std::int64_t rw = std::max<std::int64_t>(std::llround(r[i][3] * scale) - x0, 1);
            const std::int64_t rh = std::max<std::int64_t>(std::llround(r[i][4] * scale) - y0, 1);
            const std::int64_t hs = clip(std::int64_t(std::floor(double(py) * rh / ph)) + y0, h - 1);
            const std::int64_t he = clip(std::int64_t(std::ceil(double(py + 1) * rh / ph)) + y0, h - 1);
            const std::int64_t ws = clip(std::int64_t(std::floor(double(px) * rw / pw)) + x0, w - 1);
            const std::int64_t we = clip(std::int64_t(std::ceil(double(px + 1) * rw / pw)) + x0, w - 1);
            for (std::int64_t y = hs; y < he; ++y)
              for (std::int64_t x = ws; x < we; ++x) value += in[n][ch][y][x];
            value = (he <= hs || we <= ws) ? 0.0 : value / double((he - hs) * (we - ws));
          } else {
            const double x_start = r[i][1] * scale - 0.5, y_start = r[i][2] * scale - 0.5;
            const double rw = r[i][3] * scale - 0.5 - x_start, rh = r[i][4] * scale - 0.5 - y_start;
            const double bw = rw / pw, bh = rh / ph;
            const std::int64_t gy = sampling_ratio > 0 ? sampling_ratio : std::int64_t(std::ceil(rh / ph));
            const std::int64_t gx = sampling_ratio > 0 ? sampling_ratio : std::int64_t(std::ceil(rw / pw));
            for (std::int64_t iy = 0; iy < gy; ++iy)
              for (std::int64_t ix = 0; ix < gx; ++ix)
                value += sample(n, ch, y_start + py * bh + (iy + 0.5) * bh / gy, x_start + px * bw + (ix + 0.5) * bw / gx);
            value /= double(gy * gx);
          }
          o[i][c][py][px] = value;
        }
  }
  return out.to(input_.scalar_type());
}

// Inputs of `channels` channels, each wrong in one way.
std::vector<tvx::test::BadInput> roi_bad(const std::string& o, std::int64_t channels = 3) {
  using tvx::test::Inputs;
  const std::int64_t ch = channels;
  return {
      {"input [3, 12, 16]", [=] { return Inputs{at::rand({ch, 12, 16}), at::zeros({1, 5})}; },
       o + ": input must have shape [N, C, H, W], got [" + std::to_string(ch) + ", 12, 16]"},
      {"rois [2, 4]", [=] { return Inputs{at::rand({1, ch, 12, 16}), at::zeros({2, 4})}; },
       o + ": rois must have shape [K, 5], got [2, 4]"},
      {"int32 input", [=] { return Inputs{at::zeros({1, ch, 12, 16}, at::kInt), at::zeros({1, 5})}; },
       o + ": input must be float32, float64, float16 or bfloat16, got int32"},
      {"float64 rois", [=] { return Inputs{at::rand({1, ch, 12, 16}), at::zeros({1, 5}, at::kDouble)}; },
       o + ": rois must be float32 like input, got float64"},
      {"batch index 3 of 1", [=] { return Inputs{at::rand({1, ch, 12, 16}), at::full({1, 5}, 3.0)}; },
       o + ": rois[:, 0] must be batch indices in [0, 1)", /*cpu_only=*/true},
  };
}

tvx::test::OpContract roi_align_contract() {
  tvx::test::OpContract c;
  c.name = "roi_align";
  c.make = roi_inputs;
  c.call = [](const tvx::test::Inputs& in) { return tvx::ops::roi_align(in[0], in[1], 0.5, 3, 4, 2, true); };
  c.reference = [](const tvx::test::Inputs& in) { return reference_roi_align(in[0], in[1], 0.5, 3, 4, 2, true); };
  c.rtol = 1e-5;
  c.atol = 1e-5;
  c.sizes = {1, 17, 60};
  c.grad_inputs = {0};
  c.bad = roi_bad("tvx.roi_align");
  return c;
}

tvx::test::OpContract roi_align_adaptive_contract() {
  tvx::test::OpContract c = roi_align_contract();
  c.name = "roi_align_adaptive_legacy";
  c.call = [](const tvx::test::Inputs& in) { return tvx::ops::roi_align(in[0], in[1], 0.5, 2, 3, 0, false); };
  c.reference = [](const tvx::test::Inputs& in) { return reference_roi_align(in[0], in[1], 0.5, 2, 3, 0, false); };
  return c;
}

tvx::test::OpContract roi_pool_contract() {
  tvx::test::OpContract c;
  c.name = "roi_pool";
  c.make = roi_inputs;
  c.call = [](const tvx::test::Inputs& in) { return std::get<0>(tvx::ops::roi_pool(in[0], in[1], 0.5, 3, 4)); };
  c.reference = [](const tvx::test::Inputs& in) { return reference_roi_pool(in[0], in[1], 0.5, 3, 4); };
  c.grad_inputs = {0};
  c.bad = roi_bad("tvx.roi_pool");
  return c;
}

// ps inputs: 2 output channels of 2 x 3 bins.
tvx::test::Inputs ps_inputs(std::int64_t n, std::uint64_t seed) {
  tvx::test::Inputs in = roi_inputs(n, seed);
  in[0] = at::randn({2, 12, 12, 16});
  return in;
}

tvx::test::OpContract ps_roi_align_contract() {
  tvx::test::OpContract c;
  c.name = "ps_roi_align";
  c.make = ps_inputs;
  c.call = [](const tvx::test::Inputs& in) { return std::get<0>(tvx::ops::ps_roi_align(in[0], in[1], 0.5, 2, 3, 2)); };
  c.reference = [](const tvx::test::Inputs& in) { return reference_ps(in[0], in[1], 0.5, 2, 3, 2, false); };
  c.rtol = 1e-5;
  c.atol = 1e-5;
  c.sizes = {1, 17, 60};
  c.grad_inputs = {0};
  c.bad = roi_bad("tvx.ps_roi_align", 12);
  return c;
}

tvx::test::OpContract ps_roi_pool_contract() {
  tvx::test::OpContract c = ps_roi_align_contract();
  c.name = "ps_roi_pool";
  c.call = [](const tvx::test::Inputs& in) { return std::get<0>(tvx::ops::ps_roi_pool(in[0], in[1], 0.5, 2, 3)); };
  c.reference = [](const tvx::test::Inputs& in) { return reference_ps(in[0], in[1], 0.5, 2, 3, 0, true); };
  c.bad = roi_bad("tvx.ps_roi_pool", 12);
  return c;
}

using tvx::test::Contract;
INSTANTIATE_TEST_SUITE_P(PsRoiAlign, Contract, ::testing::ValuesIn(tvx::test::checks(ps_roi_align_contract())),
                         tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(PsRoiPool, Contract, ::testing::ValuesIn(tvx::test::checks(ps_roi_pool_contract())),
                         tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(RoiAlign, Contract, ::testing::ValuesIn(tvx::test::checks(roi_align_contract())),
                         tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(RoiAlignAdaptive, Contract,
                         ::testing::ValuesIn(tvx::test::checks(roi_align_adaptive_contract())), tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(RoiPool, Contract, ::testing::ValuesIn(tvx::test::checks(roi_pool_contract())),
                         tvx::test::check_name);

// --- the ops' own cases -----------------------------------------------------------------------

std::vector<c10::Device> devices() {
  std::vector<c10::Device> out{c10::kCPU};
  if (torch::cuda::is_available()) out.emplace_back(c10::kCUDA);
  return out;
}

using tvx::test::error_of;

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

// The identity whose backward gives no gradient: the op before it receives an undefined one.
struct DropsGradient : torch::autograd::Function<DropsGradient> {
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& a) { return a.clone(); }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*, torch::autograd::variable_list) {
    return {at::Tensor()};
  }
};

// The ops do not materialise gradients (no zero gradient filled for their index output): an
// undefined output gradient gives the input none.
TEST(RoiOps, AnUndefinedOutputGradientGivesNone) {
  for (const auto& device : devices()) {
    const at::Tensor x = torch::randn({1, 12, 10, 10}, torch::dtype(torch::kDouble).device(device)).requires_grad_();
    const at::Tensor rois = torch::tensor({0., 1., 1., 8., 8.}, torch::dtype(torch::kDouble).device(device)).view({1, 5});
    const std::vector<std::function<at::Tensor()>> ops = {
        [&] { return tvx::ops::roi_align(x, rois, 1.0, 2, 2, 2, true); },
        [&] { return std::get<0>(tvx::ops::roi_pool(x, rois, 1.0, 2, 2)); },
        [&] { return std::get<0>(tvx::ops::ps_roi_align(x, rois, 1.0, 2, 2, 2)); },
        [&] { return std::get<0>(tvx::ops::ps_roi_pool(x, rois, 1.0, 2, 2)); }};
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const at::Tensor loss = DropsGradient::apply(ops[i]()).sum();
      const auto grads = torch::autograd::grad({loss}, {x}, {}, std::nullopt, false, /*allow_unused=*/true);
      EXPECT_FALSE(grads[0].defined()) << device << ", op " << i;
      const auto flowing = torch::autograd::grad({ops[i]().sum()}, {x});  // a defined one still flows
      EXPECT_GT(flowing[0].abs().sum().item<double>(), 0) << device << ", op " << i;
    }
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
