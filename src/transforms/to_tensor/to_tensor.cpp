// to_tensor: schema, shared checks and the C++ entry point. uint8 image -> float32 in [0, 1],
// channels first, in one pass that reads each byte once and writes each float once (the
// HWC -> CHW transpose happens inside the kernels, not as a copy before them).
#include "transforms/to_tensor/to_tensor.h"

#include <tvx/transforms.h>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::transforms {
namespace detail {

void check_to_tensor_args(const at::Tensor& image, c10::string_view layout) {
  constexpr const char* op = "tvx.to_tensor";
  core::check_dtype(op, {"image", image}, {at::kByte});
  core::check_rank(op, {"image", image}, {2, 3, 4}, "[H, W], [H, W, C], [C, H, W] or a batch of those");
  TORCH_CHECK(layout == "HWC" || layout == "CHW", op, ": layout must be \"HWC\" or \"CHW\", got \"", layout, "\"");
}

ImageView to_tensor_view(const at::Tensor& image, c10::string_view layout) {
  constexpr const char* op = "tvx.to_tensor";
  check_to_tensor_args(image, layout);
  const bool hwc = layout == "HWC";
  const std::int64_t d = image.dim();
  ImageView v{};
  v.hwc = hwc;
  if (d == 2) {
    v.n = 1, v.c = 1, v.h = image.size(0), v.w = image.size(1);
    v.sn = 0, v.sc = 0, v.sh = image.stride(0), v.sw = image.stride(1);
    v.out_sizes = {1, v.h, v.w};
    return v;
  }
  // A channel axis holds at most 4 values (gray, gray+alpha, RGB, RGBA) in the images this
  // serves; when the layout asked for puts hundreds there and the other layout would not,
  // the caller almost surely passed the other layout: refuse rather than transpose wrongly.
  const std::int64_t first = image.size(d - 3), last = image.size(d - 1);
  const std::int64_t chans = hwc ? last : first, other = hwc ? first : last;
  TORCH_CHECK(!(chans > 4 && other <= 4), op, ": image of shape ", image.sizes(), " read as ", layout, " has ", chans,
              " channels, but as ", hwc ? "CHW" : "HWC", " it has ", other, ": the layout is ambiguous; pass layout=\"",
              hwc ? "CHW" : "HWC", "\" if that is what it is (the default, \"HWC\", is torchvision's layout for arrays)");
  const std::int64_t b = d == 4 ? 1 : 0;  // first image axis
  v.n = d == 4 ? image.size(0) : 1;
  v.sn = d == 4 ? image.stride(0) : 0;
  if (hwc) {
    v.h = image.size(b), v.w = image.size(b + 1), v.c = image.size(b + 2);
    v.sh = image.stride(b), v.sw = image.stride(b + 1), v.sc = image.stride(b + 2);
  } else {
    v.c = image.size(b), v.h = image.size(b + 1), v.w = image.size(b + 2);
    v.sc = image.stride(b), v.sh = image.stride(b + 1), v.sw = image.stride(b + 2);
  }
  v.out_sizes = {v.c, v.h, v.w};
  if (d == 4) v.out_sizes.insert(v.out_sizes.begin(), v.n);
  return v;
}

}  // namespace detail

TVX_LIBRARY(m) { m.def("to_tensor(Tensor image, str layout=\"HWC\") -> Tensor"); }

at::Tensor to_tensor(const at::Tensor& image, Layout layout) {
  const c10::string_view name = layout == Layout::HWC ? "HWC" : "CHW";
  return core::call_op<"tvx::to_tensor", at::Tensor(const at::Tensor&, c10::string_view)>(image, name);
}

}  // namespace tvx::transforms
