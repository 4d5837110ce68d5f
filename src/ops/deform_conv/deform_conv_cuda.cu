// deform_conv2d's kernels on CUDA: float32, float64, and float16/bfloat16 read natively and
// computed in float32.
// - im2col: one thread per (sample, block of 8 channels): the sample's position and corners
//   are computed once for its channels (torchvision recomputes them per channel), and
//   neighbouring threads take neighbouring columns, so their stores coalesce.
// - col2im: one thread per (sample, chunk of its offset group's channels), in one pass: the
//   input's gradient (atomics into a float32/float64 buffer), and the offset's and mask's
//   gradients summed in registers over the chunk's channels (torchvision runs two kernels,
//   the second with one thread per offset value looping over every channel). Chunks are
//   sized so that small inputs still fill the GPU; their partial sums are added in a fixed
//   order, so the offset and mask gradients are always deterministic.
// - Under torch.use_deterministic_algorithms(True), the input's gradient goes through the
//   ordered scatter of core/ordered_scatter.cuh instead of atomics: bitwise reproducible.
#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/sum.h>

#include <limits>

#include "core/cuda.cuh"
#include "core/ordered_scatter.cuh"
#include "core/registration.h"
#include "ops/deform_conv/deform_conv.h"

namespace tvx::ops::deform_conv {
namespace {

namespace cu = tvx::core::cuda;

constexpr int kThreads = 256;
constexpr int kIm2colChannels = 8;

template <typename scalar_t>
const scalar_t* data_or_null(const at::Tensor& t) {
  return t.defined() ? t.const_data_ptr<scalar_t>() : nullptr;
}

// Work item i = ((channel block * OG + og) * K + k) * (batch * HW) + column: the column
// (image, pixel) varies fastest.
template <typename index_t>
struct Item {
  index_t column, k, og, block, b, pixel;
  __device__ Item(index_t i, const Geometry& g, index_t columns, index_t hw) {
    column = i % columns;
    index_t t = i / columns;
    k = t % static_cast<index_t>(g.taps());
    t /= static_cast<index_t>(g.taps());
    og = t % static_cast<index_t>(g.offset_groups);
    block = t / static_cast<index_t>(g.offset_groups);
    b = column / hw;
    pixel = column % hw;
  }
};

template <typename scalar_t, typename index_t>
__global__ void im2col_kernel(Geometry g, const scalar_t* __restrict__ input, const scalar_t* __restrict__ offset,
                              const scalar_t* __restrict__ mask, scalar_t* __restrict__ columns, index_t total) {
  using T = at::opmath_type<scalar_t>;
  const index_t hw = static_cast<index_t>(g.plane()), ncol = static_cast<index_t>(g.batch) * hw;
  const std::int64_t cpg = g.group_channels(), in_plane = g.height * g.width, taps = g.taps();
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const Item<index_t> it(static_cast<index_t>(i64), g, ncol, hw);
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width);
    const std::int64_t c0 = it.og * cpg + std::int64_t(it.block) * kIm2colChannels;
    const std::int64_t left = (it.og + 1) * cpg - c0;
    const int nc = left < kIm2colChannels ? static_cast<int>(left) : kIm2colChannels;
    const scalar_t* plane = input + (std::int64_t(it.b) * g.channels + c0) * in_plane;
    scalar_t* dst = columns + (c0 * taps + it.k) * std::int64_t(ncol) + it.column;
#pragma unroll
    for (int q = 0; q < kIm2colChannels; ++q) {
      if (q >= nc) break;
      T value = 0;
      if (cr.inside) {
        T v[4];
        corner_values(cr, plane + q * in_plane, v);
        value = s.mask * interpolate(cr, v);
      }
      dst[q * taps * std::int64_t(ncol)] = static_cast<scalar_t>(value);
    }
  }
}

// part_offset [chunks, batch, OG * K * 2, HW] and part_mask [chunks, batch, OG * K, HW]
// (null without a mask); grad_input is null when the ordered scatter adds it instead.
template <typename scalar_t, typename index_t>
__global__ void col2im_kernel(Geometry g, const scalar_t* __restrict__ grad_columns,
                              const scalar_t* __restrict__ input, const scalar_t* __restrict__ offset,
                              const scalar_t* __restrict__ mask, at::opmath_type<scalar_t>* __restrict__ grad_input,
                              at::opmath_type<scalar_t>* __restrict__ part_offset,
                              at::opmath_type<scalar_t>* __restrict__ part_mask, std::int64_t chunk_channels,
                              index_t total) {
  using T = at::opmath_type<scalar_t>;
  const index_t hw = static_cast<index_t>(g.plane()), ncol = static_cast<index_t>(g.batch) * hw;
  const std::int64_t cpg = g.group_channels(), in_plane = g.height * g.width, taps = g.taps();
  const std::int64_t samples = g.samples();
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const Item<index_t> it(static_cast<index_t>(i64), g, ncol, hw);
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width);
    T mw[4];  // the input's gradient weights
#pragma unroll
    for (int q = 0; q < 4; ++q) mw[q] = s.mask * corner_weight(cr, q);
    const std::int64_t c0 = it.og * cpg + std::int64_t(it.block) * chunk_channels;
    const std::int64_t c1 = c0 + chunk_channels < (it.og + 1) * cpg ? c0 + chunk_channels : (it.og + 1) * cpg;
    const scalar_t* gc = grad_columns + it.k * std::int64_t(ncol) + it.column;
    T gy = 0, gx = 0, gm = 0;
    for (std::int64_t c = c0; c < c1; ++c) {
      const T grad = static_cast<T>(gc[c * taps * ncol]);
      const std::int64_t plane = (std::int64_t(it.b) * g.channels + c) * in_plane;
      T v[4];
      corner_values(cr, input + plane, v);
      gy += s.mask * d_dy(cr, v) * grad;
      gx += s.mask * d_dx(cr, v) * grad;
      gm += grad * interpolate(cr, v);
      if (grad_input != nullptr && cr.inside) {
#pragma unroll
        for (int q = 0; q < 4; ++q)
          if ((cr.valid >> q) & 1u) atomicAdd(grad_input + plane + cr.offset[q], mw[q] * grad);
      }
    }
    // Sample (b, og, k, pixel) of chunk `block`.
    const std::int64_t sample = ((std::int64_t(it.b) * g.offset_groups + it.og) * taps + it.k) * hw + it.pixel;
    const std::int64_t base = std::int64_t(it.block) * samples;
    T* po = part_offset + 2 * (base + sample - it.pixel) + it.pixel;
    po[0] = gy;
    po[hw] = gx;
    if (part_mask != nullptr) part_mask[base + sample] = gm;
  }
}

// The deterministic path's entries: each sample's 4 corners, in sample order. key: (b * OG +
// og) * H * W + corner pixel (-1 for none); source: the sample's column in channel og * cpg.
template <typename scalar_t, typename key_t>
__global__ void entries_kernel(Geometry g, const scalar_t* __restrict__ offset, const scalar_t* __restrict__ mask,
                               key_t* __restrict__ key, std::int64_t* __restrict__ source,
                               at::opmath_type<scalar_t>* __restrict__ weight, std::int64_t total) {
  using T = at::opmath_type<scalar_t>;
  const std::int64_t hw = g.plane(), ncol = g.batch * hw, cpg = g.group_channels(), in_plane = g.height * g.width;
  for (std::int64_t i : cu::grid_stride(total)) {
    const Item<std::int64_t> it(i, g, ncol, hw);
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width);
    const std::int64_t src = (it.og * cpg * g.taps() + it.k) * ncol + it.column;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const bool ok = cr.inside && ((cr.valid >> q) & 1u);
      key[4 * i + q] = ok ? static_cast<key_t>((it.b * g.offset_groups + it.og) * in_plane + cr.offset[q]) : key_t(-1);
      source[4 * i + q] = src;
      weight[4 * i + q] = s.mask * corner_weight(cr, q);
    }
  }
}

template <typename Launch>
void with_index(std::int64_t total, Launch&& launch) {
  if (total <= std::numeric_limits<std::int32_t>::max())
    launch(std::int32_t{});
  else
    launch(std::int64_t{});
}

void im2col(const Geometry& g, const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
            at::Tensor& columns) {
  const std::int64_t blocks = cu::ceil_div<std::int64_t>(g.group_channels(), kIm2colChannels);
  const std::int64_t total = blocks * g.samples();
  if (total == 0) return;
  cu::DeviceGuard guard(input);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_im2col_cuda", [&] {
    with_index(total, [&](auto index) {
      using index_t = decltype(index);
      cu::launch(im2col_kernel<scalar_t, index_t>, cu::blocks_for(total, kThreads), kThreads, 0, g,
                 input.const_data_ptr<scalar_t>(), offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask),
                 columns.data_ptr<scalar_t>(), static_cast<index_t>(total));
    });
  });
}

void col2im(const Geometry& g, const at::Tensor& grad_columns, const at::Tensor& input, const at::Tensor& offset,
            const at::Tensor& mask, at::Tensor& grad_input, at::Tensor& grad_offset, at::Tensor& grad_mask) {
  const std::int64_t samples = g.samples(), cpg = g.group_channels();
  if (samples == 0) return;
  cu::DeviceGuard guard(input);
  // Enough threads to fill an H100 (~256K) where the samples alone are few.
  constexpr std::int64_t kTarget = std::int64_t(1) << 18;
  const std::int64_t want = std::clamp<std::int64_t>(cu::ceil_div(kTarget, samples), 1, std::max<std::int64_t>(cpg, 1));
  const std::int64_t chunk_channels = std::max<std::int64_t>(cu::ceil_div(cpg, want), 1);
  const std::int64_t chunks = std::max<std::int64_t>(cu::ceil_div(cpg, chunk_channels), 1);
  const bool ordered = at::globalContext().deterministicAlgorithms();
  const at::ScalarType acc = grad_input.scalar_type();
  // Partial sums straight into the outputs when there is one chunk of the output's dtype.
  const bool direct = chunks == 1 && grad_offset.scalar_type() == acc;
  at::Tensor part_offset = direct ? grad_offset : at::empty({chunks * samples * 2}, grad_input.options());
  at::Tensor part_mask;
  if (g.use_mask) part_mask = direct ? grad_mask : at::empty({chunks * samples}, grad_input.options());
  const std::int64_t total = chunks * samples;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_col2im_cuda", [&] {
    using T = at::opmath_type<scalar_t>;
    with_index(total, [&](auto index) {
      using index_t = decltype(index);
      cu::launch(col2im_kernel<scalar_t, index_t>, cu::blocks_for(total, kThreads), kThreads, 0, g,
                 grad_columns.const_data_ptr<scalar_t>(), input.const_data_ptr<scalar_t>(),
                 offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask),
                 ordered ? nullptr : grad_input.data_ptr<T>(), part_offset.data_ptr<T>(),
                 g.use_mask ? part_mask.data_ptr<T>() : nullptr, chunk_channels, static_cast<index_t>(total));
    });
    if (ordered && cpg > 0) {
      const std::int64_t entries = samples * 4;
      const bool small_keys = g.batch * g.offset_groups * g.height * g.width < std::numeric_limits<std::int32_t>::max();
      core::cuda::Entries e{at::empty({entries}, grad_input.options().dtype(small_keys ? at::kInt : at::kLong)),
                            at::empty({entries}, grad_input.options().dtype(at::kLong)),
                            at::empty({entries}, grad_input.options())};
      AT_DISPATCH_INDEX_TYPES(e.key.scalar_type(), "tvx_deform_entries", [&] {
        cu::launch(entries_kernel<scalar_t, index_t>, cu::blocks_for(samples, kThreads), kThreads, 0, g,
                   offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask), e.key.data_ptr<index_t>(),
                   e.source.data_ptr<std::int64_t>(), e.weight.data_ptr<T>(), samples);
      });
      // grad_input [batch, C, H, W] as [batch * OG, C / OG, H, W]: key (b * OG + og, pixel).
      at::Tensor planes = grad_input.view({g.batch * g.offset_groups, cpg, g.height, g.width});
      core::cuda::scatter_entries(e, grad_columns, g.taps() * g.batch * g.plane(), planes, 1, cpg,
                                  /*accumulate=*/false);
    }
  });
  if (!direct) {
    grad_offset.copy_(part_offset.view({chunks, g.batch, g.offset_groups * g.taps() * 2, g.out_h, g.out_w}).sum(0));
    if (g.use_mask)
      grad_mask.copy_(part_mask.view({chunks, g.batch, g.offset_groups * g.taps(), g.out_h, g.out_w}).sum(0));
  }
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { Backend<&im2col, &col2im>::define(m); }

}  // namespace tvx::ops::deform_conv
