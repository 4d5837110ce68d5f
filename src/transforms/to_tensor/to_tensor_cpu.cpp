// to_tensor on the CPU: Highway kernels, one source for every SIMD tier. Contiguous HWC
// images of 1, 3 or 4 channels are split into planes while converting (read 1 byte, write 4
// bytes per value, one pass); contiguous CHW is a flat conversion; any other strides take a
// plain loop. x / 255 is an IEEE division, as torchvision's img.float().div(255).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "transforms/to_tensor/to_tensor_cpu.cpp"
#include "core/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tvx::transforms::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[i] = in[i] / 255 for n values.
void U8ToUnit(const std::uint8_t* HWY_RESTRICT in, float* HWY_RESTRICT out, std::int64_t n) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<std::int32_t, decltype(df)> di;
  const hn::Rebind<std::uint8_t, decltype(df)> d8;
  const auto k255 = hn::Set(df, 255.0f);
  const std::int64_t lanes = hn::Lanes(df);
  std::int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::Div(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, in + i))), k255), df, out + i);
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
}

template <class DF, class DI, class V8>
HWY_INLINE void StoreUnit(DF df, DI di, V8 v, float* HWY_RESTRICT out) {
  hn::StoreU(hn::Div(hn::ConvertTo(df, hn::PromoteTo(di, v)), hn::Set(df, 255.0f)), df, out);
}

// `pixels` interleaved pixels of C (3 or 4) bytes into C planes of floats.
template <int C>
HWY_INLINE void SplitPlanes(const std::uint8_t* HWY_RESTRICT in, float* const* planes, std::int64_t pixels) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<std::int32_t, decltype(df)> di;
  const hn::Rebind<std::uint8_t, decltype(df)> d8;
  const std::int64_t lanes = hn::Lanes(df);
  std::int64_t i = 0;
  for (; i + lanes <= pixels; i += lanes) {
    hn::Vec<decltype(d8)> a, b, c, d;  // SVE vectors cannot live in arrays
    if constexpr (C == 3) {
      hn::LoadInterleaved3(d8, in + 3 * i, a, b, c);
    } else {
      hn::LoadInterleaved4(d8, in + 4 * i, a, b, c, d);
      StoreUnit(df, di, d, planes[3] + i);
    }
    StoreUnit(df, di, a, planes[0] + i);
    StoreUnit(df, di, b, planes[1] + i);
    StoreUnit(df, di, c, planes[2] + i);
  }
  for (; i < pixels; ++i)
    for (int ch = 0; ch < C; ++ch) planes[ch][i] = static_cast<float>(in[C * i + ch]) / 255.0f;
}

void Split3(const std::uint8_t* HWY_RESTRICT in, float* const* planes, std::int64_t pixels) {
  SplitPlanes<3>(in, planes, pixels);
}
void Split4(const std::uint8_t* HWY_RESTRICT in, float* const* planes, std::int64_t pixels) {
  SplitPlanes<4>(in, planes, pixels);
}

}  // namespace tvx::transforms::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>

#include <algorithm>

#include "core/registration.h"
#include "transforms/to_tensor/to_tensor.h"

namespace tvx::transforms {
namespace {

HWY_EXPORT(U8ToUnit);
HWY_EXPORT(Split3);
HWY_EXPORT(Split4);

at::Tensor to_tensor_cpu(const at::Tensor& image, c10::string_view layout) {
  const auto v = detail::to_tensor_view(image, layout);
  at::Tensor out = at::empty(v.out_sizes, image.options().dtype(at::kFloat));
  if (out.numel() == 0) return out;
  const std::uint8_t* in = image.const_data_ptr<std::uint8_t>();
  float* o = out.mutable_data_ptr<float>();
  const std::int64_t plane = v.h * v.w, rows = v.n * v.h;
  constexpr std::int64_t kGrain = 1 << 16;  // values per task

  // Dense interleaved pixels: channel bytes adjacent (an expanded or sliced channel axis
  // is not), pixels adjacent, rows adjacent.
  const bool dense_hwc =
      (v.c == 1 || v.sc == 1) && v.sw == v.c && v.sh == v.w * v.c && (v.n == 1 || v.sn == plane * v.c);
  const bool dense_chw = v.sw == 1 && v.sh == v.w && v.sc == plane && (v.n == 1 || v.sn == plane * v.c);
  if (dense_chw || (dense_hwc && v.c == 1)) {
    at::parallel_for(0, out.numel(), kGrain, [&](std::int64_t b, std::int64_t e) {
      HWY_DYNAMIC_DISPATCH(U8ToUnit)(in + b, o + b, e - b);
    });
  } else if (dense_hwc && (v.c == 3 || v.c == 4)) {
    // Row by row: each row of pixels goes to its place in every plane.
    at::parallel_for(0, rows, std::max<std::int64_t>(1, kGrain / (v.w * v.c)), [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t r = b; r < e; ++r) {
        const std::int64_t img = r / v.h, y = r % v.h;
        const std::uint8_t* src = in + img * v.sn + y * v.sh;
        float* dst = o + img * plane * v.c + y * v.w;
        float* const planes[4] = {dst, dst + plane, dst + 2 * plane, dst + 3 * plane};
        if (v.c == 3)
          HWY_DYNAMIC_DISPATCH(Split3)(src, planes, v.w);
        else
          HWY_DYNAMIC_DISPATCH(Split4)(src, planes, v.w);
      }
    });
  } else {
    // Any strides: one output row (image, channel, y) at a time.
    at::parallel_for(0, v.n * v.c * v.h, std::max<std::int64_t>(1, kGrain / v.w), [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t r = b; r < e; ++r) {
        const std::int64_t y = r % v.h, ch = (r / v.h) % v.c, img = r / (v.h * v.c);
        const std::uint8_t* src = in + img * v.sn + ch * v.sc + y * v.sh;
        float* dst = o + r * v.w;
        for (std::int64_t x = 0; x < v.w; ++x) dst[x] = static_cast<float>(src[x * v.sw]) / 255.0f;
      }
    });
  }
  return out;
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) { m.impl("to_tensor", &to_tensor_cpu); }

}  // namespace tvx::transforms
#endif  // HWY_ONCE
