// Uses an installed tvx through find_package(tvx): nms, a transform and ResNet-18, each checked.
// Exits non-zero, saying why, when a result is wrong.
#include <tvx/tvx.h>

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <cstdio>

namespace {
int failures = 0;
void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  failures += ok ? 0 : 1;
}
}  // namespace

int main() {
  expect(tvx::variant() == TVX_EXPECTED_VARIANT, "the library is the variant the package describes");

  // nms: the second box overlaps the first (IoU 0.81) and goes; the third is kept.
  const at::Tensor boxes = at::tensor({0.f, 0.f, 10.f, 10.f, 1.f, 1.f, 10.f, 10.f, 20.f, 20.f, 30.f, 30.f}).view({3, 4});
  const at::Tensor scores = at::tensor({0.9f, 0.8f, 0.7f});
  const at::Tensor keep = tvx::ops::nms(boxes, scores, 0.5);
  expect(keep.numel() == 2 && keep[0].item<int64_t>() == 0 && keep[1].item<int64_t>() == 2, "nms keeps boxes 0 and 2");

  // A transform: to_tensor then normalize of a constant image.
  const at::Tensor image = at::full({4, 5, 3}, 51, at::kByte);  // HWC
  const at::Tensor x = tvx::transforms::normalize(tvx::transforms::to_tensor(image), {0.2, 0.2, 0.2}, {0.5, 0.5, 0.5});
  expect(x.sizes() == at::IntArrayRef({3, 4, 5}) && at::allclose(x, at::zeros_like(x), 0, 1e-6),
         "to_tensor + normalize: (51/255 - 0.2) / 0.5 = 0");

  // ResNet-18 (random weights): 1000 finite logits per image.
  torch::manual_seed(0);
  auto net = tvx::models::resnet18();
  net->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor logits = net->forward(torch::randn({2, 3, 64, 64}));
  expect(logits.sizes() == at::IntArrayRef({2, 1000}) && at::isfinite(logits).all().item<bool>(),
         "resnet18 gives 2 x 1000 finite logits");

  std::printf("%s\n", failures == 0 ? "consumer: all checks passed" : "consumer: SOME CHECKS FAILED");
  return failures == 0 ? 0 : 1;
}
