#include "contract.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>
#include <torch/csrc/api/include/torch/utils.h>
#include <torch/cuda.h>

namespace tvx::test {
namespace {

const char* check_label(Check c) {
  switch (c) {
    case Check::parity: return "parity";
    case Check::empty: return "empty";
    case Check::non_contiguous: return "non_contiguous";
    case Check::channels_last: return "channels_last";
    case Check::autocast: return "autocast";
    case Check::gradients: return "gradients";
    case Check::bad_inputs: return "bad_inputs";
  }
  return "?";
}

Inputs to(const Inputs& in, c10::DeviceType device) {
  Inputs out;
  for (const auto& t : in) out.push_back(t.to(device));
  return out;
}

// The same values in a strided layout: every other element of a buffer twice as wide.
at::Tensor strided(const at::Tensor& t) {
  if (t.dim() == 0 || t.numel() == 0) return t;
  auto sizes = t.sizes().vec();
  sizes.back() *= 2;
  at::Tensor wide = at::zeros(sizes, t.options());
  at::Tensor view = wide.slice(-1, 0, sizes.back(), 2);
  view.copy_(t);
  return view;
}

void expect_same(const at::Tensor& got, const at::Tensor& want, double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  ASSERT_EQ(got.scalar_type(), want.scalar_type()) << what;
  const at::Tensor g = got.cpu(), w = want.cpu();
  if (rtol == 0 && atol == 0 || !at::isFloatingType(g.scalar_type())) {
    EXPECT_TRUE(at::equal(g, w)) << what << ": got " << g << "\nwant " << w;
  } else {
    EXPECT_TRUE(at::allclose(g, w, rtol, atol, /*equal_nan=*/true)) << what << ": max |diff| "
                                                                      << (g - w).abs().max().item<double>();
  }
}

// Checks d(sum(out * r))/d(input) from autograd against central differences, in float64.
void gradcheck(const OpContract& op, c10::DeviceType device) {
  Inputs in = to(op.make(5, 11), device);
  for (auto& t : in)
    if (at::isFloatingType(t.scalar_type())) t = t.to(at::kDouble);
  for (std::size_t k : op.grad_inputs) in[k].requires_grad_(true);
  const at::Tensor out = op.call(in);
  const at::Tensor r = at::randn(out.sizes(), out.options().dtype(at::kDouble).requires_grad(false));
  const auto analytic = torch::autograd::grad({(out * r).sum()}, [&] {
    std::vector<at::Tensor> v;
    for (std::size_t k : op.grad_inputs) v.push_back(in[k]);
    return v;
  }());
  torch::NoGradGuard no_grad;
  constexpr double eps = 1e-6;
  for (std::size_t a = 0; a < op.grad_inputs.size(); ++a) {
    at::Tensor x = in[op.grad_inputs[a]].detach().clone();
    at::Tensor flat = x.view(-1), numeric = at::zeros_like(flat);
    for (std::int64_t i = 0; i < flat.numel(); ++i) {
      const double v = flat[i].item<double>();
      Inputs moved = in;
      for (auto& t : moved) t = t.detach();
      flat[i] = v + eps;
      moved[op.grad_inputs[a]] = x.clone();
      const double up = (op.call(moved) * r).sum().item<double>();
      flat[i] = v - eps;
      moved[op.grad_inputs[a]] = x.clone();
      const double down = (op.call(moved) * r).sum().item<double>();
      flat[i] = v;
      numeric[i] = (up - down) / (2 * eps);
    }
    EXPECT_TRUE(at::allclose(analytic[a].reshape(-1).cpu(), numeric.cpu(), 1e-4, 1e-6))
        << "input " << op.grad_inputs[a] << ": analytic " << analytic[a].reshape(-1) << "\nnumeric " << numeric;
  }
}

}  // namespace

std::vector<CheckCase> checks(const OpContract& op) {
  std::vector<CheckCase> out;
  for (auto device : {c10::DeviceType::CPU, c10::DeviceType::CUDA})
    for (auto c : {Check::parity, Check::empty, Check::non_contiguous, Check::channels_last, Check::autocast,
                   Check::gradients, Check::bad_inputs})
      out.push_back({op, device, c});
  return out;
}

std::string check_name(const ::testing::TestParamInfo<CheckCase>& info) {
  return std::string(check_label(info.param.check)) + (info.param.device == c10::DeviceType::CUDA ? "_cuda" : "_cpu");
}

TEST_P(Contract, Holds) {
  const auto& [op, device, check] = GetParam();
  if (device == c10::DeviceType::CUDA && !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  switch (check) {
    case Check::parity:
      for (std::int64_t n : op.sizes)
        for (std::uint64_t seed : {1u, 2u}) {
          const Inputs in = op.make(n, seed);
          expect_same(op.call(to(in, device)), op.reference(in), op.rtol, op.atol, c10::str(op.name, " n=", n));
        }
      break;
    case Check::empty: {
      const Inputs in = op.make(0, 1);
      expect_same(op.call(to(in, device)), op.reference(in), op.rtol, op.atol, op.name + " on empty input");
      break;
    }
    case Check::non_contiguous: {
      const Inputs in = to(op.make(40, 3), device);
      Inputs strided_in;
      for (const auto& t : in) strided_in.push_back(strided(t));
      ASSERT_FALSE(strided_in.front().is_contiguous());
      expect_same(op.call(strided_in), op.call(in), 0, 0, op.name + " on strided inputs");
      break;
    }
    case Check::channels_last: {
      // 4-D inputs in channels_last memory give the same values; an op with no 4-D input
      // gets its inputs unchanged and must still give the same values.
      const Inputs in = to(op.make(40, 4), device);
      Inputs cl;
      for (const auto& t : in) cl.push_back(t.dim() == 4 ? t.contiguous(at::MemoryFormat::ChannelsLast) : t);
      expect_same(op.call(cl), op.call(in), 0, 0, op.name + " on channels_last inputs");
      break;
    }
    case Check::autocast: {
      const at::ScalarType low = device == c10::DeviceType::CUDA ? at::kHalf : at::kBFloat16;
      Inputs in = to(op.make(60, 5), device);
      for (auto& t : in)
        if (at::isFloatingType(t.scalar_type())) t = t.to(low);
      at::Tensor plain, under;
      if (op.autocast_fp32) {
        Inputs up = in;
        for (auto& t : up)
          if (at::isFloatingType(t.scalar_type())) t = t.to(at::kFloat);
        plain = op.call(up);
      } else {
        plain = op.call(in);
      }
      {
        const bool was = at::autocast::is_autocast_enabled(device);
        const at::ScalarType was_dtype = at::autocast::get_autocast_dtype(device);
        at::autocast::set_autocast_enabled(device, true);
        at::autocast::set_autocast_dtype(device, low);
        under = op.call(in);
        at::autocast::set_autocast_enabled(device, was);
        at::autocast::set_autocast_dtype(device, was_dtype);
        at::autocast::clear_cache();
      }
      expect_same(under, plain, 0, 0, op.name + (op.autocast_fp32 ? " under autocast (computed in float32)"
                                                                   : " under autocast (which leaves it alone)"));
      break;
    }
    case Check::gradients:
      if (!op.grad_inputs.empty()) {
        gradcheck(op, device);
      } else {
        Inputs in = to(op.make(20, 6), device);
        for (auto& t : in)
          if (at::isFloatingType(t.scalar_type())) t = t.to(at::kDouble).requires_grad_(true);
        EXPECT_FALSE(op.call(in).requires_grad()) << op.name << " has no gradient, so its output must need none";
      }
      break;
    case Check::bad_inputs:
      ASSERT_FALSE(op.bad.empty()) << op.name << " lists no bad inputs";
      for (const auto& bad : op.bad) {
        if (bad.cpu_only && device == c10::DeviceType::CUDA) continue;
        try {
          op.call(to(bad.make(), device));
          ADD_FAILURE() << op.name << " accepted " << bad.what;
        } catch (const c10::Error& e) {
          EXPECT_NE(std::string(e.what()).find(bad.message), std::string::npos)
              << op.name << " on " << bad.what << ": " << e.what_without_backtrace();
        }
      }
      break;
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "";
}

}  // namespace tvx::test
