// resize and resize_list on CUDA: the kernels of resize_cuda.cuh, one launch for a tensor batch
// or for a list of images of different sizes. Computes as torchvision's CUDA path does:
// uint8, float16 and bfloat16 in float32 (uint8 clamped and rounded half to even at the end,
// as torchvision's round_ and cast), float64 in double; nearest modes read one pixel.
// Moves each input pixel that a window touches once from DRAM and writes each output once.
#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>

#include <map>
#include <type_traits>

#include "core/registration.h"
#include "transforms/resize/resize.h"
#include "transforms/resize/resize_cuda.cuh"

namespace tvx::transforms {
namespace {

using cuda_resize::Job;
using cuda_resize::make_job;

// Writes acc into the job's output, rounded and clamped for uint8.
template <typename Out, typename Acc>
struct StoreResize {
  __device__ void operator()(const Job& job, std::int32_t c, std::int32_t y, std::int32_t x, Acc acc) const {
    Out* out = static_cast<Out*>(job.out) + c * job.out_sc + y * job.out_sy + x * job.out_sx;
    if constexpr (std::is_same_v<Out, std::uint8_t>)
      *out = static_cast<std::uint8_t>(rintf(fminf(fmaxf(acc, 0.0f), 255.0f)));
    else
      *out = static_cast<Out>(acc);
  }
};

// Resamples each job's image (one dtype and channel count) in one launch.
void resample(std::vector<Job> jobs, at::ScalarType dtype, std::int32_t channels,
              Interpolation mode, bool antialias) {
  if (jobs.empty()) return;
  const bool nearest = mode == Interpolation::nearest || mode == Interpolation::nearest_exact;
  // Positions as ATen's CUDA kernels compute them: in double for float64 interpolation, in
  // float32 otherwise (nearest always in float32).
  const auto taps_dtype = dtype == at::kDouble && !nearest ? at::kDouble : at::kFloat;
  const auto go = [&](auto in_tag) {
    using In = decltype(in_tag);
    using Acc = std::conditional_t<std::is_same_v<In, double>, double, float>;
    cuda_resize::TapTable<Acc> table;
    for (Job& j : jobs) {
      j.taps_y = table.add(j.h, j.oh, mode, antialias, taps_dtype);
      j.taps_x = table.add(j.w, j.ow, mode, antialias, taps_dtype);
    }
    cuda_resize::resample_batch<In, Acc>(jobs, table, channels, !nearest, StoreResize<In, Acc>{});
  };
  AT_DISPATCH_SWITCH(dtype, "tvx.resize",
    AT_DISPATCH_CASE(at::kByte, [&] { go(std::uint8_t()); })
    AT_DISPATCH_CASE(at::kFloat, [&] { go(float()); })
    AT_DISPATCH_CASE(at::kDouble, [&] { go(double()); })
    AT_DISPATCH_CASE(at::kHalf, [&] { go(at::Half()); })
    AT_DISPATCH_CASE(at::kBFloat16, [&] { go(at::BFloat16()); }));
}

// The output of one image: its memory format kept (interleaved channels stay interleaved).
at::Tensor output_like(const at::Tensor& x4, std::int64_t oh, std::int64_t ow) {
  const bool interleaved = x4.size(1) > 1 && x4.is_contiguous(at::MemoryFormat::ChannelsLast) && !x4.is_contiguous();
  return at::empty({x4.size(0), x4.size(1), oh, ow},
                   x4.options().memory_format(interleaved ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
}

at::Tensor resize_cuda(const at::Tensor& image, c10::IntArrayRef size, c10::string_view interpolation, bool antialias) {
  detail::check_resize_args("tvx.resize", image, size);
  const Interpolation mode = detail::parse_interpolation("tvx.resize", interpolation);
  const core::cuda::DeviceGuard guard(image);
  const std::int64_t c = image.size(-3), h = image.size(-2), w = image.size(-1);
  std::vector<std::int64_t> out_shape(image.sizes().begin(), image.sizes().end() - 2);
  out_shape.insert(out_shape.end(), {size[0], size[1]});
  const at::Tensor x = image.reshape({-1, c, h, w});
  at::Tensor out = output_like(x, size[0], size[1]);
  if (out.numel() == 0 || x.numel() == 0) return out.view(out_shape);
  std::vector<Job> jobs;
  for (std::int64_t b = 0; b < x.size(0); ++b) jobs.push_back(make_job(x, b, out, b));
  resample(std::move(jobs), x.scalar_type(), std::int32_t(c), mode, antialias);
  return out.view(out_shape);
}

std::vector<at::Tensor> resize_list_cuda(at::TensorList images, c10::IntArrayRef sizes, c10::string_view interpolation,
                                         bool antialias) {
  const Interpolation mode = detail::parse_interpolation("tvx.resize_list", interpolation);
  detail::check_resize_list_args(images, sizes);
  std::vector<at::Tensor> outs(images.size());
  if (images.empty()) return outs;
  const core::cuda::DeviceGuard guard(images[0]);
  // One launch per dtype and channel count (one, in practice).
  std::map<std::pair<at::ScalarType, std::int64_t>, std::vector<Job>> groups;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const at::Tensor& img = images[i];
    TORCH_CHECK(img.is_cuda() && img.device() == images[0].device(), "tvx.resize_list: image ", i, " is on ",
                img.device(), ", image 0 on ", images[0].device());
    outs[i] = output_like(img.unsqueeze(0), sizes[2 * i], sizes[2 * i + 1])[0];
    if (img.numel() == 0 || outs[i].numel() == 0) continue;
    groups[{img.scalar_type(), img.size(0)}].push_back(make_job(img, std::nullopt, outs[i], std::nullopt));
  }
  for (auto& [key, jobs] : groups)
    resample(std::move(jobs), key.first, std::int32_t(key.second), mode, antialias);
  return outs;
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) {
  m.impl("resize", &resize_cuda);
  m.impl("resize_list", &resize_list_cuda);
}

}  // namespace tvx::transforms
