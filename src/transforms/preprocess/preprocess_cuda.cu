// preprocess on CUDA: one launch for the whole batch (resize_cuda.cuh's kernels: tiles of
// output pixels for the separable modes, a thread per pixel for nearest), each output value
// the resized value as torchvision's CUDA resize computes it (float32, clamped, rounded to
// uint8), then x * (1 / 255), then (x - mean) / std, each rounded as the separate ops round (no
// fused multiply-add), stored in the batch's dtype and layout. Reads each input pixel a window
// touches, writes 2-8 bytes per output value.
#include <ATen/Dispatch.h>

#include <type_traits>

#include "core/registration.h"
#include "transforms/preprocess/preprocess.h"
#include "transforms/resize/resize_cuda.cuh"

namespace tvx::transforms {
namespace {

using cuda_resize::Job;
using detail::PreprocessArgs;
constexpr int kMaxChannels = 4;

__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }

// Norm: the type of to_dtype and normalize, float64 for a float64 batch, float32 otherwise.
template <typename Out>
using NormOf = std::conditional_t<std::is_same_v<Out, double>, double, float>;

template <typename Out, typename Acc, typename Norm = NormOf<Out>>
struct StoreNormalized {
  Norm mean[kMaxChannels], std[kMaxChannels];
  bool normalize;
  __device__ void operator()(const Job& job, std::int32_t c, std::int32_t y, std::int32_t x, Acc acc) const {
    const Norm v = Norm(rint(fmin(fmax(acc, Acc(0)), Acc(255))));  // resize's uint8 result
    Norm r = mul_rn(v, Norm(1.0 / 255.0));
    if (normalize) r = div_rn(sub_rn(r, mean[c]), std[c]);
    static_cast<Out*>(job.out)[c * job.out_sc + y * job.out_sy + x * job.out_sx] = static_cast<Out>(r);
  }
};

at::Tensor preprocess_cuda(at::TensorList images, c10::IntArrayRef resize, std::optional<std::int64_t> max_size,
                           c10::IntArrayRef crop, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                           at::ScalarType dtype, bool channels_last, c10::string_view interpolation, bool antialias) {
  const auto [a, plans, out] =
      detail::prepare(images, resize, max_size, crop, mean, std, dtype, channels_last, interpolation, antialias);
  if (out.numel() == 0) return out;
  TORCH_CHECK(a.channels <= kMaxChannels, "tvx.preprocess: CUDA takes up to ", kMaxChannels, " channels, got ",
              a.channels);
  const core::cuda::DeviceGuard guard(images[0]);
  // The resized value is computed as torchvision's CUDA resize does for uint8: in float32,
  // positions too (a float64 batch is scaled and normalised in double from that value).
  cuda_resize::TapTable<float> table;
  std::vector<Job> jobs;
  const bool batch = detail::is_batch(images);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    Job j = batch ? cuda_resize::make_job(images[0], std::int64_t(i), out, std::int64_t(i))
                  : cuda_resize::make_job(images[i], std::nullopt, out, std::int64_t(i));
    j.rh = std::int32_t(p.rh), j.rw = std::int32_t(p.rw), j.top = std::int32_t(p.top), j.left = std::int32_t(p.left);
    j.taps_y = table.add(p.h, p.rh, a.mode, a.antialias, at::kFloat);
    j.taps_x = table.add(p.w, p.rw, a.mode, a.antialias, at::kFloat);
    jobs.push_back(j);
  }
  const bool separable = a.mode != Interpolation::nearest && a.mode != Interpolation::nearest_exact;
  const auto launch = [&](auto out_tag) {
    using Out = decltype(out_tag);
    StoreNormalized<Out, float> store{};
    store.normalize = !a.mean.empty();
    for (std::int64_t c = 0; c < a.channels && store.normalize; ++c) {
      store.mean[c] = NormOf<Out>(a.mean[c]);
      store.std[c] = NormOf<Out>(a.std[c]);
    }
    cuda_resize::resample_batch<std::uint8_t, float>(jobs, table, std::int32_t(a.channels), separable, store);
  };
  AT_DISPATCH_SWITCH(a.dtype, "tvx.preprocess",
    AT_DISPATCH_CASE(at::kFloat, [&] { launch(float()); })
    AT_DISPATCH_CASE(at::kDouble, [&] { launch(double()); })
    AT_DISPATCH_CASE(at::kHalf, [&] { launch(at::Half()); })
    AT_DISPATCH_CASE(at::kBFloat16, [&] { launch(at::BFloat16()); }));
  return out;
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { m.impl("preprocess", &preprocess_cuda); }

}  // namespace tvx::transforms
