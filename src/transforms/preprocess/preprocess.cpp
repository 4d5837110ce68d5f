// preprocess: one pass from uint8 images of any sizes to the normalised batch a model eats:
// resize (torchvision v2's rule and filters), center_crop (its anchor and zero padding),
// to_dtype(scale=True), normalize, in the dtype and memory format asked for. The schema, the
// shared checks and plans, and the C++ entry point.
#include "transforms/preprocess/preprocess.h"

#include <ATen/ops/empty.h>

#include <cmath>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"
#include "transforms/geometry/geometry.h"
#include "transforms/resize/resize.h"

namespace tvx::transforms {
namespace detail {

bool is_batch(at::TensorList images) { return images.size() == 1 && images[0].dim() == 4; }

at::Tensor image(at::TensorList images, std::int64_t i) { return is_batch(images) ? images[0][i] : images[i]; }

namespace {

std::vector<std::int64_t> two(const char* what, c10::IntArrayRef v) {
  TORCH_CHECK(v.size() <= 2, "tvx.preprocess: ", what, " must be [h, w], [s] or empty, got ", v.size(), " values");
  if (v.size() == 1) return {v[0], v[0]};
  return v.vec();
}

PreprocessArgs check_args(at::TensorList images, c10::IntArrayRef resize, std::optional<std::int64_t> max_size,
                          c10::IntArrayRef crop, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                          at::ScalarType dtype, bool channels_last, c10::string_view interpolation, bool antialias) {
  PreprocessArgs a;
  a.mode = parse_interpolation("tvx.preprocess", interpolation);
  a.antialias = antialias;
  a.dtype = dtype;
  a.channels_last = channels_last;
  a.max_size = max_size;
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16 || dtype == at::kDouble,
              "tvx.preprocess: dtype must be float32, float16, bfloat16 or float64, got ", core::dtype_name(dtype));
  TORCH_CHECK(resize.size() <= 2, "tvx.preprocess: resize must be [h, w], [shorter edge] or empty, got ", resize.size(),
              " values");
  for (auto v : resize) TORCH_CHECK(v > 0, "tvx.preprocess: resize must be positive, got ", resize);
  a.resize = resize.vec();
  a.crop = two("crop", crop);
  for (auto v : a.crop) TORCH_CHECK(v > 0, "tvx.preprocess: crop must be positive, got ", crop);
  // One [N, C, H, W] batch stands for its N images.
  const bool batch = is_batch(images);
  a.channels = images.empty() ? 0 : images[0].size(batch ? 1 : 0);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const at::Tensor& img = images[i];
    if (batch) {
      TORCH_CHECK(img.scalar_type() == at::kByte, "tvx.preprocess: the batch must be uint8, got ",
                  core::dtype_name(img.scalar_type()));
      TORCH_CHECK(img.size(0) == 0 || (img.size(2) > 0 && img.size(3) > 0), "tvx.preprocess: the batch's images are "
                  "empty (", img.sizes(), ")");
      continue;
    }
    TORCH_CHECK(img.dim() == 3, "tvx.preprocess: image ", i, " must have shape [C, H, W] (or be the one [N, C, H, W] "
                "batch), got ", img.sizes());
    TORCH_CHECK(img.scalar_type() == at::kByte, "tvx.preprocess: image ", i, " must be uint8, got ",
                core::dtype_name(img.scalar_type()));
    TORCH_CHECK(img.size(0) == a.channels, "tvx.preprocess: image ", i, " has ", img.size(0), " channels, image 0 has ",
                a.channels);
    TORCH_CHECK(img.device() == images[0].device(), "tvx.preprocess: image ", i, " is on ", img.device(),
                ", image 0 on ", images[0].device());
    TORCH_CHECK(img.size(1) > 0 && img.size(2) > 0, "tvx.preprocess: image ", i, " is empty (", img.sizes(), ")");
  }
  TORCH_CHECK(mean.size() == std.size(), "tvx.preprocess: mean and std must have as many values, got ", mean.size(),
              " and ", std.size());
  if (!mean.empty()) {
    TORCH_CHECK(mean.size() == 1 || std::int64_t(mean.size()) == a.channels || images.empty(),
                "tvx.preprocess: mean and std must have 1 or ", a.channels, " values (one per channel), got ",
                mean.size());
    for (double s : std) TORCH_CHECK(s != 0, "tvx.preprocess: std evaluated to zero, leading to division by zero");
    for (std::int64_t c = 0; c < a.channels; ++c) {
      a.mean.push_back(mean[mean.size() == 1 ? 0 : std::size_t(c)]);
      a.std.push_back(std[std.size() == 1 ? 0 : std::size_t(c)]);
    }
  }
  return a;
}

// An image of h x w: resized, then cropped.
ImagePlan plan_image(std::int64_t h, std::int64_t w, const PreprocessArgs& a) {
  ImagePlan p{};
  p.h = h, p.w = w;
  if (a.resize.empty() && !a.max_size) {
    p.rh = p.h, p.rw = p.w;
  } else {
    const auto hw = resized_size(p.h, p.w, a.resize, a.max_size);
    p.rh = hw[0], p.rw = hw[1];
  }
  p.oh = a.crop.empty() ? p.rh : a.crop[0];
  p.ow = a.crop.empty() ? p.rw : a.crop[1];
  p.top = crop_anchor(p.rh, p.oh), p.left = crop_anchor(p.rw, p.ow);
  return p;
}

std::vector<ImagePlan> plan_images(at::TensorList images, const PreprocessArgs& a) {
  if (is_batch(images))  // N images of one size: one plan
    return std::vector<ImagePlan>(std::size_t(images[0].size(0)), plan_image(images[0].size(2), images[0].size(3), a));
  std::vector<ImagePlan> plans;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const ImagePlan p = plan_image(images[i].size(1), images[i].size(2), a);
    TORCH_CHECK(plans.empty() || (p.oh == plans[0].oh && p.ow == plans[0].ow), "tvx.preprocess: image ", i,
                " becomes ", p.oh, "x", p.ow, " and image 0 ", plans[0].oh, "x", plans[0].ow,
                ": a batch needs one size (give crop, or resize to [h, w])");
    plans.push_back(p);
  }
  return plans;
}

at::Tensor output(at::TensorList images, const std::vector<ImagePlan>& plans, const PreprocessArgs& a) {
  // The batch's size: its images' (an empty batch tensor's too, where they have a size), else
  // the crop's, else resize's [h, w].
  std::int64_t oh = 0, ow = 0;
  if (!plans.empty()) {
    oh = plans[0].oh, ow = plans[0].ow;
  } else if (is_batch(images) && images[0].size(2) > 0 && images[0].size(3) > 0) {
    const ImagePlan p = plan_image(images[0].size(2), images[0].size(3), a);
    oh = p.oh, ow = p.ow;
  } else if (!a.crop.empty()) {
    oh = a.crop[0], ow = a.crop[1];
  } else if (a.resize.size() == 2) {
    oh = a.resize[0], ow = a.resize[1];
  }
  const auto opts = at::TensorOptions().dtype(a.dtype).device(images.empty() ? at::kCPU : images[0].device());
  return at::empty({std::int64_t(plans.size()), a.channels, oh, ow},
                   opts.memory_format(a.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
}

}  // namespace

Prepared prepare(at::TensorList images, c10::IntArrayRef resize, std::optional<std::int64_t> max_size,
                 c10::IntArrayRef crop, c10::ArrayRef<double> mean, c10::ArrayRef<double> std, at::ScalarType dtype,
                 bool channels_last, c10::string_view interpolation, bool antialias) {
  Prepared p;
  p.args = check_args(images, resize, max_size, crop, mean, std, dtype, channels_last, interpolation, antialias);
  p.plans = plan_images(images, p.args);
  p.out = output(images, p.plans, p.args);
  return p;
}

}  // namespace detail

TVX_LIBRARY(m) {
  m.def("preprocess(Tensor[] images, SymInt[] resize, SymInt? max_size, SymInt[] crop, float[] mean, float[] std, "
        "ScalarType dtype=float, bool channels_last=False, str interpolation=\"bilinear\", bool antialias=True) -> Tensor");
}

at::Tensor preprocess(at::TensorList images, const PreprocessOptions& o) {
  TORCH_CHECK(o.memory_format == at::MemoryFormat::Contiguous || o.memory_format == at::MemoryFormat::ChannelsLast,
              "tvx.preprocess: memory_format must be Contiguous (NCHW) or ChannelsLast (NHWC)");
  using Sig = at::Tensor(at::TensorList, c10::SymIntArrayRef, std::optional<c10::SymInt>, c10::SymIntArrayRef,
                         c10::ArrayRef<double>, c10::ArrayRef<double>, at::ScalarType, bool, c10::string_view, bool);
  if (images.empty()) {  // no tensor to dispatch on: an empty batch of the crop's (or resize's) size
    const auto crop = o.crop.size() == 1 ? std::vector<std::int64_t>{o.crop[0], o.crop[0]} : o.crop;
    const auto hw = !crop.empty() ? crop : o.resize.size() == 2 ? o.resize : std::vector<std::int64_t>{0, 0};
    return at::empty({0, 0, hw[0], hw[1]}, at::TensorOptions().dtype(o.dtype));
  }
  std::optional<c10::SymInt> max_size;
  if (o.max_size) max_size = c10::SymInt(*o.max_size);
  return core::call_op<"tvx::preprocess", Sig>(images, c10::fromIntArrayRefSlow(o.resize), max_size,
                                                c10::fromIntArrayRefSlow(o.crop), o.mean, o.std, o.dtype,
                                                o.memory_format == at::MemoryFormat::ChannelsLast,
                                                detail::interpolation_name(o.interpolation), o.antialias);
}

}  // namespace tvx::transforms
