// roi_align and ps_roi_align on the CPU. Each RoI's sample rows and columns are computed
// once (bilinear weights are separable), then every output value is 4 loads and 4 multiply-
// adds per sample: O(K * C * PH * PW * samples), reading the input through its strides
// (channels_last and views need no copy). Forward runs on all cores: roi_align on
// channels_last input over (RoI, bin) pairs for all channels at once, vectorised; every other
// case over (RoI, block of up to 8 output channels) pairs, each sample's geometry shared by
// the block's planes (bench/RESULTS.md: per core this is what made it faster than
// torchvision's loop). Backward runs over input channels, each visiting
// the RoIs in order: no two threads write one value and the sums are those of torchvision's
// serial loop, bit for bit.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <vector>

#include "core/registration.h"
#include "ops/roi/roi.h"

namespace tvx::ops::roi {
namespace {

// Every RoI's geometry and its sample rows/columns, for all rois.
template <typename T>
struct AlignTables {
  std::vector<AlignRoi<T>> rois;
  std::vector<std::int64_t> y_begin, x_begin;  // RoI r's rows: ys[y_begin[r] + ph * grid_h + iy]
  std::vector<Axis<T>> ys, xs;

  AlignTables(const T* r, std::int64_t k, T scale, std::int64_t ph, std::int64_t pw, std::int64_t sampling_ratio,
              bool aligned, bool ps, std::int64_t height, std::int64_t width)
      : rois(k), y_begin(k), x_begin(k) {
    for (std::int64_t i = 0; i < k; ++i) {
      const AlignRoi<T> a = rois[i] = align_roi(r + 5 * i, scale, ph, pw, sampling_ratio, aligned, ps);
      y_begin[i] = static_cast<std::int64_t>(ys.size());
      x_begin[i] = static_cast<std::int64_t>(xs.size());
      for (std::int64_t p = 0; p < ph; ++p)
        for (int s = 0; s < a.grid_h; ++s) ys.push_back(axis(sample_coord(a.start_h, a.bin_h, a.grid_h, p, s), height));
      for (std::int64_t p = 0; p < pw; ++p)
        for (int s = 0; s < a.grid_w; ++s) xs.push_back(axis(sample_coord(a.start_w, a.bin_w, a.grid_w, p, s), width));
    }
  }
};

struct Strides {
  std::int64_t n, c, h, w;
  explicit Strides(const at::Tensor& t) : n(t.stride(0)), c(t.stride(1)), h(t.stride(2)), w(t.stride(3)) {}
};

// Calls f(y, x, w1, w2, w3, w4) for each valid sample of bin (ph, pw) of RoI r, in
// torchvision's order: its rows y.lo/y.hi and columns x.lo/x.hi, and the weights of the four
// pixels (y.lo, x.lo), (y.lo, x.hi), (y.hi, x.lo), (y.hi, x.hi).
template <typename T, typename F>
C10_ALWAYS_INLINE void for_each_sample(const AlignTables<T>& t, std::int64_t r, std::int64_t ph, std::int64_t pw,
                                       const F& f) {
  const AlignRoi<T>& a = t.rois[r];
  const Axis<T>* ys = t.ys.data() + t.y_begin[r] + ph * a.grid_h;
  const Axis<T>* xs = t.xs.data() + t.x_begin[r] + pw * a.grid_w;
  for (int iy = 0; iy < a.grid_h; ++iy) {
    const Axis<T>& y = ys[iy];
    if (!y.valid) continue;
    for (int ix = 0; ix < a.grid_w; ++ix) {
      const Axis<T>& x = xs[ix];
      if (!x.valid) continue;
      f(y, x, y.w_lo * x.w_lo, y.w_lo * x.w_hi, y.w_hi * x.w_lo, y.w_hi * x.w_hi);
    }
  }
}

// Width planes at once: bin (ph, pw) of RoI r in the planes image + plane_offset[q], q <
// Width, into sum[q], in torchvision's order (sum += w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4 a
// sample). A sample's geometry (validity, weights, offsets) is worked out once for all of them:
// one plane at a time it cost more instructions than the four loads and multiply-adds.
constexpr int kAlignChannels = 8;  // the widest block

template <int Width, typename scalar_t, typename T>
C10_ALWAYS_INLINE void bin_sums_planes(const scalar_t* image, const Strides& s, const std::int64_t* plane_offset,
                                       const AlignTables<T>& t, std::int64_t r, std::int64_t ph, std::int64_t pw,
                                       T* __restrict__ sum) {
  for (int q = 0; q < Width; ++q) sum[q] = T(0);
  for_each_sample(t, r, ph, pw, [&](const Axis<T>& y, const Axis<T>& x, T w1, T w2, T w3, T w4) {
    const std::int64_t o1 = y.lo * s.h + x.lo * s.w, o2 = y.lo * s.h + x.hi * s.w;
    const std::int64_t o3 = y.hi * s.h + x.lo * s.w, o4 = y.hi * s.h + x.hi * s.w;
    for (int q = 0; q < Width; ++q) {
      const scalar_t* p = image + plane_offset[q];
      sum[q] += w1 * static_cast<T>(p[o1]) + w2 * static_cast<T>(p[o2]) + w3 * static_cast<T>(p[o3]) +
                w4 * static_cast<T>(p[o4]);
    }
  });
}

// channels_last (NHWC) roi_align: bin (ph, pw) of RoI r for all C channels at once into
// sum[0, C): each sample's four pixels hold the channels side by side, so the inner loop runs
// over contiguous memory (vectorised). Per channel, the same operations in the same order as
// bin_sums_planes: the same values.
template <typename scalar_t, typename T>
void bin_sums_nhwc(const scalar_t* image, const Strides& s, std::int64_t channels, const AlignTables<T>& t,
                   std::int64_t r, std::int64_t ph, std::int64_t pw, T* __restrict__ sum) {
  std::fill(sum, sum + channels, T(0));
  for_each_sample(t, r, ph, pw, [&](const Axis<T>& y, const Axis<T>& x, T w1, T w2, T w3, T w4) {
    const scalar_t* __restrict__ p1 = image + y.lo * s.h + x.lo * s.w;
    const scalar_t* __restrict__ p2 = image + y.lo * s.h + x.hi * s.w;
    const scalar_t* __restrict__ p3 = image + y.hi * s.h + x.lo * s.w;
    const scalar_t* __restrict__ p4 = image + y.hi * s.h + x.hi * s.w;
    for (std::int64_t c = 0; c < channels; ++c)
      sum[c] += w1 * static_cast<T>(p1[c]) + w2 * static_cast<T>(p2[c]) + w3 * static_cast<T>(p3[c]) +
                w4 * static_cast<T>(p4[c]);
  });
}

// Adds g times bin (ph, pw)'s sample weights into one gradient plane (contiguous H x W).
template <typename T, typename acc_t>
void bin_scatter(acc_t* plane, std::int64_t width, const AlignTables<T>& t, std::int64_t r, std::int64_t ph,
                 std::int64_t pw, T g) {
  const T count = t.rois[r].count;
  for_each_sample(t, r, ph, pw, [&](const Axis<T>& y, const Axis<T>& x, T w1, T w2, T w3, T w4) {
    plane[y.lo * width + x.lo] += g * w1 / count;
    plane[y.lo * width + x.hi] += g * w2 / count;
    plane[y.hi * width + x.lo] += g * w3 / count;
    plane[y.hi * width + x.hi] += g * w4 / count;
  });
}

std::tuple<at::Tensor, at::Tensor> align_forward(const char* op, const at::Tensor& input, const at::Tensor& rois,
                                                 double spatial_scale, std::int64_t ph, std::int64_t pw,
                                                 std::int64_t sampling_ratio, bool aligned, bool ps) {
  check_forward(op, input, rois, spatial_scale, ph, pw, ps);
  check_sampling_ratio(op, sampling_ratio);
  const at::Tensor r = rois_for(rois, input.scalar_type());  // as the kernels read them
  check_batch_indices(op, r, input.size(0));
  const std::int64_t k = rois.size(0), channels = input.size(1);
  const std::int64_t c_out = ps ? channels / (ph * pw) : channels;
  at::Tensor output = at::empty({k, c_out, ph, pw}, input.options());
  at::Tensor mapping = at::empty(ps ? at::IntArrayRef{k, c_out, ph, pw} : at::IntArrayRef{0}, input.options().dtype(at::kInt));
  if (output.numel() == 0) return {output, mapping};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_roi_align_cpu", [&] {
    using T = at::opmath_type<scalar_t>;
    const AlignTables<T> tables(r.data_ptr<T>(), k, static_cast<T>(spatial_scale), ph, pw, sampling_ratio, aligned, ps,
                                input.size(2), input.size(3));
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    scalar_t* out = output.data_ptr<scalar_t>();
    std::int32_t* map = ps ? mapping.data_ptr<std::int32_t>() : nullptr;
    const Strides s(input);
    // Samples of a RoI, on average (sampling_ratio 0 adapts the grid to each RoI's size), for
    // the tasks' grain.
    std::int64_t grid = 0;
    for (const AlignRoi<T>& a : tables.rois) grid += std::int64_t(std::max(0, a.grid_h)) * std::max(0, a.grid_w);
    const std::int64_t samples = ph * pw * std::max<std::int64_t>(1, grid / k);
    if (!ps && s.c == 1 && channels > 1) {
      // channels_last: a task is one (RoI, bin) for all channels, vectorised across them.
      at::parallel_for(0, k * ph * pw, cpu_grain(samples / (ph * pw) * channels), [&](std::int64_t begin, std::int64_t end) {
        std::vector<T> sum(static_cast<std::size_t>(channels));
        for (std::int64_t i = begin; i < end; ++i) {
          const std::int64_t roi = i / (ph * pw), y = (i / pw) % ph, x = i % pw;
          bin_sums_nhwc(in + tables.rois[roi].batch * s.n, s, channels, tables, roi, y, x, sum.data());
          const T count = tables.rois[roi].count;
          for (std::int64_t c = 0; c < channels; ++c)
            out[((roi * channels + c) * ph + y) * pw + x] = static_cast<scalar_t>(sum[c] / count);
        }
      });
      return;
    }
    // Otherwise (NCHW, views, expanded input, ps_roi_align in any layout): a task is one RoI
    // in a block of up to kAlignChannels output channels, channel-block-major (a thread's
    // consecutive tasks read the same planes). A block narrower than 8 (fewer channels, or
    // the last block) takes 4, 2 or 1 planes at a time: a one-channel map (Mask R-CNN's mask
    // targets) does one plane's work. ps_roi_align's bin (y, x) of output channel c reads
    // input channel ps_channel(c, y, x): the block's planes then lie PH * PW channels apart.
    // Lanes past the block's channels read its first channel again and are not written.
    const std::int64_t blocks = (c_out + kAlignChannels - 1) / kAlignChannels;
    at::parallel_for(0, blocks * k, cpu_grain(samples * kAlignChannels), [&](std::int64_t begin, std::int64_t end) {
      T sum[kAlignChannels];
      std::int64_t c_in[kAlignChannels], plane_offset[kAlignChannels];
      for (std::int64_t i = begin; i < end; ++i) {
        const std::int64_t c0 = i / k * kAlignChannels, roi = i % k;
        const int nc = static_cast<int>(std::min<std::int64_t>(kAlignChannels, c_out - c0));
        const int width = nc > 4 ? 8 : nc > 2 ? 4 : nc;
        const AlignRoi<T>& a = tables.rois[roi];
        const scalar_t* image = in + a.batch * s.n;
        // The input channels bin (y, x) of the block reads: the same for every bin but ps_roi_align's.
        auto read_channels = [&](std::int64_t y, std::int64_t x) {
          for (int q = 0; q < width; ++q) {
            const std::int64_t c = c0 + (q < nc ? q : 0);
            c_in[q] = ps ? ps_channel(c, y, x, ph, pw) : c;
            plane_offset[q] = c_in[q] * s.c;
          }
        };
        if (!ps) read_channels(0, 0);
        for (std::int64_t y = 0; y < ph; ++y)
          for (std::int64_t x = 0; x < pw; ++x) {
            if (ps) read_channels(y, x);
            switch (width) {
              case 8: bin_sums_planes<8>(image, s, plane_offset, tables, roi, y, x, sum); break;
              case 4: bin_sums_planes<4>(image, s, plane_offset, tables, roi, y, x, sum); break;
              case 2: bin_sums_planes<2>(image, s, plane_offset, tables, roi, y, x, sum); break;
              default: bin_sums_planes<1>(image, s, plane_offset, tables, roi, y, x, sum); break;
            }
            for (int q = 0; q < nc; ++q) {
              const std::int64_t o = ((roi * c_out + c0 + q) * ph + y) * pw + x;
              out[o] = static_cast<scalar_t>(sum[q] / a.count);
              if (ps) map[o] = static_cast<std::int32_t>(c_in[q]);
            }
          }
      }
    });
  });
  return {output, mapping};
}

at::Tensor align_backward(const char* op, const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                          std::int64_t ph, std::int64_t pw, std::int64_t batch_size, std::int64_t channels,
                          std::int64_t height, std::int64_t width, std::int64_t sampling_ratio, bool aligned,
                          bool ps) {
  check_backward(op, grad, rois, spatial_scale, ph, pw, batch_size, channels, height, width, ps);
  check_sampling_ratio(op, sampling_ratio);
  const at::Tensor r = rois_for(rois, grad.scalar_type());  // as the kernels read them
  check_batch_indices(op, r, batch_size);
  at::Tensor grad_input = grad_input_sum(grad, batch_size, channels, height, width);
  if (grad.numel() == 0 || grad_input.numel() == 0) return grad_input.to(grad.scalar_type());
  const std::int64_t k = rois.size(0);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "tvx_roi_align_backward_cpu", [&] {
    using T = at::opmath_type<scalar_t>;
    const AlignTables<T> tables(r.data_ptr<T>(), k, static_cast<T>(spatial_scale), ph, pw, sampling_ratio, aligned, ps,
                                height, width);
    const scalar_t* g = grad.const_data_ptr<scalar_t>();
    const Strides gs(grad);
    T* gi = grad_input.data_ptr<T>();
    const std::int64_t plane = height * width;
    // Each task owns whole input channels: for ps ops one channel is one (c_out, ph, pw).
    at::parallel_for(0, channels, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t c = begin; c < end; ++c) {
        const std::int64_t oc = ps ? c / (ph * pw) : c;
        const std::int64_t y0 = ps ? (c / pw) % ph : 0, y1 = ps ? y0 + 1 : ph;
        const std::int64_t x0 = ps ? c % pw : 0, x1 = ps ? x0 + 1 : pw;
        for (std::int64_t roi = 0; roi < k; ++roi) {
          T* dst = gi + (tables.rois[roi].batch * channels + c) * plane;
          for (std::int64_t y = y0; y < y1; ++y)
            for (std::int64_t x = x0; x < x1; ++x)
              bin_scatter(dst, width, tables, roi, y, x,
                          static_cast<T>(g[roi * gs.n + oc * gs.c + y * gs.h + x * gs.w]));
        }
      }
    });
  });
  return grad_input.to(grad.scalar_type());
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) { AlignBackend<&align_forward, &align_backward>::define(m); }

}  // namespace tvx::ops::roi
