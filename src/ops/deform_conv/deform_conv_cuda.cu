// deform_conv2d's kernels on CUDA: float32, float64, and float16/bfloat16 read natively and
// computed in float32. Channels last throughout (the driver hands the input in channels_last
// memory, and the columns as [images * HW, groups, K, C / groups]): one thread per (sample,
// channel), a warp per 32 channels of one sample, so that every load, store and atomic of a
// warp is one contiguous run of memory. torchvision's kernels are channels first, where a
// warp's samples scatter over the image.
// - im2col: each thread interpolates its channel at its sample.
// - col2im, one pass: the input's gradient (atomics into a float32/float64 buffer, a warp's
//   32 to consecutive addresses), and the offset's and mask's gradients summed over the warp's
//   channels by shuffles, then over the warps of an offset group in a fixed order: always
//   deterministic. (torchvision runs two kernels, the second one thread per offset value
//   looping over every channel.)
// - Under torch.use_deterministic_algorithms(True) the input's gradient goes through the
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

template <typename scalar_t>
const scalar_t* data_or_null(const at::Tensor& t) {
  return t.defined() ? t.const_data_ptr<scalar_t>() : nullptr;
}

// Sizes the kernels index with. An offset group's channels are padded to whole warps.
struct Layout {
  std::int64_t groups, group_width;  // weight groups and their channels
  std::int64_t padded;               // offset group channels rounded up to a multiple of 32
  std::int64_t columns;              // images * HW
};

Layout layout_of(const Geometry& g, std::int64_t groups) {
  return Layout{groups, g.channels / groups, cu::ceil_div<std::int64_t>(g.group_channels(), 32) * 32,
                g.batch * g.plane()};
}

// Work item i = ((column * K + k) * OG + og) * padded + lane channel.
template <typename index_t>
struct Item {
  index_t column, k, og, local, b, pixel;
  __device__ Item(index_t i, const Geometry& g, const Layout& l, index_t hw) {
    local = i % static_cast<index_t>(l.padded);
    index_t t = i / static_cast<index_t>(l.padded);
    og = t % static_cast<index_t>(g.offset_groups);
    t /= static_cast<index_t>(g.offset_groups);
    k = t % static_cast<index_t>(g.taps());
    column = t / static_cast<index_t>(g.taps());
    b = column / hw;
    pixel = column % hw;
  }
  // Offset of channel c of this sample in the columns [columns, groups, K, group_width].
  __device__ std::int64_t column_offset(const Geometry& g, const Layout& l, std::int64_t c) const {
    return ((std::int64_t(column) * l.groups + c / l.group_width) * g.taps() + k) * l.group_width + c % l.group_width;
  }
};

template <typename T, typename scalar_t>
__device__ inline void corner_values_nhwc(const Corners<T>& cr, const scalar_t* image, std::int64_t channels,
                                          T v[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) v[q] = (cr.valid >> q) & 1u ? static_cast<T>(image[cr.offset[q] * channels]) : T(0);
}

template <typename scalar_t, typename index_t>
__global__ void im2col_kernel(Geometry g, Layout l, const scalar_t* __restrict__ input,
                              const scalar_t* __restrict__ offset, const scalar_t* __restrict__ mask,
                              scalar_t* __restrict__ columns, index_t total) {
  using T = at::opmath_type<scalar_t>;
  const index_t hw = static_cast<index_t>(g.plane());
  const std::int64_t in_plane = g.height * g.width;
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const Item<index_t> it(static_cast<index_t>(i64), g, l, hw);
    if (it.local >= g.group_channels()) continue;
    const std::int64_t c = it.og * g.group_channels() + it.local;
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width);
    T value = 0;
    if (cr.inside) {
      T v[4];
      corner_values_nhwc(cr, input + std::int64_t(it.b) * in_plane * g.channels + c, g.channels, v);
      value = s.mask * interpolate(cr, v);
    }
    columns[it.column_offset(g, l, c)] = static_cast<scalar_t>(value);
  }
}

template <typename T>
__device__ inline T warp_sum(T v) {
#pragma unroll
  for (int d = 16; d > 0; d /= 2) v += __shfl_down_sync(0xffffffffu, v, d);
  return v;
}

// part_offset [warps per offset group, batch, OG * K * 2, HW], part_mask [warps per offset
// group, batch, OG * K, HW] (null without a mask); grad_input null when the ordered scatter
// adds it instead. Every lane of a warp runs every iteration (total is a multiple of 32).
template <typename scalar_t, typename index_t>
__global__ void col2im_kernel(Geometry g, Layout l, const scalar_t* __restrict__ grad_columns,
                              const scalar_t* __restrict__ input, const scalar_t* __restrict__ offset,
                              const scalar_t* __restrict__ mask, at::opmath_type<scalar_t>* __restrict__ grad_input,
                              at::opmath_type<scalar_t>* __restrict__ part_offset,
                              at::opmath_type<scalar_t>* __restrict__ part_mask, index_t total) {
  using T = at::opmath_type<scalar_t>;
  const index_t hw = static_cast<index_t>(g.plane());
  const std::int64_t in_plane = g.height * g.width, samples = g.samples();
  for (std::int64_t i64 : cu::grid_stride(total)) {
    const Item<index_t> it(static_cast<index_t>(i64), g, l, hw);
    const Sample<T> s = sample_at<T>(g, offset, mask, it.b, it.og, it.k, it.pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width);
    T gy = 0, gx = 0, gm = 0;
    if (it.local < g.group_channels()) {
      const std::int64_t c = it.og * g.group_channels() + it.local;
      const T grad = static_cast<T>(grad_columns[it.column_offset(g, l, c)]);
      const std::int64_t image = std::int64_t(it.b) * in_plane * g.channels + c;
      T v[4];
      corner_values_nhwc(cr, input + image, g.channels, v);
      gy = s.mask * d_dy(cr, v) * grad;
      gx = s.mask * d_dx(cr, v) * grad;
      gm = grad * interpolate(cr, v);
      if (grad_input != nullptr && cr.inside) {
#pragma unroll
        for (int q = 0; q < 4; ++q)
          if ((cr.valid >> q) & 1u)
            atomicAdd(grad_input + image + cr.offset[q] * g.channels, s.mask * corner_weight(cr, q) * grad);
      }
    }
    gy = warp_sum(gy);
    gx = warp_sum(gx);
    gm = warp_sum(gm);
    if ((threadIdx.x & 31) == 0) {
      // Sample (b, og, k, pixel) of warp `local / 32` of its offset group.
      const std::int64_t sample = ((std::int64_t(it.b) * g.offset_groups + it.og) * g.taps() + it.k) * hw;
      const std::int64_t base = std::int64_t(it.local / 32) * samples;
      T* po = part_offset + 2 * (base + sample) + it.pixel;
      po[0] = gy;
      po[hw] = gx;
      if (part_mask != nullptr) part_mask[base + sample + it.pixel] = gm;
    }
  }
}

// The deterministic path's entries, 4 corners per (sample, block of channels within one offset
// group and one weight group), in sample order. key: (b * blocks + block) * H * W + corner
// pixel (-1 for none); source: the block's first channel in the columns.
template <typename scalar_t, typename key_t>
__global__ void entries_kernel(Geometry g, Layout l, std::int64_t block_width, const scalar_t* __restrict__ offset,
                               const scalar_t* __restrict__ mask, key_t* __restrict__ key,
                               std::int64_t* __restrict__ source, at::opmath_type<scalar_t>* __restrict__ weight,
                               std::int64_t total) {
  using T = at::opmath_type<scalar_t>;
  const std::int64_t hw = g.plane(), in_plane = g.height * g.width, taps = g.taps();
  const std::int64_t per_group = g.group_channels() / block_width, blocks = g.channels / block_width;
  for (std::int64_t i : cu::grid_stride(total)) {
    const std::int64_t local = i % per_group, sample = i / per_group;  // sample = ((b * OG + og) * K + k) * HW + p
    const std::int64_t pixel = sample % hw, k = (sample / hw) % taps, og = (sample / hw / taps) % g.offset_groups;
    const std::int64_t b = sample / hw / taps / g.offset_groups;
    const Sample<T> s = sample_at<T>(g, offset, mask, b, og, k, pixel);
    const Corners<T> cr = corners(s.y, s.x, g.height, g.width);
    const std::int64_t block = og * per_group + local, c0 = block * block_width, column = b * hw + pixel;
    const std::int64_t src = ((column * l.groups + c0 / l.group_width) * taps + k) * l.group_width + c0 % l.group_width;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const bool ok = cr.inside && ((cr.valid >> q) & 1u);
      key[4 * i + q] = ok ? static_cast<key_t>((b * blocks + block) * in_plane + cr.offset[q]) : key_t(-1);
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

void im2col(const Geometry& g, std::int64_t groups, const at::Tensor& input, const at::Tensor& offset,
            const at::Tensor& mask, at::Tensor& columns) {
  const Layout l = layout_of(g, groups);
  const std::int64_t total = l.columns * g.taps() * g.offset_groups * l.padded;
  if (total == 0 || g.channels == 0) return;
  cu::DeviceGuard guard(input);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_im2col_cuda", [&] {
    with_index(total, [&](auto index) {
      using index_t = decltype(index);
      cu::launch(im2col_kernel<scalar_t, index_t>, cu::blocks_for(total, kThreads), kThreads, 0, g, l,
                 input.const_data_ptr<scalar_t>(), offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask),
                 columns.data_ptr<scalar_t>(), static_cast<index_t>(total));
    });
  });
}

void col2im(const Geometry& g, std::int64_t groups, const at::Tensor& grad_columns, const at::Tensor& input,
            const at::Tensor& offset, const at::Tensor& mask, at::Tensor& grad_input, at::Tensor& grad_offset,
            at::Tensor& grad_mask) {
  const Layout l = layout_of(g, groups);
  const std::int64_t samples = g.samples(), warps = l.padded / 32;
  const std::int64_t total = l.columns * g.taps() * g.offset_groups * l.padded;
  if (samples == 0) return;
  if (g.channels == 0) {
    grad_offset.zero_();
    if (g.use_mask) grad_mask.zero_();
    return;
  }
  cu::DeviceGuard guard(input);
  const bool ordered = at::globalContext().deterministicAlgorithms();
  const at::ScalarType acc = grad_input.scalar_type();
  // Partial sums straight into the outputs when an offset group is one warp of their dtype.
  const bool direct = warps == 1 && grad_offset.scalar_type() == acc;
  at::Tensor part_offset = direct ? grad_offset : at::empty({warps * samples * 2}, grad_input.options());
  at::Tensor part_mask;
  if (g.use_mask) part_mask = direct ? grad_mask : at::empty({warps * samples}, grad_input.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "tvx_deform_col2im_cuda", [&] {
    using T = at::opmath_type<scalar_t>;
    with_index(total, [&](auto index) {
      using index_t = decltype(index);
      // The blocks stay whole warps, and the grid-stride step a multiple of 32.
      cu::launch(col2im_kernel<scalar_t, index_t>, cu::blocks_for(total, kThreads), kThreads, 0, g, l,
                 grad_columns.const_data_ptr<scalar_t>(), input.const_data_ptr<scalar_t>(),
                 offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask),
                 ordered ? nullptr : grad_input.data_ptr<T>(), part_offset.data_ptr<T>(),
                 g.use_mask ? part_mask.data_ptr<T>() : nullptr, static_cast<index_t>(total));
    });
    if (ordered) {
      const std::int64_t blocks = scatter_groups(g, groups), width = g.channels / blocks;
      const std::int64_t items = samples * (g.group_channels() / width), entries = items * 4;
      const bool small_keys = g.batch * blocks * g.height * g.width < std::numeric_limits<std::int32_t>::max();
      core::cuda::Entries e{at::empty({entries}, grad_input.options().dtype(small_keys ? at::kInt : at::kLong)),
                            at::empty({entries}, grad_input.options().dtype(at::kLong)),
                            at::empty({entries}, grad_input.options())};
      AT_DISPATCH_INDEX_TYPES(e.key.scalar_type(), "tvx_deform_entries", [&] {
        cu::launch(entries_kernel<scalar_t, index_t>, cu::blocks_for(items, kThreads), kThreads, 0, g, l, width,
                   offset.const_data_ptr<scalar_t>(), data_or_null<scalar_t>(mask), e.key.data_ptr<index_t>(),
                   e.source.data_ptr<std::int64_t>(), e.weight.data_ptr<T>(), items);
      });
      core::cuda::scatter_entries(e, grad_columns, /*grad_channel_stride=*/1, grad_input, blocks, width,
                                  /*accumulate=*/false, /*channels_last=*/true);
    }
  });
  if (!direct) {
    grad_offset.copy_(part_offset.view({warps, g.batch, g.offset_groups * g.taps() * 2, g.out_h, g.out_w}).sum(0));
    if (g.use_mask)
      grad_mask.copy_(part_mask.view({warps, g.batch, g.offset_groups * g.taps(), g.out_h, g.out_w}).sum(0));
  }
}

}  // namespace

TVX_LIBRARY_IMPL(CUDA, m) { Backend</*ChannelsLast=*/true, &im2col, &col2im>::define(m); }

}  // namespace tvx::ops::deform_conv
