// roi_align and ps_roi_align on CUDA, float32/float64/float16/bfloat16 (reduced precision
// read natively, accumulated in float32). Forward: one thread per output value, 4 loads and
// 4 multiply-adds per sample, reading the input through its strides; with channels_last
// input, neighbouring threads take neighbouring channels so their loads coalesce. Backward
// (see roi_cuda.cuh): by default with atomics, roi_align's one thread per (RoI, bin, 1 to 4
// channels) into the channels-last sum, ps_roi_align's into NCHW by bands of rows (see
// PsAlignBand); deterministic, each (RoI, bin)
// lists its samples' corners as entries for core's ordered scatter: E = K * PH * PW *
// samples * 4 entries, no atomics.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/cumsum.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/zeros.h>

#include <limits>

#include "core/cuda.cuh"
#include "core/registration.h"
#include "ops/roi/roi.h"
#include "ops/roi/roi_cuda.cuh"

namespace tvx::ops::roi {
namespace {

namespace cu = tvx::core::cuda;
using cuda::Shape;
using cuda::work_item;

template <typename scalar_t, typename T, typename index_t, bool PS, bool ChannelsLast, int kChannels>
__global__ void align_forward_kernel(const scalar_t* __restrict__ input, const T* __restrict__ rois, Shape s, T scale,
                                     std::int64_t sampling_ratio, bool aligned, scalar_t* __restrict__ output,
                                     std::int32_t* __restrict__ mapping, index_t total) {
  for (std::int64_t i64 : cu::grid_stride(total)) {
    index_t r, c0, ph, pw;
    work_item<kChannels, index_t, PS, ChannelsLast>(static_cast<index_t>(i64), s, r, c0, ph, pw);
    const int nc = s.c_out - c0 < kChannels ? static_cast<int>(s.c_out - c0) : kChannels;
    const AlignRoi<T> a = align_roi(rois + 5 * std::int64_t(r), scale, s.ph, s.pw, sampling_ratio, aligned, PS);
    const std::int64_t c_in = PS ? ps_channel(c0, ph, pw, s.ph, s.pw) : c0;
    // Output and input channel steps between the item's channels.
    const std::int64_t o = ((std::int64_t(r) * s.c_out + c0) * s.ph + ph) * s.pw + pw, o_step = s.ph * s.pw;
    const std::int64_t in_step = (PS ? s.ph * s.pw : 1) * s.sc;
    const bool in_batch = cuda::valid_batch(rois + 5 * std::int64_t(r), s.n);
    const scalar_t* plane = input + (in_batch ? a.batch : 0) * s.sn + c_in * s.sc;
    T sum[kChannels] = {};
    for (int iy = 0; iy < a.grid_h; ++iy) {
      const Axis<T> y = axis(sample_coord(a.start_h, a.bin_h, a.grid_h, ph, iy), s.h);
      if (!y.valid || !in_batch) continue;
      const std::int64_t yl = y.lo * s.sh, yh = y.hi * s.sh;
      for (int ix = 0; ix < a.grid_w; ++ix) {
        const Axis<T> x = axis(sample_coord(a.start_w, a.bin_w, a.grid_w, pw, ix), s.w);
        if (!x.valid) continue;
        const std::int64_t xl = x.lo * s.sw, xh = x.hi * s.sw;
#pragma unroll
        for (int q = 0; q < kChannels; ++q) {
          if (q >= nc) break;
          const scalar_t* p = plane + q * in_step;
          sum[q] += y.w_lo * (x.w_lo * static_cast<T>(p[yl + xl]) + x.w_hi * static_cast<T>(p[yl + xh])) +
                    y.w_hi * (x.w_lo * static_cast<T>(p[yh + xl]) + x.w_hi * static_cast<T>(p[yh + xh]));
        }
      }
    }
#pragma unroll
    for (int q = 0; q < kChannels; ++q) {
      if (q >= nc) break;
      output[o + q * o_step] = static_cast<scalar_t>(sum[q] / a.count);
      if (PS) mapping[o + q * o_step] = static_cast<std::int32_t>(c_in + q * s.ph * s.pw);
    }
  }
}

// f(pixel y * W + x, weight) for the 4 corners of each sample of bin (ph, pw) that lies in
// the image, in torchvision's order.
template <typename T, typename F>
__device__ inline void for_each_corner(const AlignRoi<T>& a, std::int64_t ph, std::int64_t pw, const Shape& s, F&& f) {
  for (int iy = 0; iy < a.grid_h; ++iy) {
    const Axis<T> y = axis(sample_coord(a.start_h, a.bin_h, a.grid_h, ph, iy), s.h);
    if (!y.valid) continue;
    for (int ix = 0; ix < a.grid_w; ++ix) {
      const Axis<T> x = axis(sample_coord(a.start_w, a.bin_w, a.grid_w, pw, ix), s.w);
      if (!x.valid) continue;
      f(y.lo * s.w + x.lo, y.w_lo * x.w_lo);
      f(y.lo * s.w + x.hi, y.w_lo * x.w_hi);
      f(y.hi * s.w + x.lo, y.w_hi * x.w_lo);
      f(y.hi * s.w + x.hi, y.w_hi * x.w_hi);
    }
  }
}

// roi_align's default backward: thread i = (RoI, bin, channels c .. c + V - 1) of grad_cl
// [K, PH, PW, C] adds grad * weight / count at each sample's 4 corners into the channels-last
// sum [N, H, W, C] (see roi_cuda.cuh), one V-wide atomic each: a warp's atomics cover 32 * V
// consecutive channels.
template <int V, typename grad_t, typename T, typename index_t>
__global__ void align_backward_atomic(const grad_t* __restrict__ grad_cl, const T* __restrict__ rois, Shape s,
                                      T scale, std::int64_t sampling_ratio, bool aligned, T* __restrict__ sum,
                                      index_t total) {
  const index_t vectors = static_cast<index_t>(s.c_out / V), bins = static_cast<index_t>(s.ph * s.pw);
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const index_t i = static_cast<index_t>(i64), t = i / vectors;
    const index_t c = (i % vectors) * V, bin = t % bins, r = t / bins;
    const index_t ph = bin / static_cast<index_t>(s.pw), pw = bin % static_cast<index_t>(s.pw);
    const AlignRoi<T> a = align_roi(rois + 5 * std::int64_t(r), scale, s.ph, s.pw, sampling_ratio, aligned, false);
    if (!cuda::valid_batch(rois + 5 * std::int64_t(r), s.n)) continue;
    T g[V];
#pragma unroll
    for (int q = 0; q < V; ++q) g[q] = static_cast<T>(grad_cl[std::int64_t(i) * V + q]) / a.count;
    T* const image = sum + a.batch * s.h * s.w * s.c_out + c;
    for_each_corner(a, ph, pw, s, [&](std::int64_t pixel, T weight) {
      T v[V];
#pragma unroll
      for (int q = 0; q < V; ++q) v[q] = g[q] * weight;
      cuda::atomic_add<V>(image + pixel * s.c_out, v);
    });
  }
}

// ps_roi_align's band sum (see cuda::band_backward): a thread per listed RoI (all K without
// lists) adds grad * weight / count at the corners of its bin's samples (the band's channel's
// bin) that lie in the band's rows [y0, y1), as for_each_corner, at (y - y0) * W + x. The
// RoI's gradient is read only once one of its samples reaches the band.
template <typename grad_t, typename T>
struct PsAlignBand {
  const grad_t* grad;
  const T* rois;
  cuda::RoiList list;
  Shape s;
  T scale;
  std::int64_t sampling_ratio;

  __device__ void operator()(const cuda::Band& band, T* sum) const {
    const std::int64_t bins = s.ph * s.pw, c = band.channel / bins, bin = band.channel % bins;
    const std::int64_t ph = bin / s.pw, pw = bin % s.pw, listed = list.size(band);
    for (std::int64_t e = threadIdx.x; e < listed; e += blockDim.x) {
      const std::int64_t r = list.roi(band, e);
      if (!cuda::in_band_batch(rois, r, s, band)) continue;
      const AlignRoi<T> a = align_roi(rois + 5 * r, scale, s.ph, s.pw, sampling_ratio, true, true);
      T g = T(0);
      bool read = false;
      for (int iy = 0; iy < a.grid_h; ++iy) {
        const Axis<T> y = axis(sample_coord(a.start_h, a.bin_h, a.grid_h, ph, iy), s.h);
        const bool lo = y.lo >= band.y0 && y.lo < band.y1, hi = y.hi >= band.y0 && y.hi < band.y1;
        if (!y.valid || !(lo || hi)) continue;
        if (!read) g = static_cast<T>(grad[(r * s.c_out + c) * bins + bin]) / a.count, read = true;
        T* const row_lo = sum + (y.lo - band.y0) * s.w;
        T* const row_hi = sum + (y.hi - band.y0) * s.w;
        for (int ix = 0; ix < a.grid_w; ++ix) {
          const Axis<T> x = axis(sample_coord(a.start_w, a.bin_w, a.grid_w, pw, ix), s.w);
          if (!x.valid) continue;
          if (lo) {
            atomicAdd(row_lo + x.lo, g * (y.w_lo * x.w_lo));
            atomicAdd(row_lo + x.hi, g * (y.w_lo * x.w_hi));
          }
          if (hi) {
            atomicAdd(row_hi + x.lo, g * (y.w_hi * x.w_lo));
            atomicAdd(row_hi + x.hi, g * (y.w_hi * x.w_hi));
          }
        }
      }
    }
  }
};

// ps_roi_align's RoI rows, for the band lists (cuda::band_rois): its samples lie between
// start_h and start_h + PH * bin_h, and a sample at y reaches rows floor(y) and floor(y) + 1
// (axis). The span is widened by a row and by the coordinates' rounding (a few ulps of
// their magnitude), so that it holds every sample as sample_coord computes it; a NaN
// coordinate gives every row. (The widening is a margin: with the grid's caps a bin's
// outermost samples lie half a sample step inside the span, more than the rounding.)
template <typename T>
struct PsAlignRows {
  Shape s;
  T scale;
  std::int64_t sampling_ratio;
  __device__ cuda::RowSpan operator()(const T* roi) const {
    const AlignRoi<T> a = align_roi(roi, scale, s.ph, s.pw, sampling_ratio, true, true);
    const T end = a.start_h + static_cast<T>(s.ph) * a.bin_h;
    if (end != end || a.start_h != a.start_h) return {0, s.h};
    const T slack =
        T(1) + T(16) * std::numeric_limits<T>::epsilon() * (TVX_ROI_MATH(fabs)(a.start_h) + TVX_ROI_MATH(fabs)(end));
    const T top = TVX_ROI_MATH(fmin)(a.start_h, end) - slack, bottom = TVX_ROI_MATH(fmax)(a.start_h, end) + slack;
    // Clamped to [-2, H + 2] before the conversion (fmax takes -2 for NaN: inf - inf).
    const T n = static_cast<T>(s.h);
    auto row = [n](T y) {
      return static_cast<std::int64_t>(TVX_ROI_MATH(floor)(TVX_ROI_MATH(fmin)(TVX_ROI_MATH(fmax)(y, T(-2)), n + 2)));
    };
    return {row(top), row(bottom) + 2};
  }
};

// Entries per RoI: PH * PW * samples * 4 corners.
template <typename T>
__global__ void align_entry_counts(const T* __restrict__ rois, std::int64_t k, std::int64_t ph, std::int64_t pw,
                                   T scale, std::int64_t sampling_ratio, bool aligned, bool ps,
                                   std::int64_t* __restrict__ counts) {
  for (std::int64_t r : cu::grid_stride(k)) {
    const AlignRoi<T> a = align_roi(rois + 5 * r, scale, ph, pw, sampling_ratio, aligned, ps);
    const std::int64_t samples = a.grid_h > 0 && a.grid_w > 0 ? std::int64_t(a.grid_h) * a.grid_w : 0;
    counts[r] = ph * pw * samples * 4;
  }
}

// One thread per (RoI, bin) of RoIs [first, first + k): its samples' corners, in the order
// torchvision adds them. Groups: 1 (roi_align) or PH * PW, one per bin (ps_roi_align).
template <typename T, typename key_t>
__global__ void align_entries(const T* __restrict__ rois, std::int64_t first, std::int64_t k, Shape s,
                              T scale, std::int64_t sampling_ratio, bool aligned,
                              bool ps, const std::int64_t* __restrict__ offsets, std::int64_t base,
                              key_t* __restrict__ keys, std::int64_t* __restrict__ source, T* __restrict__ weight) {
  const std::int64_t bins = s.ph * s.pw, groups = ps ? bins : 1, plane = s.h * s.w;
  for (std::int64_t i : cu::grid_stride(k * bins)) {
    const std::int64_t r = first + i / bins, bin = i % bins, ph = bin / s.pw, pw = bin % s.pw;
    const AlignRoi<T> a = align_roi(rois + 5 * r, scale, s.ph, s.pw, sampling_ratio, aligned, ps);
    const std::int64_t samples = a.grid_h > 0 && a.grid_w > 0 ? std::int64_t(a.grid_h) * a.grid_w : 0;
    std::int64_t e = offsets[r] - base + bin * samples * 4;
    // grad[r, 0, ph, pw] in the chunk's gradient with channels last (see align_backward).
    const std::int64_t src = ((r - first) * bins + bin) * s.c_out;
    const bool in_batch = cuda::valid_batch(rois + 5 * r, s.n);
    const std::int64_t key_base = ((in_batch ? a.batch : 0) * groups + (ps ? bin : 0)) * plane;
    for (int iy = 0; iy < a.grid_h; ++iy) {
      const Axis<T> y = axis(sample_coord(a.start_h, a.bin_h, a.grid_h, ph, iy), s.h);
      for (int ix = 0; ix < a.grid_w; ++ix) {
        const Axis<T> x = axis(sample_coord(a.start_w, a.bin_w, a.grid_w, pw, ix), s.w);
        const bool valid = in_batch && y.valid && x.valid;
        const std::int64_t py[4] = {y.lo, y.lo, y.hi, y.hi}, px[4] = {x.lo, x.hi, x.lo, x.hi};
        const T w[4] = {y.w_lo * x.w_lo, y.w_lo * x.w_hi, y.w_hi * x.w_lo, y.w_hi * x.w_hi};
        for (int corner = 0; corner < 4; ++corner, ++e) {
          keys[e] = valid ? static_cast<key_t>(key_base + py[corner] * s.w + px[corner]) : key_t(-1);
          source[e] = src;
          weight[e] = w[corner] / a.count;
        }
      }
    }
  }
}

template <typename index_t, bool PS, bool ChannelsLast, int Channels, typename scalar_t, typename T>
void launch_forward(const at::Tensor& input, const at::Tensor& rois, const Shape& s, T scale,
                    std::int64_t sampling_ratio, bool aligned, at::Tensor& output, at::Tensor& mapping) {
  constexpr int kChannels = Channels;
  const std::int64_t total = s.k * s.ph * s.pw * cu::ceil_div<std::int64_t>(s.c_out, kChannels);
  cu::launch(align_forward_kernel<scalar_t, T, index_t, PS, ChannelsLast, kChannels>, cu::blocks_for(total, 256), 256, 0,
             input.const_data_ptr<scalar_t>(), rois.const_data_ptr<T>(), s, scale, sampling_ratio, aligned,
             output.data_ptr<scalar_t>(), PS ? mapping.data_ptr<std::int32_t>() : nullptr,
             static_cast<index_t>(total));
}

std::tuple<at::Tensor, at::Tensor> align_forward(const char* op, const at::Tensor& input, const at::Tensor& rois,
                                                 double spatial_scale, std::int64_t ph, std::int64_t pw,
                                                 std::int64_t sampling_ratio, bool aligned, bool ps) {
  check_forward(op, input, rois, spatial_scale, ph, pw, ps);
  check_sampling_ratio(op, sampling_ratio);
  cu::DeviceGuard guard(input);
  const std::int64_t k = rois.size(0), channels = input.size(1);
  const std::int64_t c_out = ps ? channels / (ph * pw) : channels;
  at::Tensor output = at::empty({k, c_out, ph, pw}, input.options());
  at::Tensor mapping =
      at::empty(ps ? at::IntArrayRef{k, c_out, ph, pw} : at::IntArrayRef{0}, input.options().dtype(at::kInt));
  if (output.numel() == 0) return {output, mapping};
  const Shape s{input.size(0), input.size(2), input.size(3), input.stride(0), input.stride(1), input.stride(2),
                input.stride(3), k, c_out, ph, pw};
  // Channels-last order pays when channels are adjacent in memory.
  const bool channels_last = input.stride(1) == 1 && channels > 1;
  const bool small = output.numel() < std::numeric_limits<std::int32_t>::max();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_roi_align_cuda", [&] {
    using T = at::opmath_type<scalar_t>;
    const at::Tensor r = rois_for(rois, input.scalar_type());
    const T scale = static_cast<T>(spatial_scale);
    cuda::for_layout(ps, channels_last, small, [&](auto ps_tag, auto cl_tag, auto index_type) {
      constexpr bool PS = decltype(ps_tag)::value;
      launch_forward<decltype(index_type), PS, decltype(cl_tag)::value, PS ? 1 : 4, scalar_t>(
          input, r, s, scale, sampling_ratio, aligned, output, mapping);
    });
  });
  return {output, mapping};
}

at::Tensor align_backward(const char* op, const at::Tensor& grad_arg, const at::Tensor& rois, double spatial_scale,
                          std::int64_t ph, std::int64_t pw, std::int64_t batch_size, std::int64_t channels,
                          std::int64_t height, std::int64_t width, std::int64_t sampling_ratio, bool aligned,
                          bool ps) {
  check_backward(op, grad_arg, rois, spatial_scale, ph, pw, batch_size, channels, height, width, ps);
  check_sampling_ratio(op, sampling_ratio);
  cu::DeviceGuard guard(grad_arg);
  const std::int64_t k = rois.size(0), c_out = grad_arg.size(1), bins = ph * pw;
  const std::int64_t groups = ps ? bins : 1;
  const Shape s{batch_size, height, width, 0, 0, 0, 0, k, c_out, ph, pw};
  const bool atomic = cuda::atomic_backward();
  if (atomic && !ps && grad_arg.numel() > 0 && batch_size * channels * height * width > 0) {
    at::Tensor sum = cuda::channels_last_sum(grad_arg, batch_size, channels, height, width);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_arg.scalar_type(), "tvx_roi_align_backward", [&] {
      using T = at::opmath_type<scalar_t>;
      const at::Tensor r = rois_for(rois, grad_arg.scalar_type());
      const at::Tensor grad_cl = cuda::channels_last(grad_arg);  // a (RoI, bin)'s channels adjacent
      cuda::for_atomic_width(sum, [&](auto width_tag) {
        constexpr int V = decltype(width_tag)::value;
        const std::int64_t total = k * bins * (c_out / V);
        auto launch = [&](auto index_type) {
          using index_t = decltype(index_type);
          cu::launch(align_backward_atomic<V, scalar_t, T, index_t>, cu::blocks_for(total, 256), 256, 0,
                     grad_cl.const_data_ptr<scalar_t>(), r.const_data_ptr<T>(), s, static_cast<T>(spatial_scale),
                     sampling_ratio, aligned, sum.mutable_data_ptr<T>(), static_cast<index_t>(total));
        };
        total < std::numeric_limits<std::int32_t>::max() ? launch(std::int32_t{}) : launch(std::int64_t{});
      });
    });
    at::Tensor grad_input = cuda::from_channels_last(sum, grad_arg.scalar_type());
    return grad_input;
  }
  const at::Tensor grad = grad_arg.contiguous();
  if (atomic && ps) {  // (roi_align's empty cases go on to the zeros below)
    at::Tensor sum = at::empty({batch_size, channels, height, width},
                               grad.options().dtype(at::toOpMathType(grad.scalar_type())));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_ps_roi_align_backward", [&] {
      using T = at::opmath_type<scalar_t>;
      const at::Tensor r = rois_for(rois, grad.scalar_type());
      const T scale = static_cast<T>(spatial_scale);
      // Each band's block walks the RoIs whose rows meet it (about a fifth on the bench's).
      const cuda::BandRois lists = cuda::band_rois<T>(r, s, cuda::band_layout<T>(s), PsAlignRows<T>{s, scale, sampling_ratio},
                                                      sum.nbytes());
      cuda::launch_bands<false, T>(s, channels, sum,
                                   PsAlignBand<scalar_t, T>{grad.const_data_ptr<scalar_t>(), r.const_data_ptr<T>(),
                                                            lists.view(), s, scale, sampling_ratio});
    });
    return sum.to(grad.scalar_type());
  }
  at::Tensor grad_input = grad_input_sum(grad_arg, batch_size, channels, height, width);
  const at::ScalarType acc = grad_input.scalar_type();
  if (grad_arg.numel() == 0 || grad_input.numel() == 0) {
    return grad_input.to(grad_arg.scalar_type());
  }
  const bool small_keys = batch_size * groups * height * width < std::numeric_limits<std::int32_t>::max();
  AT_DISPATCH_FLOATING_TYPES(acc, "tvx_roi_align_backward_cuda", [&] {
    using T = scalar_t;  // the accumulation type
    const at::Tensor r = rois_for(rois, grad.scalar_type());
    const T scale = static_cast<T>(spatial_scale);
    at::Tensor counts = at::empty({k}, grad.options().dtype(at::kLong));
    cu::launch(align_entry_counts<T>, cu::blocks_for(k, 256), 256, 0, r.const_data_ptr<T>(), k, ph, pw, scale,
               sampling_ratio, aligned, ps, counts.data_ptr<std::int64_t>());
    const at::Tensor offsets = at::sub(at::cumsum(counts, 0), counts);
    const cuda::Chunks chunks = cuda::plan_chunks(counts, c_out * bins * grad.element_size(), grad_input);
    for (std::size_t chunk = 0; chunk + 1 < chunks.first_roi.size(); ++chunk) {
      const std::int64_t first = chunks.first_roi[chunk], n_rois = chunks.first_roi[chunk + 1] - first;
      const std::int64_t base = chunks.first_entry[chunk], n = chunks.first_entry[chunk + 1] - base;
      if (n_rois == 0 || n == 0) continue;
      cuda::Entries entries{at::empty({n}, grad.options().dtype(small_keys ? at::kInt : at::kLong)),
                            at::empty({n}, grad.options().dtype(at::kLong)), at::empty({n}, grad.options().dtype(acc))};
      AT_DISPATCH_INDEX_TYPES(entries.key.scalar_type(), "tvx_roi_align_entries", [&] {
        cu::launch(align_entries<T, index_t>, cu::blocks_for(n_rois * bins, 128), 128, 0, r.const_data_ptr<T>(), first,
                   n_rois, s, scale, sampling_ratio, aligned, ps, offsets.const_data_ptr<std::int64_t>(), base,
                   entries.key.data_ptr<index_t>(), entries.source.data_ptr<std::int64_t>(),
                   entries.weight.data_ptr<T>());
      });
      // The chunk's gradient with channels last: an entry's channels are adjacent in memory.
      cuda::scatter_entries(entries, cuda::channels_last(grad.narrow(0, first, n_rois)), 1, grad_input, groups,
                            c_out, /*accumulate=*/chunk > 0);
    }
  });
  return grad_input.to(grad_arg.scalar_type());
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { AlignBackend<&align_forward, &align_backward>::define(m); }

}  // namespace tvx::ops::roi
