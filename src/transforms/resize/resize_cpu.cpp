// resize on the CPU: separable resampling with precomputed taps (resize.cpp), a horizontal
// pass then a vertical one, each over rows of pixels whose channels are interleaved
// (channels_last) or planar (one channel a plane). A pass costs taps multiply-adds per output
// value and reads its input once; threads split rows. uint8 follows ATen's uint8 path:
// 16-bit fixed-point weights, a 32-bit sum, rounding and clamping after each pass; its planar
// horizontal pass and its vertical pass are Highway kernels (16-bit multiply-add pairs, 32-bit
// sums); float32's passes are Highway kernels too (fused multiply-adds over the padded window,
// or along the row); float64 is scalar C++ the compiler vectorises. Nearest modes gather.
// float16/bfloat16 are computed in float32 and rounded back, as torchvision does.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "transforms/resize/resize_cpu.cpp"
#include "core/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tvx::transforms::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

std::int64_t I16Lanes() { return std::int64_t(hn::Lanes(hn::ScalableTag<std::int16_t>())); }

// Output x's window: its products summed pairwise into a vector of 32-bit sums (the window's
// sum is the vector's), over kChunks whole vectors (0: `width` taps, any multiple).
template <int kChunks, class D32>
HWY_INLINE hn::Vec<D32> WindowU8(D32 d32, const std::uint8_t* src, const std::int64_t* start,
                                 const std::int16_t* weights, std::int64_t width, std::int64_t x) {
  const hn::Repartition<std::int16_t, D32> d16;
  const hn::Rebind<std::uint8_t, decltype(d16)> d8;
  const std::int64_t n = std::int64_t(hn::Lanes(d16));
  const std::uint8_t* s = src + start[x];
  const std::int16_t* w = weights + x * width;
  auto sum0 = hn::Zero(d32), sum1 = hn::Zero(d32);
  const std::int64_t chunks = kChunks > 0 ? kChunks : width / n;
  for (std::int64_t k = 0; k < chunks * n; k += n)
    sum0 = hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, s + k)), hn::LoadU(d16, w + k), sum0,
                                         sum1);
  return hn::Add(sum0, sum1);
}

// The M window vectors of outputs x .. x + M - 1 reduced to one vector in which each output
// holds G / M adjacent lanes: halves reduced alike, then joined by adding their even lanes to
// their odd ones. M = G (the lanes) leaves output x + i's sum in lane i.
template <std::size_t M, int kChunks, class D32>
HWY_INLINE hn::Vec<D32> ReducedU8(D32 d32, const std::uint8_t* src, const std::int64_t* start,
                                  const std::int16_t* weights, std::int64_t width, std::int64_t x) {
  if constexpr (M == 1) {
    return WindowU8<kChunks>(d32, src, start, weights, width, x);
  } else {
    const auto lo = ReducedU8<M / 2, kChunks>(d32, src, start, weights, width, x);
    const auto hi = ReducedU8<M / 2, kChunks>(d32, src, start, weights, width, x + std::int64_t(M / 2));
    return hn::Add(hn::ConcatEven(d32, hi, lo), hn::ConcatOdd(d32, hi, lo));
  }
}

// One planar row: dst[x] = clamp((2^(p-1) + sum_k w[x][k] * src[start[x] + k]) >> p), the
// weights padded with zeros to `width` (kChunks whole vectors, or any multiple for 0) and
// start[x] + width inside the row (the caller shifts the window), so every load is whole. G
// outputs' window vectors (G = the 32-bit lanes) are reduced together (ReducedU8: about 3
// operations an output instead of a whole reduction each) and stored as G bytes (the demotion
// saturates to 0..255). The sums are integers: any order gives ATen's value.
template <int kChunks>
void HorizontalRowU8Of(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_w, const std::int64_t* start,
                       const std::int16_t* weights, std::int64_t width, int precision) {
  const hn::ScalableTag<std::int32_t> d32;
  const std::int32_t half = 1 << (precision - 1);
  std::int64_t x = 0;
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  constexpr std::size_t G = hn::MaxLanes(d32);
  const hn::Rebind<std::uint8_t, decltype(d32)> d8;
  const auto bias = hn::Set(d32, half);
  for (; x + std::int64_t(G) <= out_w; x += std::int64_t(G)) {
    const auto sums = hn::Add(ReducedU8<G, kChunks>(d32, src, start, weights, width, x), bias);
    hn::StoreU(hn::DemoteTo(d8, hn::ShiftRightSame(sums, precision)), d8, dst + x);
  }
#endif
  for (; x < out_w; ++x) {
    const std::int32_t sum = hn::GetLane(hn::SumOfLanes(d32, WindowU8<kChunks>(d32, src, start, weights, width, x)));
    dst[x] = std::uint8_t(std::clamp((sum + half) >> precision, 0, 255));
  }
}

void HorizontalRowU8(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_w, const std::int64_t* start,
                     const std::int16_t* weights, std::int64_t width, int precision) {
  switch (width / std::int64_t(hn::Lanes(hn::ScalableTag<std::int16_t>()))) {  // whole windows unrolled
    case 1: return HorizontalRowU8Of<1>(src, dst, out_w, start, weights, width, precision);
    case 2: return HorizontalRowU8Of<2>(src, dst, out_w, start, weights, width, precision);
    case 3: return HorizontalRowU8Of<3>(src, dst, out_w, start, weights, width, precision);
    default: return HorizontalRowU8Of<0>(src, dst, out_w, start, weights, width, precision);
  }
}

// An interleaved row of w pixels of ch values into ch planar rows: planes[c * w + x].
template <typename T>
void DeinterleaveRow(const T* src, std::int64_t w, std::int64_t ch, T* planes) {
  const hn::ScalableTag<T> d;
  const std::int64_t n = std::int64_t(hn::Lanes(d));
  std::int64_t x = 0;
  if (ch == 3) {
    for (; x + n <= w; x += n) {
      hn::Vec<decltype(d)> a, b, c;
      hn::LoadInterleaved3(d, src + 3 * x, a, b, c);
      hn::StoreU(a, d, planes + x);
      hn::StoreU(b, d, planes + w + x);
      hn::StoreU(c, d, planes + 2 * w + x);
    }
  } else if (ch == 4) {
    for (; x + n <= w; x += n) {
      hn::Vec<decltype(d)> a, b, c, e;
      hn::LoadInterleaved4(d, src + 4 * x, a, b, c, e);
      hn::StoreU(a, d, planes + x);
      hn::StoreU(b, d, planes + w + x);
      hn::StoreU(c, d, planes + 2 * w + x);
      hn::StoreU(e, d, planes + 3 * w + x);
    }
  }
  for (; x < w; ++x)
    for (std::int64_t c = 0; c < ch; ++c) planes[c * w + x] = src[x * ch + c];
}

// ch planar rows of w values into one interleaved row: dst[x * ch + c] = planes[c * w + x].
void InterleaveRowU8(const std::uint8_t* planes, std::int64_t w, std::int64_t ch, std::uint8_t* dst) {
  const hn::ScalableTag<std::uint8_t> d;
  const std::int64_t n = std::int64_t(hn::Lanes(d));
  std::int64_t x = 0;
  if (ch == 3) {
    for (; x + n <= w; x += n)
      hn::StoreInterleaved3(hn::LoadU(d, planes + x), hn::LoadU(d, planes + w + x), hn::LoadU(d, planes + 2 * w + x), d,
                            dst + 3 * x);
  } else if (ch == 4) {
    for (; x + n <= w; x += n)
      hn::StoreInterleaved4(hn::LoadU(d, planes + x), hn::LoadU(d, planes + w + x), hn::LoadU(d, planes + 2 * w + x),
                            hn::LoadU(d, planes + 3 * w + x), d, dst + 4 * x);
  }
  for (; x < w; ++x)
    for (std::int64_t c = 0; c < ch; ++c) dst[x * ch + c] = planes[c * w + x];
}

void DeinterleaveRowU8(const std::uint8_t* src, std::int64_t w, std::int64_t ch, std::uint8_t* planes) {
  DeinterleaveRow(src, w, ch, planes);
}
void DeinterleaveRowF32(const float* src, std::int64_t w, std::int64_t ch, float* planes) {
  DeinterleaveRow(src, w, ch, planes);
}

// One output row of the vertical pass: dst[k] = clamp((2^(p-1) + sum_j w[j] * rows[j][k]) >> p),
// rows[j] = src + j * stride.
void VerticalRowU8(const std::uint8_t* src, std::int64_t stride, std::int64_t taps, const std::int16_t* weights,
                   std::uint8_t* dst, std::int64_t n, int precision) {
  const hn::ScalableTag<std::int32_t> d32;
  const hn::Rebind<std::uint8_t, decltype(d32)> d8;
  const std::int64_t lanes = std::int64_t(hn::Lanes(d32));
  const std::int32_t half = 1 << (precision - 1);
  std::int64_t k = 0;
  for (; k + lanes <= n; k += lanes) {
    auto acc = hn::Set(d32, half);
    for (std::int64_t j = 0; j < taps; ++j)
      acc = hn::Add(acc, hn::Mul(hn::PromoteTo(d32, hn::LoadU(d8, src + j * stride + k)), hn::Set(d32, weights[j])));
    hn::StoreU(hn::DemoteTo(d8, hn::ShiftRightSame(acc, precision)), d8, dst + k);
  }
  for (; k < n; ++k) {
    std::int32_t sum = half;
    for (std::int64_t j = 0; j < taps; ++j) sum += std::int32_t(src[j * stride + k]) * weights[j];
    dst[k] = std::uint8_t(std::clamp(sum >> precision, 0, 255));
  }
}

std::int64_t F32Lanes() { return std::int64_t(hn::Lanes(hn::ScalableTag<float>())); }

// One planar float row: dst[x * step] = sum_k w[x][k] * src[start[x] + k], the weights padded
// with zeros to `width` (a multiple of F32Lanes()) and the windows kept inside the row by the
// caller, as HorizontalRowU8's. In a row (w values) with an infinite or NaN pixel, the padding
// outside output x's own taps [first[x], first[x] + count[x]) is zeroed, not multiplied by 0, so
// that the pixel reaches only the outputs whose windows hold it (as ATen's).
void HorizontalRowF32(const float* src, std::int64_t w_in, float* dst, std::int64_t step, std::int64_t out_w,
                      const std::int64_t* start, const std::int32_t* first, const std::int32_t* count,
                      const float* weights, std::int64_t width) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const std::int64_t n = std::int64_t(hn::Lanes(d));
  bool finite = true;
  std::int64_t k0 = 0;
  for (; finite && k0 + n <= w_in; k0 += n) finite = hn::AllTrue(d, hn::IsFinite(hn::LoadU(d, src + k0)));
  for (; finite && k0 < w_in; ++k0) finite = std::isfinite(src[k0]);
  if (finite) {
    for (std::int64_t x = 0; x < out_w; ++x) {
      const float* s = src + start[x];
      const float* w = weights + x * width;
      auto acc = hn::Mul(hn::LoadU(d, s), hn::LoadU(d, w));
      for (std::int64_t k = n; k < width; k += n) acc = hn::MulAdd(hn::LoadU(d, s + k), hn::LoadU(d, w + k), acc);
      dst[x * step] = hn::GetLane(hn::SumOfLanes(d, acc));
    }
    return;
  }
  const auto iota = hn::Iota(di, 0);
  for (std::int64_t x = 0; x < out_w; ++x) {
    const float* s = src + start[x];
    const float* w = weights + x * width;
    const auto before = hn::Set(di, first[x] - 1), end = hn::Set(di, first[x] + count[x]);
    auto acc = hn::Zero(d);
    for (std::int64_t k = 0; k < width; k += n) {
      const auto lane = hn::Add(iota, hn::Set(di, std::int32_t(k)));
      const auto taps = hn::RebindMask(d, hn::And(hn::Gt(lane, before), hn::Lt(lane, end)));
      acc = hn::MulAdd(hn::IfThenElseZero(taps, hn::LoadU(d, s + k)), hn::LoadU(d, w + k), acc);
    }
    dst[x * step] = hn::GetLane(hn::SumOfLanes(d, acc));
  }
}

// One output row of the float vertical pass: dst[k] = sum_j w[j] * src[j * stride + k].
void VerticalRowF32(const float* src, std::int64_t stride, std::int64_t taps, const float* weights, float* dst,
                    std::int64_t n) {
  const hn::ScalableTag<float> d;
  const std::int64_t lanes = std::int64_t(hn::Lanes(d));
  std::int64_t k = 0;
  for (; k + lanes <= n; k += lanes) {
    auto acc = hn::Mul(hn::LoadU(d, src + k), hn::Set(d, weights[0]));
    for (std::int64_t j = 1; j < taps; ++j) acc = hn::MulAdd(hn::LoadU(d, src + j * stride + k), hn::Set(d, weights[j]), acc);
    hn::StoreU(acc, d, dst + k);
  }
  // The tail one lane at a time with the same operations (fused where the target fuses), so a
  // value does not depend on where the row's vectors end (planar and interleaved agree).
  const hn::CappedTag<float, 1> d1;
  for (; k < n; ++k) {
    auto acc = hn::Mul(hn::LoadU(d1, src + k), hn::Set(d1, weights[0]));
    for (std::int64_t j = 1; j < taps; ++j) acc = hn::MulAdd(hn::LoadU(d1, src + j * stride + k), hn::Set(d1, weights[j]), acc);
    hn::StoreU(acc, d1, dst + k);
  }
}

}  // namespace tvx::transforms::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/registration.h"
#include "transforms/resize/resize.h"

namespace tvx::transforms {
namespace {

HWY_EXPORT(I16Lanes);
HWY_EXPORT(HorizontalRowU8);
HWY_EXPORT(DeinterleaveRowU8);
HWY_EXPORT(InterleaveRowU8);
HWY_EXPORT(VerticalRowU8);
HWY_EXPORT(F32Lanes);
HWY_EXPORT(DeinterleaveRowF32);
HWY_EXPORT(HorizontalRowF32);
HWY_EXPORT(VerticalRowF32);

using detail::Taps;

// An image batch as `planes` planes of h rows of w pixels of `ch` interleaved values.
struct Geometry {
  std::int64_t planes, h, w, ch;
  std::int64_t row() const { return w * ch; }
  std::int64_t plane() const { return h * w * ch; }
};

// The taps in 16-bit fixed point with the most fraction bits the largest weight allows.
struct FixedTaps {
  std::vector<std::int16_t> weights;
  int precision = 0;
};

FixedTaps to_fixed(const Taps& t) {
  double largest = t.largest;
  if (largest == 0)
    for (double w : t.weights) largest = std::max(largest, w);
  FixedTaps f;
  while (f.precision < 22 && int(0.5 + largest * double(1 << (f.precision + 1))) < (1 << 15)) ++f.precision;
  const double one = double(1 << f.precision);
  f.weights.resize(t.weights.size());
  for (std::size_t i = 0; i < t.weights.size(); ++i)
    f.weights[i] = std::int16_t(t.weights[i] < 0 ? int(-0.5 + t.weights[i] * one) : int(0.5 + t.weights[i] * one));
  return f;
}

std::uint8_t round_fixed(std::int32_t sum, int precision) {
  return std::uint8_t(std::clamp(sum >> precision, 0, 255));
}

std::int64_t grain(std::int64_t per_item) { return std::max<std::int64_t>(1, (1 << 14) / std::max<std::int64_t>(per_item, 1)); }

// Horizontal pass: out[p][y][x][c] = sum_j w[x][j] * in[p][y][start[x] + j][c].
template <typename T>
void horizontal(const T* in, T* out, const Geometry& g, std::int64_t out_w, const Taps& t) {
  const std::int64_t rows = g.planes * g.h, ch = g.ch, width = t.width;
  at::parallel_for(0, rows, grain(out_w * ch * width), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const T* src = in + r * g.row();
      T* dst = out + r * out_w * ch;
      for (std::int64_t x = 0; x < out_w; ++x) {
        const double* w = &t.weights[std::size_t(x * width)];
        const T* s = src + t.start[x] * ch;
        for (std::int64_t c = 0; c < ch; ++c) {
          T sum = s[c] * T(w[0]);
          for (std::int64_t j = 1; j < t.count[x]; ++j) sum += s[j * ch + c] * T(w[j]);
          dst[x * ch + c] = sum;
        }
      }
    }
  });
}

// The windows of a horizontal pass laid out for the SIMD row kernels: each padded with zeros to
// `padded` taps (whole vectors) and moved left where it would run past the row (its weights
// moved right): output x reads start[x] .. start[x] + padded, its own taps being
// [first[x], first[x] + count[x]) of that. Needs padded <= the row's width.
template <typename W, typename From>
struct PaddedWindows {
  std::vector<W> weights;
  std::vector<std::int64_t> start;
  std::vector<std::int32_t> first, count;

  PaddedWindows(const Taps& t, const std::vector<From>& taps_weights, std::int64_t row, std::int64_t padded)
      : weights(t.start.size() * std::size_t(padded), W(0)), start(t.start.size()), first(t.start.size()),
        count(t.start.size()) {
    for (std::size_t x = 0; x < t.start.size(); ++x) {
      start[x] = std::min(t.start[x], row - padded);
      first[x] = std::int32_t(t.start[x] - start[x]);
      count[x] = std::int32_t(t.count[x]);
      for (std::int64_t j = 0; j < t.count[x]; ++j)
        weights[x * std::size_t(padded) + std::size_t(first[x] + j)] = W(taps_weights[x * std::size_t(t.width) + std::size_t(j)]);
    }
  }
};

// A horizontal pass through a SIMD row kernel, channel by channel: an interleaved row is split
// into planes first; row(src_plane, dst, step) makes one channel's outputs. With `interleave`
// (interleave(planes, out_w, ch, dst)), the channels' outputs go to planes too (step 1), and
// the row is interleaved once at its end.
template <typename T, typename Deinterleave, typename Row, typename Interleave = std::nullptr_t>
void planar_rows(const T* in, T* out, const Geometry& g, std::int64_t out_w, std::int64_t cost, Deinterleave deinterleave,
                 Row row, Interleave interleave = nullptr) {
  const std::int64_t ch = g.ch;
  constexpr bool kInterleave = !std::is_same_v<Interleave, std::nullptr_t>;
  at::parallel_for(0, g.planes * g.h, grain(out_w * ch * cost), [&](std::int64_t r0, std::int64_t r1) {
    // (not zeroed: written first)
    const std::unique_ptr<T[]> planes(ch > 1 ? new T[std::size_t(g.row())] : nullptr);
    const std::unique_ptr<T[]> outs(kInterleave && ch > 1 ? new T[std::size_t(out_w * ch)] : nullptr);
    for (std::int64_t r = r0; r < r1; ++r) {
      const T* src = in + r * g.row();
      T* dst = out + r * out_w * ch;
      if (ch > 1) {
        deinterleave(src, g.w, ch, planes.get());
        src = planes.get();
      }
      if constexpr (kInterleave) {
        if (ch > 1) {
          for (std::int64_t c = 0; c < ch; ++c) row(src + c * g.w, outs.get() + c * out_w, 1);
          interleave(outs.get(), out_w, ch, dst);
          continue;
        }
      }
      for (std::int64_t c = 0; c < ch; ++c) row(src + c * g.w, dst + c, ch);
    }
  });
}

void horizontal(const std::uint8_t* in, std::uint8_t* out, const Geometry& g, std::int64_t out_w, const Taps& t) {
  const FixedTaps f = to_fixed(t);
  const std::int64_t rows = g.planes * g.h, ch = g.ch, width = t.width;
  const std::int32_t half = 1 << (f.precision - 1);
  const std::int64_t lanes = HWY_DYNAMIC_DISPATCH(I16Lanes)();
  const std::int64_t padded = (width + lanes - 1) / lanes * lanes;
  if (padded <= g.w) {
    const PaddedWindows<std::int16_t, std::int16_t> win(t, f.weights, g.w, padded);
    planar_rows(in, out, g, out_w, padded, HWY_DYNAMIC_DISPATCH(DeinterleaveRowU8),
                [&](const std::uint8_t* src, std::uint8_t* dst, std::int64_t /*step: 1, rows are interleaved after*/) {
                  HWY_DYNAMIC_DISPATCH(HorizontalRowU8)(src, dst, out_w, win.start.data(), win.weights.data(), padded,
                                                        f.precision);
                },
                HWY_DYNAMIC_DISPATCH(InterleaveRowU8));
    return;
  }
  at::parallel_for(0, rows, grain(out_w * ch * width), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::uint8_t* src = in + r * g.row();
      std::uint8_t* dst = out + r * out_w * ch;
      for (std::int64_t x = 0; x < out_w; ++x) {
        const std::int16_t* w = &f.weights[std::size_t(x * width)];
        const std::uint8_t* s = src + t.start[x] * ch;
        for (std::int64_t c = 0; c < ch; ++c) {
          std::int32_t sum = half;
          for (std::int64_t j = 0; j < t.count[x]; ++j) sum += std::int32_t(s[j * ch + c]) * w[j];
          dst[x * ch + c] = round_fixed(sum, f.precision);
        }
      }
    }
  });
}

// float32 rows through the SIMD kernel, channel by channel (interleaved rows split into planes
// first), windows padded and kept inside the row as the uint8 pass's; rows narrower than a
// padded window take the scalar template.
void horizontal(const float* in, float* out, const Geometry& g, std::int64_t out_w, const Taps& t) {
  const std::int64_t width = t.width;
  const std::int64_t lanes = HWY_DYNAMIC_DISPATCH(F32Lanes)();
  const std::int64_t padded = (width + lanes - 1) / lanes * lanes;
  if (padded > g.w) {
    horizontal<float>(in, out, g, out_w, t);
    return;
  }
  const PaddedWindows<float, double> win(t, t.weights, g.w, padded);
  planar_rows(in, out, g, out_w, padded, HWY_DYNAMIC_DISPATCH(DeinterleaveRowF32),
              [&](const float* src, float* dst, std::int64_t step) {
                HWY_DYNAMIC_DISPATCH(HorizontalRowF32)(src, g.w, dst, step, out_w, win.start.data(), win.first.data(),
                                                       win.count.data(), win.weights.data(), padded);
              });
}

// Vertical pass: out[p][y] = sum_j w[y][j] * in[p][start[y] + j], whole rows at a time.
template <typename T>
void vertical(const T* in, T* out, const Geometry& g, std::int64_t out_h, const Taps& t) {
  const std::int64_t n = g.row(), width = t.width;
  at::parallel_for(0, g.planes * out_h, grain(n * width), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t p = i / out_h, y = i % out_h;
      const double* w = &t.weights[std::size_t(y * width)];
      const T* src = in + p * g.plane() + t.start[y] * n;
      T* dst = out + i * n;
      const T w0 = T(w[0]);
      for (std::int64_t k = 0; k < n; ++k) dst[k] = src[k] * w0;
      for (std::int64_t j = 1; j < t.count[y]; ++j) {
        const T wj = T(w[j]);
        const T* s = src + j * n;
        for (std::int64_t k = 0; k < n; ++k) dst[k] += s[k] * wj;
      }
    }
  });
}

void vertical(const std::uint8_t* in, std::uint8_t* out, const Geometry& g, std::int64_t out_h, const Taps& t) {
  const FixedTaps f = to_fixed(t);
  const std::int64_t n = g.row(), width = t.width;
  at::parallel_for(0, g.planes * out_h, grain(n * width), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t p = i / out_h, y = i % out_h;
      HWY_DYNAMIC_DISPATCH(VerticalRowU8)(in + p * g.plane() + t.start[y] * n, n, t.count[y],
                                          &f.weights[std::size_t(y * width)], out + i * n, n, f.precision);
    }
  });
}

void vertical(const float* in, float* out, const Geometry& g, std::int64_t out_h, const Taps& t) {
  const std::int64_t n = g.row(), width = t.width;
  std::vector<float> w(t.weights.size());
  std::transform(t.weights.begin(), t.weights.end(), w.begin(), [](double v) { return float(v); });
  at::parallel_for(0, g.planes * out_h, grain(n * width), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t p = i / out_h, y = i % out_h;
      HWY_DYNAMIC_DISPATCH(VerticalRowF32)(in + p * g.plane() + t.start[y] * n, n, t.count[y],
                                           &w[std::size_t(y * width)], out + i * n, n);
    }
  });
}

template <typename T>
void nearest(const T* in, T* out, const Geometry& g, std::int64_t out_h, std::int64_t out_w, bool exact) {
  const auto kernel = detail::cpu_nearest_kernel(c10::CppTypeToScalarType<T>::value, g.ch, g.ch > 1, out_h, out_w);
  const auto ys = detail::nearest_indices(g.h, out_h, exact, kernel), xs = detail::nearest_indices(g.w, out_w, exact, kernel);
  const std::int64_t ch = g.ch;
  at::parallel_for(0, g.planes * out_h, grain(out_w * ch), [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t p = i / out_h, y = i % out_h;
      const T* src = in + p * g.plane() + ys[std::size_t(y)] * g.row();
      T* dst = out + i * out_w * ch;
      for (std::int64_t x = 0; x < out_w; ++x)
        for (std::int64_t c = 0; c < ch; ++c) dst[x * ch + c] = src[xs[std::size_t(x)] * ch + c];
    }
  });
}

template <typename T>
void resample(const T* in, T* out, const Geometry& g, std::int64_t out_h, std::int64_t out_w,
              Interpolation mode, bool antialias) {
  if (mode == Interpolation::nearest || mode == Interpolation::nearest_exact) {
    nearest(in, out, g, out_h, out_w, mode == Interpolation::nearest_exact);
    return;
  }
  const auto dtype = c10::CppTypeToScalarType<T>::value;
  const auto taps = [&](std::int64_t in, std::int64_t out) { return detail::compute_taps(in, out, mode, antialias, dtype); };
  const bool across = out_w != g.w, down = out_h != g.h;
  if (across && down) {
    // The horizontal pass's output, not zeroed (a serial memset, 726 KB for a 1080p photo to
    // 224): every value is written before it is read.
    const std::unique_ptr<T[]> tmp(new T[std::size_t(g.planes * g.h * out_w * g.ch)]);
    horizontal(in, tmp.get(), g, out_w, taps(g.w, out_w));
    vertical(tmp.get(), out, Geometry{g.planes, g.h, out_w, g.ch}, out_h, taps(g.h, out_h));
  } else if (across) {
    horizontal(in, out, g, out_w, taps(g.w, out_w));
  } else if (down) {
    vertical(in, out, g, out_h, taps(g.h, out_h));
  } else {
    std::copy(in, in + g.planes * g.plane(), out);
  }
}

at::Tensor resize_cpu(const at::Tensor& image, c10::IntArrayRef size, c10::string_view interpolation, bool antialias) {
  detail::check_resize_args("tvx.resize", image, size);
  const Interpolation mode = detail::parse_interpolation("tvx.resize", interpolation);
  const bool gather = mode == Interpolation::nearest || mode == Interpolation::nearest_exact;
  const auto dtype = image.scalar_type();
  const std::int64_t c = image.size(-3), h = image.size(-2), w = image.size(-1), oh = size[0], ow = size[1];
  std::vector<std::int64_t> out_shape(image.sizes().begin(), image.sizes().end() - 2);
  out_shape.insert(out_shape.end(), {oh, ow});
  if (image.numel() == 0)
    return at::empty(out_shape, image.options());
  const at::Tensor x = image.reshape({-1, c, h, w});
  const std::int64_t n = x.size(0);
  // Channels interleaved in memory (channels_last, or a CHW view of HWC data) stay so.
  const bool interleaved = c > 1 && x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
  const auto format = interleaved ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  const at::Tensor in = interleaved ? x : x.contiguous();
  at::Tensor out = at::empty({n, c, oh, ow}, image.options().memory_format(format));
  if (out.numel() == 0) return out.view(out_shape);
  const Geometry g = interleaved ? Geometry{n, h, w, c} : Geometry{n * c, h, w, 1};
  // float16 and bfloat16 resample in float32, as torchvision casts them (nearest copies them);
  // so does uint8 bilinear where torchvision has no native uint8 path (it rounds the result).
  const bool via_float = !gather && (dtype == at::kHalf || dtype == at::kBFloat16 ||
                                     (dtype == at::kByte && !detail::native_uint8_resize(mode)));
  if (via_float) {
    const at::Tensor fin = in.to(at::kFloat, /*non_blocking=*/false, /*copy=*/false, format);
    at::Tensor fout = at::empty({n, c, oh, ow}, out.options().dtype(at::kFloat).memory_format(format));
    resample(fin.const_data_ptr<float>(), fout.mutable_data_ptr<float>(), g, oh, ow, mode, antialias);
    if (dtype == at::kByte) fout.clamp_(0, 255).round_();
    out.copy_(fout);
    return out.view(out_shape);
  }
  AT_DISPATCH_SWITCH(dtype, "tvx.resize",
                     AT_DISPATCH_CASE(at::kByte, [&] { resample(in.const_data_ptr<std::uint8_t>(),
                                                                out.mutable_data_ptr<std::uint8_t>(), g, oh, ow, mode,
                                                                antialias); })
                     AT_DISPATCH_CASE(at::kFloat, [&] { resample(in.const_data_ptr<float>(),
                                                                 out.mutable_data_ptr<float>(), g, oh, ow, mode,
                                                                 antialias); })
                     AT_DISPATCH_CASE(at::kDouble, [&] { resample(in.const_data_ptr<double>(),
                                                                  out.mutable_data_ptr<double>(), g, oh, ow, mode,
                                                                  antialias); })
                     AT_DISPATCH_CASE(at::kHalf, [&] { nearest(in.const_data_ptr<at::Half>(),
                                                               out.mutable_data_ptr<at::Half>(), g, oh, ow,
                                                               mode == Interpolation::nearest_exact); })
                     AT_DISPATCH_CASE(at::kBFloat16, [&] { nearest(in.const_data_ptr<at::BFloat16>(),
                                                                   out.mutable_data_ptr<at::BFloat16>(), g, oh, ow,
                                                                   mode == Interpolation::nearest_exact); }));
  return out.view(out_shape);
}

std::vector<at::Tensor> resize_list_cpu(at::TensorList images, c10::IntArrayRef sizes, c10::string_view interpolation,
                                        bool antialias) {
  detail::parse_interpolation("tvx.resize_list", interpolation);
  detail::check_resize_list_args(images, sizes);
  std::vector<at::Tensor> out;
  out.reserve(images.size());
  for (std::size_t i = 0; i < images.size(); ++i)  // each image on all threads
    out.push_back(resize_cpu(images[i], sizes.slice(2 * i, 2), interpolation, antialias));
  return out;
}

}  // namespace

bool detail::native_uint8_resize(Interpolation mode) {
  if (mode != Interpolation::bilinear) return true;
  static const bool native = [] {  // ATen reads it once too (ATEN_CPU_CAPABILITY, the CPU)
    const std::string cap = at::get_cpu_capability();
    return cap == "AVX2" || cap == "AVX512";
  }();
  return native;
}

void detail::resample_u8(const std::uint8_t* in, std::int64_t planes, std::int64_t h, std::int64_t w, std::int64_t ch,
                         const Taps& ty, const Taps& tx, std::uint8_t* out) {
  const std::int64_t oh = std::int64_t(ty.start.size()), ow = std::int64_t(tx.start.size());
  if (oh == 0 || ow == 0 || planes == 0) return;
  // Only the input rows the output rows read go through the horizontal pass.
  std::int64_t y0 = h, y1 = 0;
  for (std::int64_t i = 0; i < oh; ++i) {
    y0 = std::min(y0, ty.start[i]);
    y1 = std::max(y1, ty.start[i] + ty.count[i]);
  }
  const Geometry g{planes, h, w, ch};
  std::vector<std::uint8_t> tmp(static_cast<std::size_t>(planes * (y1 - y0) * ow * ch));
  for (std::int64_t p = 0; p < planes; ++p)
    horizontal(in + p * g.plane() + y0 * g.row(), tmp.data() + p * (y1 - y0) * ow * ch, Geometry{1, y1 - y0, w, ch}, ow,
               tx);
  Taps shifted = ty;
  for (auto& s : shifted.start) s -= y0;
  vertical(tmp.data(), out, Geometry{planes, y1 - y0, ow, ch}, oh, shifted);
}

TVX_LIBRARY_IMPL(CPU, m) {
  m.impl("resize", &resize_cpu);
  m.impl("resize_list", &resize_list_cpu);
}

}  // namespace tvx::transforms
#endif  // HWY_ONCE
