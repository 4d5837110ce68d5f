// `tvx verify`: each check prints one line; any failure makes the exit code 1.
#include <tvx/tvx.h>

#include <ATen/ops/cat.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>
#include <ATen/Context.h>
#include <ATen/ops/_upsample_bilinear2d_aa.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/max.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/commands.h"

namespace tvx::cli {
namespace {

// Runs one check: it returns "" on success or why it failed; exceptions count as failures.
// Text mode prints a line per check as it ends; JSON mode collects them.
struct Checker {
  bool json = false;
  nlohmann::json results = nlohmann::json::array();
  int failures = 0;
  void operator()(const std::string& name, const std::function<std::string()>& check) {
    std::string why;
    try {
      why = check();
    } catch (const c10::Error& e) {
      why = e.what_without_backtrace();
    } catch (const std::exception& e) {
      why = e.what();
    }
    why = why.substr(0, why.find('\n'));  // one line per check
    if (!why.empty()) ++failures;
    results.push_back({{"check", name}, {"ok", why.empty()}, {"detail", why}});
    if (!json) std::cout << (why.empty() ? "[ ok ] " : "[FAIL] ") << name << (why.empty() ? "" : ": " + why) << "\n";
  }
};

std::string check_to_tensor_normalize() {
  // 2x2 RGB image, HWC; value v maps to (v / 255 - mean[c]) / std[c].
  const std::vector<std::uint8_t> px{0, 64, 128, 255, 1, 2, 3, 4, 5, 200, 100, 50};
  const at::Tensor hwc = at::tensor(px, at::kByte).view({2, 2, 3});
  const double mean[3] = {0.485, 0.456, 0.406}, std_[3] = {0.229, 0.224, 0.225};
  const at::Tensor t = transforms::to_tensor(hwc);
  if (t.sizes() != at::IntArrayRef{3, 2, 2} || t.scalar_type() != at::kFloat)
    return "to_tensor gave shape " + c10::str(t.sizes()) + " dtype " + c10::toString(t.scalar_type());
  const at::Tensor out = transforms::normalize(t, mean, std_);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x) {
        const double v = px[(y * 2 + x) * 3 + c];
        const double want = (v / 255.0 - mean[c]) / std_[c];
        const double got = out[c][y][x].item<double>();
        if (std::abs(got - want) > 1e-5)
          return c10::str("value at (", c, ",", y, ",", x, ") is ", got, ", expected ", want);
      }
  return {};
}

// A photo-like ramp 3x48x64 (uint8 and float), resized to 20x30 with antialiasing: tvx's resize
// against ATen's antialiased interpolate (float32 within 1e-5), the uint8 result against the
// float one rounded (within 1), and preprocess (resize 24, center crop 20, normalize) against
// resize, crop and normalize called one by one.
std::string check_resize(const at::Device& device) {
  const at::Tensor ramp = (at::arange(3 * 48 * 64, at::kFloat).view({3, 48, 64}) * 7).remainder(256);
  const at::Tensor u8 = ramp.to(at::kByte).to(device), f = ramp.div(255).to(device);
  const at::Tensor got = transforms::resize(f, {20, 30});
  const at::Tensor want = at::_upsample_bilinear2d_aa(f.unsqueeze(0), {20, 30}, false).squeeze(0);
  if (double err = (got - want).abs().max().item<double>(); err > 1e-5)
    return c10::str("float32 resize differs from ATen's interpolate by ", err);
  const at::Tensor g8 = transforms::resize(u8, {20, 30});
  if (double err = (g8.to(at::kFloat) - want.mul(255)).abs().max().item<double>(); err > 1.0)
    return c10::str("uint8 resize differs from the float result by ", err);
  const double mean[3] = {0.485, 0.456, 0.406}, std_[3] = {0.229, 0.224, 0.225};
  transforms::PreprocessOptions o;
  o.resize = {24};
  o.crop = {20, 20};
  o.mean = {mean, mean + 3};
  o.std = {std_, std_ + 3};
  const at::Tensor batch = transforms::preprocess({u8}, o);
  const at::Tensor r = transforms::resize(u8, {24});  // 24 x 32
  const auto anchor = [](std::int64_t size) { return std::int64_t(std::nearbyint((size - 20) / 2.0)); };
  const std::int64_t top = anchor(r.size(1)), left = anchor(r.size(2));
  const at::Tensor crop = r.slice(1, top, top + 20).slice(2, left, left + 20);
  const at::Tensor chain = transforms::normalize(crop.to(at::kFloat).mul(1.0 / 255), mean, std_);
  if (double err = (batch[0] - chain).abs().max().item<double>(); err > 1.0 / 255 / 0.224 + 1e-5)
    return c10::str("preprocess differs from resize, crop and normalize by ", err);
  return {};
}

std::string check_nms_known_answer() {
  // Boxes 0 and 1 overlap with IoU 0.81; box 2 is apart; box 3 is inside box 2 (IoU 0.25).
  const at::Tensor boxes = at::tensor({0., 0., 10., 10., 1., 1., 10., 10., 20., 20., 30., 30., 20., 20., 25., 25.},
                                      at::kFloat).view({4, 4});
  const at::Tensor scores = at::tensor({0.9, 0.95, 0.5, 0.6}, at::kFloat);
  const at::Tensor keep = ops::nms(boxes, scores, 0.5);
  const at::Tensor want = at::tensor({1, 3, 2}, at::kLong);
  if (!at::equal(keep, want)) return "kept " + c10::str(keep) + ", expected [1, 3, 2]";
  return {};
}

at::Tensor random_boxes(std::int64_t n, const at::TensorOptions& opts) {
  const at::Tensor xy = at::rand({n, 2}, opts) * 1000;
  const at::Tensor wh = at::rand({n, 2}, opts) * 100 + 1;
  return at::cat({xy, xy + wh}, 1);
}


// ResNet-18 with seeded random weights on one input, on the CPU and on `device`: the
// logits must agree to within float32 rounding (TF32 off for the comparison).
std::string check_resnet_cpu_vs(const at::Device& device) {
  c10::InferenceMode guard;
  at::manual_seed(0);
  auto net = models::resnet18();
  net->eval();
  const at::Tensor x = at::randn({2, 3, 64, 64});
  const at::Tensor on_cpu = net->forward(x);
  if (on_cpu.sizes() != at::IntArrayRef{2, 1000}) return "output shape " + c10::str(on_cpu.sizes()) + ", expected [2, 1000]";
  if (!at::isfinite(on_cpu).all().item<bool>()) return "CPU logits have non-finite values";
  // TF32 off for the comparison, restored however the forward ends.
  struct NoTf32 {
    at::Context& ctx = at::globalContext();
    const bool cudnn = ctx.allowTF32CuDNN(), cublas = ctx.allowTF32CuBLAS();
    NoTf32() { ctx.setAllowTF32CuDNN(false), ctx.setAllowTF32CuBLAS(false); }
    ~NoTf32() { ctx.setAllowTF32CuDNN(cudnn), ctx.setAllowTF32CuBLAS(cublas); }
  } no_tf32;
  net->to(device);
  const at::Tensor on_device = net->forward(x.to(device)).cpu();
  const double scale = at::abs(on_cpu).max().item<double>();
  const double err = at::abs(on_device - on_cpu).max().item<double>();
  if (!(scale > 1e-3)) return c10::str("CPU logits are all near zero (max |logit| ", scale, "): nothing to compare");
  if (!(err <= 1e-4 * scale)) return c10::str("CUDA and CPU logits differ by up to ", err, " (max |logit| ", scale, ")");
  return {};
}

std::string check_driver(const CudaInfo& cuda) {
  const std::string need = min_driver();
  if (need.empty()) return {};
  if (cuda.driver_release.empty()) return "could not read the NVIDIA driver's version (NVML or /proc/driver/nvidia/version)";
  if (compare_driver_versions(cuda.driver_release, need) < 0)
    return "driver " + cuda.driver_release + " is older than " + need + ", the oldest this variant (" + variant() +
           ") supports";
  return {};
}

}  // namespace

int verify(bool json) {
  const auto cuda = cuda_info();
  const auto images = compiled_cuda_images();
  if (!json) {
    std::cout << "tvx " << version() << " (variant " << variant() << "), LibTorch " << torch_version()
              << ", CUDA runtime " << cuda_version_string(cuda.runtime_version) << ", driver "
              << cuda_version_string(cuda.driver_version)
              << (cuda.driver_release.empty() ? "" : " (" + cuda.driver_release + ")") << "\n";
    std::cout << "CUDA " << (cuda.available ? "available" : "not available") << ", " << cuda.gpus.size() << " GPU(s)";
    if (!cuda.available && !cuda.error.empty()) std::cout << " (" << cuda.error << ")";
    std::cout << "\n";
    for (const auto& g : cuda.gpus)
      std::cout << "  [" << g.index << "] " << g.name << ", compute capability " << g.major << "." << g.minor << "\n";
  }

  Checker check;
  check.json = json;
  const bool gpu = cuda.available && built_with_cuda();
  if (gpu) check("NVIDIA driver " + (cuda.driver_release.empty() ? std::string("?") : cuda.driver_release) +
                     " >= " + (min_driver().empty() ? std::string("(none set)") : min_driver()),
                 [&] { return check_driver(cuda); });
  for (const auto& g : cuda.gpus) {
    check("kernel image for GPU " + std::to_string(g.index) + " (sm_" + std::to_string(g.major) +
              std::to_string(g.minor) + ")",
          [&] {
            return coverage(images, g.major, g.minor) == Coverage::none
                       ? "no kernel image for sm_" + std::to_string(g.major) + std::to_string(g.minor) + " in this build"
                       : std::string();
          });
  }
  check("to_tensor + normalize values", check_to_tensor_normalize);
  check("resize and preprocess against ATen's interpolate (CPU)", [] { return check_resize(at::kCPU); });
  check("nms on a known case (CPU)", check_nms_known_answer);

  const at::Device device = gpu ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  std::string note;
  if (gpu) {
    check("ResNet-18 logits on CUDA equal the CPU's (same weights and input)",
          [&] { return check_resnet_cpu_vs(device); });
    check("resize and preprocess against ATen's interpolate (CUDA)", [&] { return check_resize(device); });
    check("nms agrees between CPU and CUDA (5000 random boxes)", [&]() -> std::string {
      const at::Tensor boxes = random_boxes(5000, at::kFloat);
      const at::Tensor scores = at::rand({5000}, at::kFloat);
      const at::Tensor on_cpu = ops::nms(boxes, scores, 0.5);
      const at::Tensor on_gpu = ops::nms(boxes.to(device), scores.to(device), 0.5).cpu();
      if (!at::equal(on_cpu, on_gpu))
        return c10::str("CPU kept ", on_cpu.numel(), " boxes, CUDA kept ", on_gpu.numel(), ", or in another order");
      return {};
    });
  } else {
    note = "no usable GPU: the CUDA checks (driver, ResNet-18, resize and nms on CUDA against the CPU) were not run";
    check("ResNet-18 inference on the CPU", [&]() -> std::string {
      c10::InferenceMode guard;
      auto net = models::resnet18();
      net->eval();
      const at::Tensor out = net->forward(at::randn({1, 3, 64, 64}));
      if (out.sizes() != at::IntArrayRef{1, 1000}) return "output shape " + c10::str(out.sizes()) + ", expected [1, 1000]";
      if (!at::isfinite(out).all().item<bool>()) return "output has non-finite values";
      return {};
    });
  }
  if (json) {
    nlohmann::json j{{"tvx_version", version()},
                     {"variant", variant()},
                     {"driver_release", cuda.driver_release},
                     {"min_driver", min_driver()},
                     {"gpus", cuda.gpus.size()},
                     {"checks", check.results},
                     {"failures", check.failures},
                     {"passed", check.failures == 0}};
    if (!note.empty()) j["note"] = note;
    std::cout << j.dump(2) << "\n";
  } else {
    if (!note.empty()) std::cout << "note: " << note << "\n";
    std::cout << (check.failures ? std::to_string(check.failures) + " check(s) failed" : "all checks passed") << "\n";
  }
  return check.failures ? kCheckFailed : kOk;
}

}  // namespace tvx::cli
