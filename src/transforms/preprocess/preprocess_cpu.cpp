// preprocess on the CPU, images in parallel: each image's crop of its resized grid is resampled
// by resize's uint8 kernels (ATen's uint8 arithmetic, only the rows and columns the crop
// keeps), then scaled, normalised and written into the batch in its dtype and layout. The
// result equals resize -> center_crop -> to_dtype(scale=True) -> normalize on the same images.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "core/registration.h"
#include "transforms/preprocess/preprocess.h"
#include "transforms/resize/resize.h"

namespace tvx::transforms {
namespace {

using detail::ImagePlan;
using detail::PreprocessArgs;
using detail::Taps;

// The uint8 taps of one axis, as resize's CPU kernel has them (nearest: one pixel, weight 1,
// its index rounded as ATen's kernel for this image and resized size rounds it).
Taps axis_taps(std::int64_t in, std::int64_t out, const PreprocessArgs& a, detail::NearestKernel kernel) {
  if (a.mode == Interpolation::bilinear || a.mode == Interpolation::bicubic)
    return detail::compute_taps(in, out, a.mode, a.antialias, at::kByte);
  Taps t;
  t.start = detail::nearest_indices(in, out, a.mode == Interpolation::nearest_exact, kernel);
  t.count.assign(t.start.size(), 1);
  t.weights.assign(t.start.size(), 1.0);
  t.width = 1;
  return t;
}

// to_dtype(scale=True) then normalize, in float32 (float64 for a float64 batch), as torchvision
// computes them: x * (1 / 255), then (x - mean) / std with mean and std in that type.
template <typename Out, typename Acc>
void write_image(const PreprocessArgs& a, const ImagePlan& p, const std::uint8_t* region, std::int64_t rstride_c,
                 std::int64_t rstride_y, std::int64_t rstride_x, std::int64_t r0, std::int64_t r1, std::int64_t c0,
                 std::int64_t c1, const at::Tensor& out) {
  Out* o = out.mutable_data_ptr<Out>();
  const std::int64_t sc = out.stride(0), sy = out.stride(1), sx = out.stride(2);
  const Acc scale = Acc(1.0 / 255.0);
  for (std::int64_t c = 0; c < a.channels; ++c) {
    const bool norm = !a.mean.empty();
    const Acc mean = norm ? Acc(a.mean[c]) : Acc(0), std = norm ? Acc(a.std[c]) : Acc(1);
    for (std::int64_t y = 0; y < p.oh; ++y) {
      const std::int64_t ry = p.top + y;
      for (std::int64_t x = 0; x < p.ow; ++x) {
        const std::int64_t rx = p.left + x;
        const bool inside = ry >= r0 && ry < r1 && rx >= c0 && rx < c1;
        const Acc v = inside ? Acc(region[c * rstride_c + (ry - r0) * rstride_y + (rx - c0) * rstride_x]) : Acc(0);
        Acc r = v * scale;
        if (norm) r = (r - mean) / std;
        o[c * sc + y * sy + x * sx] = static_cast<Out>(r);
      }
    }
  }
}

void preprocess_image(const at::Tensor& image, const ImagePlan& p, const PreprocessArgs& a, const at::Tensor& out) {
  // The rows and columns of the resized grid the crop keeps.
  const std::int64_t r0 = std::max<std::int64_t>(p.top, 0), r1 = std::min(p.rh, p.top + p.oh);
  const std::int64_t c0 = std::max<std::int64_t>(p.left, 0), c1 = std::min(p.rw, p.left + p.ow);
  const std::int64_t nc = a.channels;
  // Interleaved channels (an HWC view, as decoders give) are read as they lie.
  const bool interleaved = nc > 1 && image.stride(0) == 1 && image.stride(2) == nc && image.stride(1) == nc * image.size(2);
  const at::Tensor in = interleaved ? image : image.contiguous();
  std::vector<std::uint8_t> buffer;
  at::Tensor resized;
  const std::uint8_t* region = nullptr;
  std::int64_t rc = 0, ry = 0, rx = 0;
  if (r1 > r0 && c1 > c0) {
    if (p.rh == p.h && p.rw == p.w) {  // no resampling: read the crop from the image
      region = in.const_data_ptr<std::uint8_t>() + r0 * in.stride(1) + c0 * in.stride(2);
      rc = in.stride(0), ry = in.stride(1), rx = in.stride(2);
    } else if (!detail::native_uint8_resize(a.mode)) {
      // Where torchvision resizes uint8 as float32 (no AVX2), so does tvx: through resize.
      resized = resize(in, {p.rh, p.rw}, a.mode, std::nullopt, a.antialias);
      region = resized.const_data_ptr<std::uint8_t>() + r0 * resized.stride(1) + c0 * resized.stride(2);
      rc = resized.stride(0), ry = resized.stride(1), rx = resized.stride(2);
    } else {
      const auto kernel = detail::cpu_nearest_kernel(at::kByte, nc, interleaved, p.rh, p.rw);
      const Taps ty = detail::slice(axis_taps(p.h, p.rh, a, kernel), r0, r1 - r0);
      const Taps tx = detail::slice(axis_taps(p.w, p.rw, a, kernel), c0, c1 - c0);
      const std::int64_t planes = interleaved ? 1 : nc, ch = interleaved ? nc : 1;
      buffer.resize(static_cast<std::size_t>(nc * (r1 - r0) * (c1 - c0)));
      detail::resample_u8(in.const_data_ptr<std::uint8_t>(), planes, p.h, p.w, ch, ty, tx, buffer.data());
      region = buffer.data();
      rc = interleaved ? 1 : (r1 - r0) * (c1 - c0);
      ry = (c1 - c0) * (interleaved ? nc : 1);
      rx = interleaved ? nc : 1;
    }
  }
  AT_DISPATCH_SWITCH(a.dtype, "tvx.preprocess",
    AT_DISPATCH_CASE(at::kFloat, [&] { write_image<float, float>(a, p, region, rc, ry, rx, r0, r1, c0, c1, out); })
    AT_DISPATCH_CASE(at::kDouble, [&] { write_image<double, double>(a, p, region, rc, ry, rx, r0, r1, c0, c1, out); })
    AT_DISPATCH_CASE(at::kHalf, [&] { write_image<at::Half, float>(a, p, region, rc, ry, rx, r0, r1, c0, c1, out); })
    AT_DISPATCH_CASE(at::kBFloat16, [&] { write_image<at::BFloat16, float>(a, p, region, rc, ry, rx, r0, r1, c0, c1, out); }));
}

at::Tensor preprocess_cpu(at::TensorList images, c10::IntArrayRef resize, std::optional<std::int64_t> max_size,
                          c10::IntArrayRef crop, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                          at::ScalarType dtype, bool channels_last, c10::string_view interpolation, bool antialias) {
  const auto [a, plans, out] =
      detail::prepare(images, resize, max_size, crop, mean, std, dtype, channels_last, interpolation, antialias);
  // Images in parallel; one image alone takes every thread inside resize's kernels.
  at::parallel_for(0, std::int64_t(plans.size()), 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) preprocess_image(detail::image(images, i), plans[i], a, out[i]);
  });
  return out;
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) { m.impl("preprocess", &preprocess_cpu); }

}  // namespace tvx::transforms
